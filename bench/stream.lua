-- Taken from the project's shared bench kit (/work/shared/bench).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_KEY") or "sk-bench")
wrk.body = '{"model":"' .. (os.getenv("BENCH_MODEL") or "gpt-bench-stream") .. '","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":64}'
