"""Webhook settings of an account: its signing secret and where its events are sent.

``GET /v1/webhook-secret`` shows the secret (made on first use); ``POST /v1/webhook-secret/rotate``
replaces it, and the old one keeps signing every delivery as a second ``v1`` for the overlap
(``AIGATEWAY_WEBHOOK_SECRET_OVERLAP_S``, 24 h by default) so receivers can switch without a
failed check. ``GET`` / ``PUT /v1/webhook-endpoint`` read and set the URL the account's events
(its own and its sub-accounts') are sent to; ``{"url": null}`` stops sending. Management keys of the
account only (api/authz.py): an inference-only key 403, a sub-account key 404.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from aigateway.api.authz import MANAGERS, require
from aigateway.api.deps import context
from aigateway.api.management import answer, read_model, unix_s
from aigateway.core.errors import InvalidRequest
from aigateway.services.auth import Principal
from aigateway.services.context import GatewayContext
from aigateway.services.webhooks import SCHEDULE_S, endpoint_problem
from aigateway.storage.webhooks import EndpointRecord, SecretRecord, WebhookStore

router = APIRouter(tags=["webhooks"])

SIGNATURE_FORMAT = "t=<unix seconds>,v1=<hex HMAC-SHA256 of '{t}.{raw_body}'>[,v1=<previous secret's>]"


class EndpointBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    url: str | None


def _now(ctx: GatewayContext) -> datetime:
    return ctx.webhooks.now() if ctx.webhooks is not None else datetime.fromtimestamp(time.time(), UTC)


def _render_secret(record: SecretRecord, now: datetime) -> dict[str, Any]:
    overlapping = len(record.signing_secrets(now)) > 1
    return {
        "object": "webhook_secret",
        "secret": record.secret,
        "created_at": unix_s(record.created_at),
        "rotated_at": None if record.rotated_at is None else unix_s(record.rotated_at),
        "previous_secret_expires_at": (
            unix_s(record.previous_expires_at) if overlapping and record.previous_expires_at else None
        ),
        "signature_header": "x-aig-signature",
        "signature_format": SIGNATURE_FORMAT,
        "retry_schedule_s": list(SCHEDULE_S),
    }


def _render_endpoint(record: EndpointRecord | None) -> dict[str, Any]:
    return {
        "object": "webhook_endpoint",
        "url": None if record is None else record.url,
        "updated_at": None if record is None else unix_s(record.updated_at),
    }


@router.get("/v1/webhook-secret")
async def get_secret(request: Request, who: Annotated[Principal, Depends(require(*MANAGERS))]) -> Response:
    ctx = context(request)
    now = _now(ctx)
    record = await asyncio.to_thread(WebhookStore(ctx.engine).secret, who.account_id, now)
    return answer(request, _render_secret(record, now))


@router.post("/v1/webhook-secret/rotate")
async def rotate_secret(request: Request, who: Annotated[Principal, Depends(require(*MANAGERS))]) -> Response:
    ctx = context(request)
    now = _now(ctx)
    overlap = ctx.settings.webhook_secret_overlap_s
    record = await asyncio.to_thread(WebhookStore(ctx.engine).rotate, who.account_id, now, overlap)
    return answer(request, _render_secret(record, now))


@router.get("/v1/webhook-endpoint")
async def get_endpoint(request: Request, who: Annotated[Principal, Depends(require(*MANAGERS))]) -> Response:
    ctx = context(request)
    record = await asyncio.to_thread(WebhookStore(ctx.engine).endpoint, who.account_id)
    return answer(request, _render_endpoint(record))


@router.put("/v1/webhook-endpoint")
async def put_endpoint(request: Request, who: Annotated[Principal, Depends(require(*MANAGERS))]) -> Response:
    body = await read_model(request, EndpointBody)
    ctx = context(request)
    if body.url is not None:
        problem = endpoint_problem(body.url, ctx.settings.allow_private_fetch)
        if problem is not None:
            raise InvalidRequest(f"Invalid 'url': {problem}.", param="url")
    store = WebhookStore(ctx.engine)
    record = await asyncio.to_thread(store.set_endpoint, who.account_id, body.url, _now(ctx))
    return answer(request, _render_endpoint(record))
