"""Models for the native-wire integration tests (Anthropic, Gemini), served by the simulator.

Each entry is a ``[[models]]`` table for the test gateway's config. The simulator replays a
recording when the upstream model id names one (see src/aigateway/simulators).
"""

from __future__ import annotations

from typing import Any

from tests.support.gemini import NON_STREAM, STREAMS

ANTHROPIC_MODELS: list[dict[str, Any]] = [
    # Anthropic: every recording (model "claude-rec/<file>", upstream "rec:anthropic/<file>"), synthesized
    # models with and without native structured output, one model per injected fault. Sonnet prices.
    {
        "id": model_id,
        "capabilities": ["tools", "parallel_tools", "vision", "json_mode", "reasoning", "prompt_caching"]
        + (["json_schema"] if native_json else []),
        "context_window": 200000,
        "max_output_tokens": 64000,
        "pricing": {
            "input_per_mtok": "3",
            "output_per_mtok": "15",
            "cached_input_per_mtok": "0.3",
            "cache_write_per_mtok": "3.75",
        },
        "deployments": [{"provider": "anthropic", "upstream_model": upstream}],
    }
    for model_id, upstream, native_json in (
        *(
            (f"claude-rec/{name}", f"rec:anthropic/{name}", True)
            for name in (
                "error-400-invalid-request",
                "error-401-authentication",
                "error-404-not-found",
                "messages-basic-max-tokens",
                "messages-image-base64",
                "messages-prompt-cache-read",
                "messages-redacted-thinking-stream",
                "messages-stream-prefill-stop-sequence",
                "messages-stream-text",
                "messages-structured-output-stream",
                "messages-thinking-stream",
                "messages-thinking-tool-use-stream",
                "messages-thinking",
                "messages-tool-result",
                "messages-tool-use-stream-empty-input",
                "messages-tool-use-stream",
                "messages-tool-use",
            )
        ),
        ("claude-sim/sonnet", "claude-sim-sonnet", True),
        ("claude-sim/legacy", "claude-sim-legacy", False),
        *(
            (f"claude-sim/{kind}", f"claude-fault-{kind}", True)
            for kind in ("e429", "e529", "e400", "midstream", "cut")
        ),
    )
]
# Gemini: every generate-content / stream recording (model "rec.gemini.<file>"), synthesized models
# named like real ones (the adapter and the simulator key thinking and thought signatures off
# "gemini-2.5" / "gemini-3"), one model per injected fault. Gemini 2.5 Flash prices.
GEMINI_MODELS: list[dict[str, Any]] = [
    {
        "id": f"gemtest/{slug}",
        "capabilities": ["tools", "parallel_tools", "vision", "json_mode", "json_schema", "reasoning"][:caps],
        "context_window": 1048576,
        "max_output_tokens": 65536,
        "pricing": {"input_per_mtok": "0.3", "output_per_mtok": "2.5", "cached_input_per_mtok": "0.03"},
        "deployments": [{"provider": "google", "upstream_model": upstream}],
    }
    for slug, upstream, caps in (
        *((f"rec-{name}", f"rec.gemini.{name}", 6) for name in (*NON_STREAM, *STREAMS, "error-404-model")),
        ("flash-2.5", "gemini-2.5-flash-sim", 6),
        ("flash-3", "gemini-3-flash-sim", 6),
        ("plain", "gemini-2.0-flash-sim", 5),
        *((f"fault-{kind}", f"gemini-2.5-flash-fault-{kind}", 1) for kind in ("e429", "e500", "e503", "cut")),
    )
]
