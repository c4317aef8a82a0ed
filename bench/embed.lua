-- The embeddings request (bench/run.py's own, not from the shared kit): one short text, float vectors.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_KEY") or "sk-bench")
wrk.body = '{"model":"' .. (os.getenv("BENCH_MODEL") or "embed-bench") .. '","input":"The quick brown fox","encoding_format":"float"}'
