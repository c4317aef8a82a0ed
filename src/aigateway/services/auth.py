"""Bearer-key authentication with a short-lived in-process cache (no DB round trip per request).

Revocations reach every worker within ``ttl_s`` seconds. Unknown keys are cached negatively for
the same time, so a flood of bad keys cannot hammer storage.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aigateway.core.errors import AuthenticationError
from aigateway.core.keys import hash_key, looks_like_key
from aigateway.storage.accounts import AccountStore
from aigateway.storage.subaccounts import SubAccountStore


@dataclass(frozen=True, slots=True)
class SubAccountLimits:
    """What a sub-account key carries: its cap, its period, its RPM limit and its default tag."""

    sub_account_id: str
    name: str
    cap_nano: int
    cap_period: str  # "month" | "lifetime"
    rate_limit_rpm: int | None
    default_tag: str | None


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    account_id: str  # the account whose wallet pays (a sub-account's parent)
    mode: str  # "live" or "test"
    is_admin: bool
    scope: str = "manage"  # "manage" | "inference" | "sub_account" (admin-ness: is_admin)
    sub_account: SubAccountLimits | None = None
    key_rate_limit_rpm: int | None = None  # an optional per-key RPM limit

    @property
    def is_test(self) -> bool:
        return self.mode == "test"

    @property
    def sub_account_id(self) -> str | None:
        return None if self.sub_account is None else self.sub_account.sub_account_id

    @property
    def kind(self) -> str:
        """admin | manage | inference | sub_account: what the authorization matrix keys on."""
        if self.sub_account is not None:
            return "sub_account"
        if self.is_admin:
            return "admin"
        return self.scope


_MISSING = "Missing API key: send 'Authorization: Bearer sk-aig-...'."
_INVALID = "Invalid API key."
_REVOKED = "This API key has been revoked."


class KeyCache:
    def __init__(
        self,
        store: AccountStore,
        ttl_s: float,
        max_entries: int = 100_000,
        sub_accounts: SubAccountStore | None = None,
    ) -> None:
        self._store = store
        self._subs = sub_accounts
        self._ttl = ttl_s
        self._max = max_entries
        self._cache: dict[str, tuple[Principal | None, str, float]] = {}

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise AuthenticationError(_MISSING)
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError(_MISSING)
        if not looks_like_key(token):
            raise AuthenticationError(_INVALID)
        digest = hash_key(token)
        hit = self._cache.get(digest)
        now = time.monotonic()
        if hit is None or hit[2] < now:
            hit = await self._lookup(digest, now)
        principal, reason, _ = hit
        if principal is None:
            raise AuthenticationError(reason)
        return principal

    async def _lookup(self, digest: str, now: float) -> tuple[Principal | None, str, float]:
        principal, reason = await asyncio.to_thread(self._principal, digest)
        entry: tuple[Principal | None, str, float] = (principal, reason, now + self._ttl)
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[digest] = entry
        return entry

    def _principal(self, digest: str) -> tuple[Principal | None, str]:
        """The key's principal (a sub-account key carries its limits), or why there is none."""
        record = self._store.find_key(digest)
        if record is None:
            return None, _INVALID
        if record.revoked_at is not None:
            return None, _REVOKED
        limits: SubAccountLimits | None = None
        if record.sub_account_id is not None:
            sub = None if self._subs is None else self._subs.get(record.account_id, record.sub_account_id)
            if sub is None:  # deleted (its keys are revoked in the same transaction)
                return None, _REVOKED
            limits = SubAccountLimits(
                sub.id, sub.name, sub.spend_cap_nanousd, sub.cap_period, sub.rate_limit_rpm, sub.default_tag
            )
        principal = Principal(
            record.id,
            record.account_id,
            record.mode,
            record.is_admin,
            scope=record.scope,
            sub_account=limits,
            key_rate_limit_rpm=record.rate_limit_rpm,
        )
        return principal, ""

    def invalidate_sub_account(self, sub_id: str) -> None:
        """A sub-account changed or was deleted here: its keys are read again on their next use
        (at once in this process; other processes re-read within ``ttl_s``)."""
        for digest, (principal, _reason, _expiry) in list(self._cache.items()):
            if principal is not None and principal.sub_account_id == sub_id:
                del self._cache[digest]

    def invalidate_all(self) -> None:
        self._cache.clear()
