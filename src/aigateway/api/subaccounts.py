"""/v1/sub-accounts: a parent account's customers, each with a scoped key and a hard spend cap.

Caps travel as whole cents (``spend_cap_cents``) and are stored as nano-dollars; what a sub-account
has spent is given exactly (``spent_cents`` as a decimal, ``spent_nanousd`` as the integer). Only the
parent's management keys (and admin keys, on their own account) manage sub-accounts; a sub-account
key may read its own record and nothing else here (api/authz.py explains the 403 / 404 split).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from aigateway.api.authz import MANAGERS, require
from aigateway.api.deps import context
from aigateway.api.management import (
    Cents,
    Name,
    Ref,
    Rpm,
    Tag,
    answer,
    exact_cents,
    limit_param,
    read_model,
    unix_s,
)
from aigateway.core.errors import InvalidRequest, NotFound
from aigateway.core.money import NANO_PER_CENT, nano_to_whole_cents
from aigateway.services.auth import Principal
from aigateway.services.context import GatewayContext
from aigateway.storage.spend import SpendStore, cap_period_of, sub_scope
from aigateway.storage.subaccounts import SubAccountRecord, SubAccountStore

router = APIRouter(tags=["sub-accounts"])


Period = Literal["month", "lifetime"]


class SubAccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: Name
    spend_cap_cents: Cents
    external_ref: Ref | None = None
    rate_limit_rpm: Rpm | None = None
    default_tag: Tag | None = None
    cap_period: Period = "month"


class SubAccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: Name | None = None
    spend_cap_cents: Cents | None = None
    external_ref: Ref | None = None
    rate_limit_rpm: Rpm | None = None
    default_tag: Tag | None = None
    cap_period: Period | None = None
    rotate_key: bool = False
    grace_period_s: Annotated[int, Field(ge=0)] | None = None


# What PATCH may set to null (clears it); the rest must have a value when sent.
_CLEARABLE = {"external_ref", "rate_limit_rpm", "default_tag"}
_CONTROL = {"rotate_key", "grace_period_s"}


def store_of(ctx: GatewayContext) -> SubAccountStore:
    return SubAccountStore(ctx.engine)


def missing(sub_id: str) -> NotFound:
    """The one answer for an id the caller may not see: absent, deleted, a sibling's or another
    account's sub-account all read the same, so the answer says nothing about which it was."""
    return NotFound(f"No sub-account '{sub_id[:100]}'.", param="id")


def visible(who: Principal, sub_id: str) -> bool:
    """A sub-account key sees only itself; parent keys see their account's (the store checks)."""
    return who.kind != "sub_account" or who.sub_account_id == sub_id


def render(record: SubAccountRecord, spent_nano: int, now: datetime) -> dict[str, Any]:
    return {
        "object": "sub_account",
        "id": record.id,
        "name": record.name,
        "external_ref": record.external_ref,
        "spend_cap_cents": nano_to_whole_cents(record.spend_cap_nanousd),
        "cap_period": record.cap_period,
        "period": cap_period_of(record.cap_period, now),
        "spent_cents": exact_cents(spent_nano),
        "spent_nanousd": spent_nano,
        "rate_limit_rpm": record.rate_limit_rpm,
        "default_tag": record.default_tag,
        "mode": record.mode,
        "created_at": unix_s(record.created_at),
        "updated_at": unix_s(record.updated_at),
    }


def _spent(ctx: GatewayContext, records: list[SubAccountRecord], now: datetime) -> list[int]:
    """Each record's spent in its current period, in one read."""
    keys = [(sub_scope(r.id), cap_period_of(r.cap_period, now)) for r in records]
    found = SpendStore(ctx.engine).spent(keys) if keys else {}
    return [found[k] for k in keys]


def forget_keys(ctx: GatewayContext, sub_id: str) -> None:
    """This process re-reads the sub-account's keys on their next use: a deleted sub-account's key
    is refused at once here, a changed cap or limit applies at once (other processes: key_cache_ttl_s)."""
    ctx.keys.invalidate_sub_account(sub_id)


@router.post("/v1/sub-accounts")
async def create_sub_account(
    request: Request, who: Annotated[Principal, Depends(require(*MANAGERS))]
) -> Response:
    """A test-mode parent key makes a test-mode sub-account (whose key is a test key)."""
    body = await read_model(request, SubAccountCreate)
    ctx = context(request)
    record, key = await asyncio.to_thread(
        store_of(ctx).create,
        who.account_id,
        name=body.name,
        spend_cap_nanousd=body.spend_cap_cents * NANO_PER_CENT,
        mode=who.mode,
        external_ref=body.external_ref,
        cap_period=body.cap_period,
        rate_limit_rpm=body.rate_limit_rpm,
        default_tag=body.default_tag,
    )
    return answer(request, {**render(record, 0, datetime.now(UTC)), "key": key})


