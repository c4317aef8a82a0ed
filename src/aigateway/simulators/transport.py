"""The simulated transport: test-mode requests answered in process, in the upstream's own wire format.

Test keys go through the real adapters; only the send differs. `SimulatedTransport.send` answers an
`UpstreamRequest` the way that upstream would, without a socket, by ``(request.wire,
request.operation)``:

* chat: ``openai`` (providers/simulated: a chat completion, or SSE chunks ending ``data: [DONE]``),
  ``anthropic`` (anthropic_wire: the request checked as the API checks it, a message or its event
  stream), ``gemini`` (gemini_wire: validated, ``generateContent`` / ``streamGenerateContent``, SSE
  with CRLF separators when the URL asks ``alt=sse``, else a JSON array piece by piece). Streaming is
  decided by what the upstream reads: the body's ``stream`` flag, or Gemini's method.
* embeddings (synth_embeddings) for ``openai``, ``voyage``, ``jina``, ``cohere``, ``gemini``,
  ``cloudflare``; the vector size defaults to ``request.context["dimensions"]``, else 1024.
* rerank (synth_rerank) for ``cohere`` (v1 or v2 by URL), ``voyage``, ``jina``, ``cloudflare``.

Anything else answers 501 with an OpenAI-style error body rather than raising (and a synthesizer
that fails answers 500, logged). Nothing is logged per request. The answer is a
`SimulatedResponse`, which has the shape of aiohttp's ClientResponse that the pipeline reads
(`providers/wire/base.UpstreamResponse`): a stream's body comes one event per piece, with a yield to
the event loop between pieces so a client that goes away can cancel it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from aigateway.providers.simulated import synthesize_chunks, synthesize_completion
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import UpstreamRequest
from aigateway.simulators import anthropic_wire, gemini_wire, images_wire, synth_embeddings, synth_rerank
from aigateway.simulators.answers import Answer, gemini_error, openai_error, positive_int
from aigateway.simulators.synth_audio import SPEECH_WIRES, simulated_speech
from aigateway.simulators.synth_ml import simulated_handlers as ml_handlers
from aigateway.simulators.synth_transcripts import SIMULATED_WIRES, simulated_transcript

JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream"
DONE = b"data: [DONE]\n\n"
_GEMINI_PATH = re.compile(r"/models/(?P<model>[^/].*?):(?P<method>[A-Za-z]+)$")
_CLOUDFLARE_PATH = re.compile(r"/run/(?P<model>.+)$")
log = logging.getLogger("aigateway.simulated")


class SimulatedBody:
    """A response body read piece by piece (aiohttp's StreamReader.iter_any has this shape)."""

    __slots__ = ("_pieces",)

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self._pieces = pieces

    async def iter_any(self) -> AsyncIterator[bytes]:
        for index, piece in enumerate(self._pieces):
            if index:
                await asyncio.sleep(0)  # a point where a cancelled stream stops
            yield piece

    async def read(self) -> bytes:
        return b"".join(self._pieces)


class SimulatedResponse:
    """An upstream answer produced in process; satisfies `UpstreamResponse`."""

    __slots__ = ("_body", "_content_type", "_headers", "closed", "status")

    def __init__(
        self,
        status: int,
        pieces: Sequence[bytes],
        content_type: str = JSON_TYPE,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self._body = SimulatedBody(pieces)
        self._content_type = content_type
        full = {"Content-Type": content_type + ("; charset=utf-8" if content_type == SSE_TYPE else "")}
        self._headers = CIMultiDictProxy(CIMultiDict({**full, **(headers or {})}))
        self.closed = False

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self._headers

    @property
    def content_type(self) -> str:
        """The media type without parameters, as aiohttp gives it."""
        return self._content_type

    @property
    def content(self) -> SimulatedBody:
        return self._body

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    async def read(self) -> bytes:
        return await self._body.read()

    def release(self) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True


def json_response(status: int, payload: Any) -> SimulatedResponse:
    return SimulatedResponse(status, (orjson.dumps(payload),))


def answer_response(answer: Answer) -> SimulatedResponse:
    return json_response(answer.status, answer.payload)


def _parse(raw: bytes | None) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None


def _native(request: UpstreamRequest) -> int | None:
    value = request.context.get("dimensions")
    return value if isinstance(value, int) and positive_int(value) else None


def _gemini_target(request: UpstreamRequest) -> tuple[str, str, bool] | None:
    """The model, method and whether SSE was asked, from a Gemini URL."""
    parts = urlsplit(request.url)
    found = _GEMINI_PATH.search(unquote(parts.path))
    if found is None:
        return None
    sse = "sse" in parse_qs(parts.query).get("alt", [])
    return found["model"], found["method"], sse


# -- chat -----------------------------------------------------------------------------------------
def _openai_chat(request: UpstreamRequest, body: Any) -> SimulatedResponse:
    if not isinstance(body, dict):
        return answer_response(openai_error(400, "We could not parse the JSON body of your request."))
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return answer_response(openai_error(400, "you must provide a model parameter", param="model"))
    if body.get("stream") is True:
        chunks = synthesize_chunks(body, model=model)
        pieces = (*(b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks), DONE)
        return SimulatedResponse(200, pieces, SSE_TYPE, {"Cache-Control": "no-cache"})
    return json_response(200, synthesize_completion(body, model=model))


class _AnthropicChat:
    """Anthropic's Messages API; remembers prompt prefixes so a repeated cached prefix is a cache read."""

    def __init__(self) -> None:
        self.prompt_cache = anthropic_wire.PromptCache()

    def __call__(self, request: UpstreamRequest, body: Any) -> SimulatedResponse:
        if not any(k.lower() == "anthropic-version" for k in request.headers):
            problem: str | None = "anthropic-version: header is required"
        else:
            problem = anthropic_wire.check_request(body)
        if problem is not None:
            return json_response(400, anthropic_wire.error_payload("invalid_request_error", problem))
        message = anthropic_wire.synthesize_message(body, self.prompt_cache)
        if body.get("stream") is True:
            return SimulatedResponse(200, anthropic_wire.stream_events(message), SSE_TYPE)
        return json_response(200, message)


def _gemini_chat(request: UpstreamRequest, body: Any) -> SimulatedResponse:
    target = _gemini_target(request)
    if target is None or target[1] not in gemini_wire.METHODS:
        return answer_response(gemini_error(404, f"The URL {request.url} names no generate method."))
    model, method, sse = target
    if not isinstance(body, dict):
        return answer_response(gemini_error(400, "Invalid JSON payload received. Expected an object."))
    problem = gemini_wire.validate(body, model)
    if problem is not None:
        return answer_response(gemini_error(400, problem))
    whole, chunks = gemini_wire.synthesize(body, model)
    if method == "generateContent":
        return json_response(200, whole)
    if sse:
        pieces = tuple(b"data: " + orjson.dumps(c) + b"\r\n\r\n" for c in chunks)
        return SimulatedResponse(200, pieces, SSE_TYPE, {"Content-Disposition": "attachment"})
    elements = [(b"[" if i == 0 else b",\r\n") + orjson.dumps(c) for i, c in enumerate(chunks)]
    return SimulatedResponse(200, (*elements, b"]"), JSON_TYPE)


# -- embeddings and rerank --------------------------------------------------------------------------
def _gemini_embeddings(request: UpstreamRequest, body: Any) -> SimulatedResponse:
    target = _gemini_target(request)
    if target is None or target[1] not in ("batchEmbedContents", "embedContent"):
        return answer_response(gemini_error(404, f"The URL {request.url} names no embedding method."))
    model, method, _ = target
    if method == "embedContent":
        return answer_response(synth_embeddings.gemini_embed_content(body, model, _native(request)))
    return answer_response(synth_embeddings.gemini_batch_embed(body, model, _native(request)))


def _cloudflare_model(request: UpstreamRequest) -> str:
    found = _CLOUDFLARE_PATH.search(unquote(urlsplit(request.url).path))
    return found["model"] if found else ""


def _cohere_version(request: UpstreamRequest) -> int:
    return 1 if urlsplit(request.url).path.endswith("/v1/rerank") else 2


Handler = Callable[[UpstreamRequest, Any], SimulatedResponse]


def _speech(request: UpstreamRequest, body: Any) -> SimulatedResponse:
    """Text to speech on every TTS wire (synth_audio): valid audio, in several pieces."""
    answer = simulated_speech(request.wire, request.url, body)
    return SimulatedResponse(answer.status, answer.pieces, answer.content_type)


def _transcript(request: UpstreamRequest, body: Any) -> SimulatedResponse:
    """Speech to text on every STT wire (synth_transcripts): JSON, or text for text/srt/vtt."""
    reply = simulated_transcript(request)
    if isinstance(reply.body, str):
        return SimulatedResponse(reply.status, (reply.body.encode(),), reply.content_type)
    return json_response(reply.status, reply.body)


def _embeddings(synthesize: Callable[[Any, int | None], Answer]) -> Handler:
    return lambda request, body: answer_response(synthesize(body, _native(request)))


def _rerank(synthesize: Callable[[Any], Answer]) -> Handler:
    return lambda request, body: answer_response(synthesize(body))


class SimulatedTransport:
    """Answers upstream requests in process with the deterministic simulated provider."""

    name = "simulated"

    def __init__(self) -> None:
        self.handlers: dict[tuple[str, str], Handler] = {
            ("openai", "chat"): _openai_chat,
            ("anthropic", "chat"): _AnthropicChat(),
            ("gemini", "chat"): _gemini_chat,
            ("openai", "embeddings"): _embeddings(synth_embeddings.openai_embeddings),
            ("voyage", "embeddings"): _embeddings(synth_embeddings.voyage_embeddings),
            ("jina", "embeddings"): _embeddings(synth_embeddings.jina_embeddings),
            ("cohere", "embeddings"): _embeddings(synth_embeddings.cohere_embed),
            ("gemini", "embeddings"): _gemini_embeddings,
            ("cloudflare", "embeddings"): lambda request, body: answer_response(
                synth_embeddings.cloudflare_embeddings(body, _cloudflare_model(request), _native(request))
            ),
            ("cohere", "rerank"): lambda request, body: answer_response(
                synth_rerank.cohere_rerank(body, _cohere_version(request))
            ),
            ("voyage", "rerank"): _rerank(synth_rerank.voyage_rerank),
            ("jina", "rerank"): _rerank(synth_rerank.jina_rerank),
            ("cloudflare", "rerank"): _rerank(synth_rerank.cloudflare_rerank),
            **dict.fromkeys(SIMULATED_WIRES, _transcript),
            **dict.fromkeys(SPEECH_WIRES, _speech),
            **ml_handlers(answer_response),  # moderations and the task operations (synth_ml)
            **images_wire.simulated_handlers(SimulatedResponse),
        }

    async def send(self, vendor: VendorProfile, request: UpstreamRequest) -> SimulatedResponse:
        handler = self.handlers.get((request.wire, request.operation))
        if handler is None:
            message = (
                f"The simulated provider does not answer {request.operation} requests on the "
                f"{request.wire} wire (vendor '{vendor.name}')."
            )
            return json_response(501, _error(message, "not_implemented"))
        try:
            return handler(request, _parse(request.body))
        except Exception:  # a simulator bug answers like a failing upstream, and is logged
            log.exception("the simulated provider failed on a %s %s request", request.wire, request.operation)
            return json_response(
                500, _error("The simulated provider failed on this request.", "server_error")
            )


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}
