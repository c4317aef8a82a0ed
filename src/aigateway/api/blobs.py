"""``GET /v1/blobs/{key}?expires=...&signature=...``: media the gateway stored, by signed URL.

No API key: the signature is the credential (storage/blobs.py signs key and expiry). A changed key,
expiry or signature answers 403, an expired URL 410, a blob that is gone 404; otherwise the blob
with its own Content-Type. The call shell (api/calls.py) remembers, for operations that mint URLs, the
scheme and host each request reached the gateway at, so the URLs the gateway hands out are absolute
and point back where the client came from (unless ``AIGATEWAY_PUBLIC_URL`` says otherwise).
"""

from __future__ import annotations

import re

import orjson
from starlette.requests import Request
from starlette.responses import Response

from aigateway.api.calls import request_id_of
from aigateway.storage.blobs import BLOB_ROUTE, UrlSigner

ROUTE = BLOB_ROUTE + "{key:path}"
_HOST = re.compile(rb"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def _error(status: int, message: str, kind: str, request: Request) -> Response:
    body = orjson.dumps({"error": {"message": message, "type": kind, "code": status, "param": None}})
    headers = {"X-Request-Id": request_id_of(request)}
    return Response(body, status_code=status, headers=headers, media_type="application/json")


async def get_blob(request: Request) -> Response:
    ctx = request.app.state.ctx
    blobs = ctx.blobs
    signer: UrlSigner | None = getattr(blobs, "signer", None)
    key = request.path_params["key"]
    if blobs is None or signer is None:
        return _error(404, "This gateway stores no blobs.", "not_found_error", request)
    verdict = signer.check(key, request.query_params.get("expires"), request.query_params.get("signature"))
    if verdict == "tampered":
        return _error(
            403,
            "The URL's signature does not match: use the URL exactly as given.",
            "permission_error",
            request,
        )
    if verdict == "expired":
        return _error(
            410,
            "This URL has expired: generate the image again for a new one.",
            "invalid_request_error",
            request,
        )
    found = blobs.get(key)
    if found is None:
        return _error(404, "The blob no longer exists.", "not_found_error", request)
    data, content_type = found
    headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type=content_type, headers=headers)


