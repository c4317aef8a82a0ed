"""Embeddings routes of the simulator: ``POST .../embeddings`` and Cohere's ``POST .../v2/embed``.

Any path prefix is accepted, and the prefix picks the format of ``.../embeddings``: one containing
"voyage" answers as Voyage (``/voyage/v1/embeddings``), one containing "jina" as Jina, anything else
as OpenAI (``/v1/embeddings``, ``/mistral/v1/embeddings``). ``.../v2/embed`` is Cohere's. Answers come
from synth_embeddings (deterministic unit vectors, 1024 dimensions unless the request asks for fewer
or more); ``rec:<key>`` replays a recording (e.g. ``rec:openai/embeddings-base64``,
``rec:cohere/embed-v2``). Keys are ``Authorization: Bearer``; faults and the request log work as on
the chat wires (see json_endpoint.py). Gemini's ``:batchEmbedContents`` lives in gemini_wire.py.
"""

from __future__ import annotations

from aiohttp import web

from aigateway.simulators import synth_embeddings
from aigateway.simulators.json_endpoint import COHERE, JINA, OPENAI, VOYAGE, JsonWire, Synthesizer, serve

EMBEDDINGS_PATH = r"/{prefix:(?:.*/)?}embeddings"
COHERE_EMBED_PATH = r"/{prefix:(?:.*/)?}v2/embed"


def register(app: web.Application) -> None:
    app.router.add_post(EMBEDDINGS_PATH, embeddings)
    app.router.add_post(COHERE_EMBED_PATH, cohere_embed)


def wire_for(prefix: str) -> tuple[JsonWire, Synthesizer]:
    """Which wire answers ``{prefix}embeddings``."""
    lowered = prefix.lower()
    if "voyage" in lowered:
        return VOYAGE, synth_embeddings.voyage_embeddings
    if "jina" in lowered:
        return JINA, synth_embeddings.jina_embeddings
    return OPENAI, synth_embeddings.openai_embeddings


async def embeddings(request: web.Request) -> web.StreamResponse:
    wire, synthesize = wire_for(request.match_info.get("prefix", ""))
    return await serve(request, wire, synthesize)


async def cohere_embed(request: web.Request) -> web.StreamResponse:
    return await serve(request, COHERE, synth_embeddings.cohere_embed)