@router.get("/v1/sub-accounts")
async def list_sub_accounts(
    request: Request, who: Annotated[Principal, Depends(require(*MANAGERS))]
) -> Response:
    """Oldest first; ``?after=<id>`` continues after the last id of the previous page."""
    limit = limit_param(request)
    after = request.query_params.get("after") or None
    ctx = context(request)

    def read() -> tuple[list[SubAccountRecord], list[int], bool, datetime]:
        now = datetime.now(UTC)
        records = store_of(ctx).list(who.account_id, limit=limit + 1, after=after)
        page = records[:limit]
        return page, _spent(ctx, page, now), len(records) > limit, now

    records, spent, more, now = await asyncio.to_thread(read)
    data = [render(r, s, now) for r, s in zip(records, spent, strict=True)]
    return answer(request, {"object": "list", "data": data, "has_more": more})


@router.get("/v1/sub-accounts/{sub_id}")
async def get_sub_account(
    request: Request, sub_id: str, who: Annotated[Principal, Depends(require(*MANAGERS, "sub_account"))]
) -> Response:
    if not visible(who, sub_id):
        raise missing(sub_id)
    ctx = context(request)

    def read() -> tuple[SubAccountRecord | None, int, datetime]:
        now = datetime.now(UTC)
        record = store_of(ctx).get(who.account_id, sub_id)
        return record, (_spent(ctx, [record], now)[0] if record else 0), now

    record, spent, now = await asyncio.to_thread(read)
    if record is None:
        raise missing(sub_id)
    return answer(request, render(record, spent, now))


def _changes(body: SubAccountUpdate) -> dict[str, Any]:
    """The store's changes from the fields PATCH sent (null clears only what may be cleared)."""
    changes: dict[str, Any] = {}
    for field in sorted(body.model_fields_set - _CONTROL):
        value = getattr(body, field)
        if value is None and field not in _CLEARABLE:
            raise InvalidRequest(f"Invalid '{field}': it cannot be cleared (null).", param=field)
        if field == "spend_cap_cents":
            changes["spend_cap_nanousd"] = value * NANO_PER_CENT
        else:
            changes[field] = value
    return changes


def _grace(ctx: GatewayContext, body: SubAccountUpdate) -> int:
    settings = ctx.settings
    if body.grace_period_s is None:
        if "grace_period_s" in body.model_fields_set:
            raise InvalidRequest("Invalid 'grace_period_s': it cannot be null.", param="grace_period_s")
        return settings.key_rotation_grace_s
    if not body.rotate_key:
        raise InvalidRequest(
            "Invalid 'grace_period_s': it applies only with \"rotate_key\": true.", param="grace_period_s"
        )
    if body.grace_period_s > settings.key_rotation_max_grace_s:
        raise InvalidRequest(
            f"Invalid 'grace_period_s': at most {settings.key_rotation_max_grace_s} seconds "
            "(AIGATEWAY_KEY_ROTATION_MAX_GRACE_S).",
            param="grace_period_s",
        )
    return body.grace_period_s


@router.patch("/v1/sub-accounts/{sub_id}")
async def update_sub_account(
    request: Request, sub_id: str, who: Annotated[Principal, Depends(require(*MANAGERS))]
) -> Response:
    """Change fields and/or rotate the key: ``rotate_key: true`` answers the new key once; the old
    key keeps working ``grace_period_s`` seconds (default AIGATEWAY_KEY_ROTATION_GRACE_S, 0: at once)."""
    body = await read_model(request, SubAccountUpdate)
    changes = _changes(body)
    ctx = context(request)
    grace = _grace(ctx, body)
    store = store_of(ctx)

    def write() -> tuple[SubAccountRecord | None, str | None, int | None, int, datetime]:
        try:
            record = store.update(who.account_id, sub_id, **changes)
        except ValueError as exc:
            raise InvalidRequest(f"Invalid request: {exc}.") from None
        if record is None:
            return None, None, None, 0, datetime.now(UTC)
        plain: str | None = None
        old_expiry: int | None = None
        if body.rotate_key:
            rotated = store.rotate_key(who.account_id, sub_id, grace)
            if rotated is None:  # deleted meanwhile
                return None, None, None, 0, datetime.now(UTC)
            plain, new_key = rotated
            expiries = [
                k.expires_at
                for k in store.keys(who.account_id, sub_id)
                if k.id != new_key.id and k.revoked_at is None and k.expires_at is not None
            ]
            old_expiry = unix_s(max(expiries)) if expiries else None
        now = datetime.now(UTC)
        return record, plain, old_expiry, _spent(ctx, [record], now)[0], now

    record, plain, old_expiry, spent, now = await asyncio.to_thread(write)
    if record is None:
        raise missing(sub_id)
    forget_keys(ctx, sub_id)
    out = render(record, spent, now)
    if plain is not None:
        out["key"] = plain
        out["old_key_expires_at"] = old_expiry
    return answer(request, out)


@router.delete("/v1/sub-accounts/{sub_id}")
async def delete_sub_account(
    request: Request, sub_id: str, who: Annotated[Principal, Depends(require(*MANAGERS))]
) -> Response:
    """Revokes every key of the sub-account at once; its ledger rows (and usage) are kept."""
    ctx = context(request)
    if not await asyncio.to_thread(store_of(ctx).delete, who.account_id, sub_id):
        raise missing(sub_id)
    forget_keys(ctx, sub_id)
    return answer(request, {"id": sub_id, "object": "sub_account", "deleted": True})
