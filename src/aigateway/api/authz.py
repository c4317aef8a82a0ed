"""Who may call which route: one dependency, so a route's rights are read where it is declared.

Key kinds (Principal.kind): ``admin`` and ``manage`` keys manage their own account; ``inference``
keys call models only; ``sub_account`` keys call models and read their own record, usage and cap.
A route refuses a key kind it does not name in one of two ways, on purpose different:

* an inference-only key is the parent's own key, so it learns the truth: 403 ``permission_error``;
* a sub-account key belongs to someone else's customer, so it must not even learn that the route
  exists: 404 with exactly the body of a route that is not there (api/errors.py answers those).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from aigateway.api.deps import principal
from aigateway.core.errors import GatewayError, NotFound, PermissionDenied
from aigateway.services.auth import Principal

KINDS = ("admin", "manage", "inference", "sub_account")
MANAGERS = ("admin", "manage")


def no_route(method: str, path: str) -> NotFound:
    """The answer for a route that does not exist, word for word (see api/errors.py)."""
    return NotFound(f"No route {method} {path}.")


def refusal(request: Request, who: Principal) -> GatewayError:
    """Why ``who`` may not use this route, in the form its key kind is told."""
    if who.kind == "sub_account":
        return no_route(request.method, request.url.path)
    return PermissionDenied(
        f"This API key may not call {request.method} {request.url.path}: it is an inference-only key "
        "(model calls and the balance). Use a management key of the account."
    )


def check(request: Request, who: Principal, kinds: tuple[str, ...]) -> Principal:
    if who.kind not in kinds:
        raise refusal(request, who)
    return who


def require(*kinds: str) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency: the authenticated principal, if its kind is one of ``kinds``.

    Routes read their body after this has run, so a key that may not use the route is refused
    before anything about the request (a malformed body included) is looked at.
    """
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown key kinds {sorted(unknown)}")
    allowed = tuple(kinds)

    async def dependency(request: Request, who: Annotated[Principal, Depends(principal)]) -> Principal:
        return check(request, who, allowed)

    return dependency
