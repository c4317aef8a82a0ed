"""GET /v1/models and GET /v1/models/{id} (the id contains a slash)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from aigateway.api.deps import context, principal
from aigateway.core.catalog import MODALITIES
from aigateway.core.errors import InvalidRequest, ModelNotFound
from aigateway.services.auth import Principal

router = APIRouter(tags=["models"])

# A fixed "created" stamp: the catalog snapshot, not the process start, so listings are stable.
CREATED = 1764115200  # 2025-11-26T00:00:00Z


@router.get("/v1/models")
async def list_models(
    request: Request,
    _who: Annotated[Principal, Depends(principal)],
    modality: Annotated[str | None, Query()] = None,
    provider: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    if modality is not None and modality not in MODALITIES:
        raise InvalidRequest(
            f"Unknown modality '{modality}'; one of {', '.join(MODALITIES)}.", param="modality"
        )
    catalog = context(request).catalog
    data = [m.to_public(CREATED) for m in catalog.list(modality=modality, provider=provider)]
    return {"object": "list", "data": data}


@router.get("/v1/models/{model_id:path}")
async def get_model(
    request: Request, model_id: str, _who: Annotated[Principal, Depends(principal)]
) -> dict[str, Any]:
    catalog = context(request).catalog
    entry = catalog.get(model_id)
    if entry is None:
        close = catalog.suggest(model_id)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ModelNotFound(f"The model '{model_id}' does not exist.{hint}", param="model")
    record = entry.to_public(CREATED)
    # Each deployment is billed at its own price when it has one, else at the model's.
    record["deployments"] = [
        {
            "provider": d.provider,
            "upstream_model": d.upstream_model,
            "pricing": {"currency": "USD", **(d.pricing or entry.pricing).as_strings()},
        }
        for d in entry.deployments
    ]
    return record
