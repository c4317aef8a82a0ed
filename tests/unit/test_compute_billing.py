"""Models billed per compute second (Hugging Face hf-inference: DETR, TrOCR): the meter, its price,
the billed unit, and the reservation bound the metered time can never exceed."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from aigateway.core.catalog import load_catalog
from aigateway.core.pricing import Pricing, Usage, billed_units, price_usage, worst_case_nano
from aigateway.providers.wire.base import TranslatedResponse
from aigateway.services.operations.detections import DetectionsOperation, compute_ceiling_ms
from aigateway.services.operations.ocr import OcrOperation

HF = Pricing({"per_compute_second": Decimal("0.00012")})


def test_compute_seconds_are_priced_and_billed_in_seconds() -> None:
    usage = Usage(input_images=1, queries=1, compute_ms=1500)
    assert price_usage(usage, HF) == 180_000  # 1.5 s at $0.00012/s = $0.00018
    units = billed_units(usage, HF)
    assert (units.kind, units.input, units.output) == ("seconds", "1.5", "0")
    assert usage.meters()["compute_ms"] == 1500


def _ctx(timeout_s: float, vendor_timeout: float | None = None) -> Any:
    vendors = {"huggingface": SimpleNamespace(timeout_s=vendor_timeout)}
    return SimpleNamespace(settings=SimpleNamespace(upstream_timeout_s=timeout_s), vendors=vendors)


def test_the_reservation_covers_the_upstream_timeout() -> None:
    catalog = load_catalog()
    for op, model, body in (
        (DetectionsOperation("facebook/detr-resnet-50"), "facebook/detr-resnet-50", {"image_b64": "iVBO"}),
        (OcrOperation("microsoft/trocr-base-printed"), "microsoft/trocr-base-printed", {"image_b64": "iVBO"}),
    ):
        entry = catalog.get(model)
        assert entry is not None and entry.deployments[0].provider == "huggingface"
        parsed = op.validate(body)
        op.check(entry, parsed)
        asyncio.run(op.prepare(body, parsed, _ctx(600.0)))
        bound = op.bound(entry, body, parsed)
        assert bound.compute_ms == 600_000
        assert worst_case_nano(entry.pricing, bound) >= 72_000_000  # 600 s at $0.00012/s = 7.2 cents


def _finish(upstream_ms: int, usage: Usage, ctx: Any) -> Usage:
    call = SimpleNamespace(pricing=HF, upstream_ms=upstream_ms)
    finishing = SimpleNamespace(
        call=call, ctx=ctx, route=SimpleNamespace(deployment=SimpleNamespace(provider="huggingface"))
    )
    out = asyncio.run(DetectionsOperation("x/y").finish(TranslatedResponse(b"{}", usage), finishing))
    assert out.usage is not None
    return out.usage


def test_compute_time_is_the_measured_upstream_time_capped_at_the_ceiling() -> None:
    assert _finish(842, Usage(queries=1), _ctx(600.0)).compute_ms == 842
    assert _finish(0, Usage(queries=1), _ctx(600.0)).compute_ms == 1  # never billed $0
    assert _finish(900_000, Usage(queries=1), _ctx(600.0)).compute_ms == 600_000
    assert _finish(900_000, Usage(queries=1), _ctx(600.0, 1200.0)).compute_ms == 900_000
    assert _finish(5, Usage(compute_ms=77), _ctx(600.0)).compute_ms == 77  # reported by the upstream
    assert compute_ceiling_ms(_ctx(30.0), ("huggingface", "other")) == 30_000
