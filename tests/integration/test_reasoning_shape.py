"""One reasoning shape for every OpenAI-wire vendor: reasoning text in `reasoning_content`."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.conftest import RECORDINGS, Gateway

USER = [{"role": "user", "content": "Think, then answer."}]


def _recorded(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


def _thinking_text(content: Any) -> tuple[str, str]:
    """(reasoning, text) of a Mistral-style content part list."""
    thoughts, texts = [], []
    for part in content:
        if part.get("type") == "thinking":
            thoughts += [t["text"] for t in part["thinking"]]
        elif part.get("type") == "text":
            texts.append(part["text"])
    return "".join(thoughts), "".join(texts)


def test_reasoning_field_becomes_reasoning_content(gateway: Gateway) -> None:
    for model, recording in (
        ("rec/groq-json-reasoning", "groq/chat-json-schema-reasoning"),
        ("rec/cerebras-reasoning", "cerebras/chat-reasoning"),
    ):
        want = json.loads(_recorded(recording)["response"]["body"])["choices"][0]["message"]
        done = gateway.client().chat.completions.create(model=model, messages=USER)
        extra = done.choices[0].message.model_extra or {}
        assert extra["reasoning_content"] == want["reasoning"]
        assert extra["reasoning"] == want["reasoning"]  # the vendor's own field is kept
        assert done.choices[0].message.content == want["content"]


def test_cerebras_reasoning_tokens_are_billed_as_output(gateway: Gateway) -> None:
    raw = gateway.client().chat.completions.with_raw_response.create(
        model="rec/cerebras-reasoning", messages=USER, extra_headers={"X-Request-Id": "rs-cerebras"}
    )
    usage = json.loads(_recorded("cerebras/chat-reasoning")["response"]["body"])["usage"]
    completion = raw.parse()
    assert completion.usage is not None and completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 25
    row = gateway.ledger_row("rs-cerebras")
    assert row["reasoning_units"] == usage["completion_tokens_details"]["reasoning_tokens"]
    # 3 $/Mtok in, 15 $/Mtok out, reasoning priced as output.
    assert row["cost_nanousd"] == usage["prompt_tokens"] * 3000 + usage["completion_tokens"] * 15000


def test_mistral_thinking_parts_are_flattened(gateway: Gateway) -> None:
    want = json.loads(_recorded("mistral/chat-thinking-magistral")["response"]["body"])["choices"][0][
        "message"
    ]
    reasoning, text = _thinking_text(want["content"])
    done = gateway.client().chat.completions.create(model="rec/mistral-magistral", messages=USER)
    message = done.choices[0].message
    assert message.content == text
    assert (message.model_extra or {})["reasoning_content"] == reasoning


def test_openrouter_stream_relayed_with_its_reasoning_details(gateway: Gateway) -> None:
    """OpenRouter's o3 stream carries encrypted reasoning only (reasoning: null): relayed intact."""
    body = _recorded("openrouter/chat-stream-reasoning")["response"]["body"]
    want_reasoning = ""
    want_text = ""
    for line in body.splitlines():
        if line.startswith("data: {"):
            chunk = json.loads(line[6:])
            for choice in chunk.get("choices") or []:
                want_reasoning += choice["delta"].get("reasoning") or ""
                want_text += choice["delta"].get("content") or ""
    stream = gateway.client().chat.completions.create(
        model="rec/openrouter-stream-reasoning", messages=USER, stream=True
    )
    got_reasoning = got_text = ""
    for chunk in stream:
        for choice in chunk.choices:
            got_reasoning += (choice.delta.model_extra or {}).get("reasoning_content") or ""
            got_text += choice.delta.content or ""
    assert got_text == want_text
    assert got_reasoning == want_reasoning == ""
