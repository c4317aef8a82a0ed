"""The API contract's routes that this gateway does not serve yet: a clear 501, never a bare 404.

Each answers the OpenAI-shaped envelope naming what is missing, so a client that calls ahead of the
roadmap learns it at once. A route leaves this list when its operation is built.

A request without a key gets the 501 (it learns nothing about any account). A request with a key
is authorized first, as the built route will be: a bad key 401, and on the routes that will be
management routes an inference-only key 403 and a sub-account key 404 (to it they do not exist).
"""

from __future__ import annotations

import orjson
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from aigateway.api.authz import KINDS, MANAGERS, check
from aigateway.api.calls import request_id_of

# (method, path, what it is): the contract's paths not built yet.
UNBUILT: tuple[tuple[str, str, str], ...] = (
    ("POST", "/v1/videos/generations", "video generation jobs"),
    ("POST", "/v1/audio/music", "music generation jobs"),
    ("POST", "/v1/3d/generations", "3D generation jobs"),
    ("GET", "/v1/jobs/{id}", "async jobs"),
    ("DELETE", "/v1/jobs/{id}", "async jobs"),
    ("GET", "/v1/files/jobs/{job_id}/{filename}/signed", "signed result URLs"),
    ("POST", "/v1/batches", "batches"),
    ("GET", "/v1/batches", "batches"),
    ("GET", "/v1/batches/{id}", "batches"),
    ("POST", "/v1/batches/{id}/cancel", "batches"),
    ("POST", "/v1/evals", "evals"),
    ("GET", "/v1/evals", "evals"),
    ("GET", "/v1/evals/{id}", "evals"),
    ("POST", "/v1/replays", "replays"),
    ("GET", "/v1/replays", "replays"),
    ("GET", "/v1/replays/{id}", "replays"),
    ("DELETE", "/v1/cache", "the response cache"),
    ("GET", "/v1/health/providers", "provider health"),
)


# The routes that will be model calls (or, like the cache, scoped to the caller's own entries):
# every key kind may use them. The others will be management routes.
OPEN_TO_EVERY_KEY: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "/v1/videos/generations"),
        ("POST", "/v1/audio/music"),
        ("POST", "/v1/3d/generations"),
        ("GET", "/v1/jobs/{id}"),
        ("DELETE", "/v1/jobs/{id}"),
        ("GET", "/v1/files/jobs/{job_id}/{filename}/signed"),
        ("POST", "/v1/batches"),
        ("GET", "/v1/batches"),
        ("GET", "/v1/batches/{id}"),
        ("POST", "/v1/batches/{id}/cancel"),
        ("DELETE", "/v1/cache"),
    }
)


def allowed_kinds(method: str, path: str) -> tuple[str, ...]:
    return KINDS if (method, path) in OPEN_TO_EVERY_KEY else MANAGERS


def _answer(method: str, path: str, what: str) -> object:
    body = orjson.dumps(
        {
            "error": {
                "message": f"{method} {path} ({what}) is part of the AIgateway API but is not built on "
                "this gateway yet; README.md lists what is available.",
                "type": "invalid_request_error",
                "code": 501,
                "param": None,
            }
        }
    )
    kinds = allowed_kinds(method, path)

    async def not_built(request: Request) -> Response:
        rid = request_id_of(request)
        request.state.request_id = rid
        authorization = request.headers.get("authorization")
        if authorization is not None:
            who = await request.app.state.ctx.keys.authenticate(authorization)
            check(request, who, kinds)
        return Response(body, status_code=501, headers={"X-Request-Id": rid}, media_type="application/json")

    return not_built


def add_unbuilt_routes(app: FastAPI) -> None:
    for method, path, what in UNBUILT:
        app.router.add_route(path, _answer(method, path, what), methods=[method], include_in_schema=False)  # type: ignore[arg-type]
