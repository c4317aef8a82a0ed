"""Rerank routes of the simulator: ``POST .../rerank`` (Cohere, Voyage, Jina) and Cloudflare's ``ai/run``.

The path picks the format of ``.../rerank``: ``.../v2/rerank`` is Cohere's v2 API, and so is any
path whose prefix contains "cohere" (``/cohere/v1/rerank`` being the legacy v1 answer); a prefix
containing "jina" answers as Jina; anything else as Voyage (``/v1/rerank``, ``/voyage/v1/rerank``).

``POST .../ai/run/{model}`` is Cloudflare Workers AI (``/client/v4/accounts/{id}/ai/run/@cf/baai/
bge-reranker-base``): a body with ``query`` and ``contexts`` is reranked, one with ``text`` embedded.

Scores come from synth_rerank (lexical overlap, deterministic); ``rec:<key>`` replays a recording
(e.g. ``rec:cohere/rerank-v2``, ``rec:voyage/rerank``; for Cloudflare the model in the URL). Keys
are ``Authorization: Bearer``; faults and the request log work as on the chat wires.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aiohttp import web

from aigateway.simulators import synth_embeddings, synth_rerank
from aigateway.simulators.answers import Answer
from aigateway.simulators.json_endpoint import CLOUDFLARE, COHERE, JINA, VOYAGE, JsonWire, Synthesizer, serve

RERANK_PATH = r"/{prefix:(?:.*/)?}rerank"
CLOUDFLARE_PATH = r"/{prefix:(?:.*/)?}ai/run/{model:.+}"


def register(app: web.Application) -> None:
    app.router.add_post(CLOUDFLARE_PATH, cloudflare_run)
    app.router.add_post(RERANK_PATH, rerank)


def wire_for(prefix: str) -> tuple[JsonWire, Synthesizer]:
    """Which wire answers ``/{prefix}rerank``."""
    lowered = prefix.lower()
    if lowered.endswith("v2/") or "cohere" in lowered:
        version = 1 if lowered.endswith("v1/") else 2
        return COHERE, partial(synth_rerank.cohere_rerank, version=version)
    if "jina" in lowered:
        return JINA, synth_rerank.jina_rerank
    return VOYAGE, synth_rerank.voyage_rerank


async def rerank(request: web.Request) -> web.StreamResponse:
    wire, synthesize = wire_for(request.match_info.get("prefix", ""))
    return await serve(request, wire, synthesize)


def cloudflare_answer(body: Any, model: str) -> Answer:
    """A Workers AI answer: rerank for ``query`` + ``contexts``, embeddings for ``text``."""
    if isinstance(body, dict) and "text" in body and "query" not in body:
        return synth_embeddings.cloudflare_embeddings(body, model)
    return synth_rerank.cloudflare_rerank(body)


async def cloudflare_run(request: web.Request) -> web.StreamResponse:
    model = request.match_info["model"]
    return await serve(request, CLOUDFLARE, partial(cloudflare_answer, model=model), model=model)
