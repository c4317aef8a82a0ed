"""What the management routes (sub-accounts, budgets, usage) share: bodies, answers, money, months.

Bodies are read and validated here, inside the route, not by FastAPI before it: FastAPI parses a
JSON body before it runs the route's dependencies, so a malformed body would be answered 400 before
the key was checked, and a sub-account key would learn that the route exists.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Request
from pydantic import AfterValidator, BaseModel, Field, ValidationError
from starlette.responses import Response

from aigateway.api.calls import read_body
from aigateway.core.errors import InvalidRequest
from aigateway.core.money import nano_to_cents_str
from aigateway.storage.spend import month_of
from aigateway.storage.usage import month_range

# Management bodies are a few fields: anything bigger is a mistake, refused before it is parsed.
MAX_BODY_BYTES = 64 * 1024
# The largest cap in cents whose nano-dollars still fit the signed 64-bit columns.
MAX_CENTS = (2**63 - 1) // 10_000_000
MAX_RPM = 2**31 - 1

Model = TypeVar("Model", bound=BaseModel)


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must be printable characters only")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_not_blank)]
Ref = Annotated[str, Field(min_length=1, max_length=200)]
Tag = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_printable)]
Cents = Annotated[int, Field(ge=0, le=MAX_CENTS)]
Rpm = Annotated[int, Field(ge=1, le=MAX_RPM)]


async def read_model(request: Request, model: type[Model]) -> Model:
    """The request's JSON body as ``model``, or a 400 naming the field at fault (``param``)."""
    raw = await read_body(request, MAX_BODY_BYTES)
    try:
        data = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"The request body is not valid JSON ({exc.msg}).") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return validate(model, data)


def validate(model: type[Model], data: dict[str, Any]) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first.get("loc", ()))
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        if first.get("type") == "extra_forbidden":
            message = "Unknown field"
        raise InvalidRequest(f"Invalid '{loc}': {message}.", param=loc or None) from None


def answer(request: Request, body: dict[str, Any]) -> Response:
    """A JSON answer (orjson, so exact decimals written as Fragments stay exact) with the request id."""
    headers = {"X-Request-Id": getattr(request.state, "request_id", "")}
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)


def exact_cents(nano: int) -> orjson.Fragment:
    """Cents as an exact JSON number (``0.0123``), written from a Decimal, never through a float."""
    return orjson.Fragment(nano_to_cents_str(nano).encode())


def unix_s(when: datetime) -> int:
    return int(when.timestamp())


def current_month() -> str:
    return month_of(datetime.now(UTC))


def month_param(request: Request) -> str:
    """``?month=YYYY-MM`` (default: the current UTC month), or a 400 on ``month``."""
    month = request.query_params.get("month")
    if month is None:
        return current_month()
    try:
        month_range(month)
    except ValueError:
        raise InvalidRequest(
            f"Invalid 'month': {month!r} is not a month in the form YYYY-MM (e.g. 2026-04).", param="month"
        ) from None
    return month


def limit_param(request: Request, default: int = 20, most: int = 100) -> int:
    """``?limit=`` between 1 and ``most``, or a 400 on ``limit``."""
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise InvalidRequest(f"Invalid 'limit': {raw!r} is not a number from 1 to {most}.", param="limit")
    return int(raw)
