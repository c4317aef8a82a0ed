"""The API contract's routes that this gateway does not serve yet: a clear 501, never a bare 404.

Each answers the OpenAI-shaped envelope naming what is missing, so a client that calls ahead of the
roadmap learns it at once. A route leaves this list when its operation is built.
"""

from __future__ import annotations

import orjson
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from aigateway.api.calls import request_id_of

# (method, path, what it is): the contract's paths not built yet.
UNBUILT: tuple[tuple[str, str, str], ...] = (
    ("POST", "/v1/videos/generations", "video generation jobs"),
    ("POST", "/v1/audio/music", "music generation jobs"),
    ("POST", "/v1/3d/generations", "3D generation jobs"),
    ("GET", "/v1/jobs/{id}", "async jobs"),
    ("DELETE", "/v1/jobs/{id}", "async jobs"),
    ("POST", "/v1/files", "files"),
    ("GET", "/v1/files", "files"),
    ("GET", "/v1/files/jobs/{job_id}/{filename}/signed", "signed result URLs"),
    ("GET", "/v1/files/{id}", "files"),
    ("DELETE", "/v1/files/{id}", "files"),
    ("GET", "/v1/files/{id}/content", "files"),
    ("POST", "/v1/batches", "batches"),
    ("GET", "/v1/batches", "batches"),
    ("GET", "/v1/batches/{id}", "batches"),
    ("POST", "/v1/batches/{id}/cancel", "batches"),
    ("POST", "/v1/sub-accounts", "sub-accounts"),
    ("GET", "/v1/sub-accounts", "sub-accounts"),
    ("GET", "/v1/sub-accounts/{id}", "sub-accounts"),
    ("PATCH", "/v1/sub-accounts/{id}", "sub-accounts"),
    ("DELETE", "/v1/sub-accounts/{id}", "sub-accounts"),
    ("GET", "/v1/sub-accounts/{id}/usage", "sub-account usage"),
    ("POST", "/v1/evals", "evals"),
    ("GET", "/v1/evals", "evals"),
    ("GET", "/v1/evals/{id}", "evals"),
    ("POST", "/v1/replays", "replays"),
    ("GET", "/v1/replays", "replays"),
    ("GET", "/v1/replays/{id}", "replays"),
    ("GET", "/v1/usage/by-tag", "usage reports"),
    ("GET", "/v1/usage/by-sub-account", "usage reports"),
    ("POST", "/v1/budgets", "budgets"),
    ("DELETE", "/v1/cache", "the response cache"),
    ("GET", "/v1/webhook-secret", "webhooks"),
    ("POST", "/v1/webhook-secret/rotate", "webhooks"),
    ("GET", "/v1/health/providers", "provider health"),
)


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

    async def not_built(request: Request) -> Response:
        headers = {"X-Request-Id": request_id_of(request)}
        return Response(body, status_code=501, headers=headers, media_type="application/json")

    return not_built


def add_unbuilt_routes(app: FastAPI) -> None:
    for method, path, what in UNBUILT:
        app.router.add_route(path, _answer(method, path, what), methods=[method], include_in_schema=False)  # type: ignore[arg-type]
