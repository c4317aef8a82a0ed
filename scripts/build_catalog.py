#!/usr/bin/env python3
"""Build the gateway's model catalog (``src/aigateway/data/catalog.json``) from the pricing snapshot.

The snapshot is ``../shared/catalog-data/model_prices_and_context_window.json``: a copy (taken
2026-11-26) of the MIT-licensed BerriAI/litellm ``model_prices_and_context_window.json``. It is
keyed by provider-specific names (``claude-opus-4-7``, ``gemini/gemini-3.1-pro-preview``,
``together_ai/meta-llama/...``). This script maps a curated selection of those entries to
``lab/model`` slugs and to the gateway's providers, and writes the derived catalog. The gateway
never reads ``../shared`` at run time: the derived JSON is committed.

Usage::

    python scripts/build_catalog.py                  # write src/aigateway/data/catalog.json
    python scripts/build_catalog.py --check          # exit 1 if the committed file is stale
    python scripts/build_catalog.py --source PATH --out PATH

The curated model table (which models, their slugs, names and snapshot keys, the featured set, lab-API
deployments the snapshot lacks) is ``scripts/catalog_spec.py``; its docstring says how to add a model.
``scripts/catalog_curated.py`` holds more specs, deployments the snapshot does not price (with the
provider's published price and its source) and embedding vector sizes the snapshot lacks;
``scripts/catalog_tables.py`` the static tables (snapshot providers, lab APIs, allowed prices, flags).
This module is the derivation: it checks the table against the snapshot and derives prices, limits,
capabilities, deployments and aliases. It refuses unknown keys, entries without a usable price,
modality mismatches between deployments and duplicate ids/aliases, and drops (with a warning)
deployments whose ``deprecation_date`` is before the snapshot date.

Derivation rules
----------------
* Prices are decimal strings in USD, converted with ``Decimal(str(x))`` (rounded to 10 significant
  digits to drop binary-float noise, then normalised: ``3.0000`` -> ``3``). Token prices are per
  million tokens. Only base (standard tier, first context band) prices are carried: batch, flex,
  priority and above-N-tokens prices are not. If an entry only has ``tiered_pricing`` (Alibaba
  DashScope), the first band is used.
* ``reasoning_per_mtok`` is emitted only when the snapshot prices reasoning tokens differently
  from output tokens.
* Image generation: ``per_image`` is ``output_cost_per_image`` (xAI lists its per-image price as
  ``input_cost_per_image``, which is used when there is no output price); when an image model is
  priced per token only (gpt-image-2), ``output_cost_per_image_token`` becomes ``output_per_mtok``.
* Only snapshot modes listed in ``MODE_TO_MODALITY`` are accepted (no Responses-API-only, realtime or
  search entries; ``image_edit`` is BFL's Kontext, which also generates from a prompt alone).
  Audio-token and image-token input prices of chat models are not carried. A model in
  ``catalog_curated.MODALITY_OVERRIDES`` takes that modality instead of its entries' ``chat`` mode
  (Llama Guard: a chat model that serves moderation).
* OCR: ``per_page`` is ``ocr_cost_per_page`` (annotation, the structured-output surcharge, is not carried).
* Text deployments priced 0/0 (free-tier placeholders) are refused; an explicit ``0`` is kept for
  moderation models, where it is the real price.
* ``context_window`` is ``max_input_tokens`` (else ``max_tokens``); it is ``null`` when the snapshot
  gives no token limit (image, audio, video models that are not token based): ``0`` would read as
  "accepts nothing". ``max_output_tokens`` is ``null`` when the snapshot does not give it.
* A lab-API deployment added by ``lab_api`` (see ``catalog_spec.py``) comes first, takes the price,
  limits and capabilities of its ``price_source`` snapshot entry and records that key as
  ``"price_source"``; ``source_keys`` lists only the snapshot keys themselves.
* Upstream ids are the snapshot key without the provider prefix (``gemini/``, ``together_ai/``,
  ...). Fireworks ids get the ``accounts/fireworks/models/`` path the API expects.
* ``dimensions`` (embedding models only, required): the first snapshot entry's ``output_vector_size``,
  else ``catalog_curated.EMBEDDING_DIMENSIONS``.
* Curated deployments (``catalog_curated.CURATED_DEPLOYMENTS``) follow the snapshot ones and record
  ``"curated_source"`` (the provider's pricing page); a model with no snapshot key is priced by its first.
  A curated deployment on the lab's own API (``LAB_PROVIDER``) comes first instead and prices the model
  (FLUX.2 [pro] on BFL before Azure); the snapshot deployments then carry their own ``pricing``.
* Bedrock: only in-region ids (no ``us.``/``eu.``/``global.`` inference-profile or per-region
  keys). Azure: both Azure OpenAI (``azure/``) and Azure AI Foundry (``azure_ai/``) map to the
  ``azure`` provider.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from decimal import Context, Decimal
from pathlib import Path
from typing import Any

# Run as ``python scripts/build_catalog.py``: the script's directory is on sys.path.
from catalog_capabilities import EXTRA_CAPABILITIES
from catalog_curated import (
    CURATED_DEPLOYMENTS,
    EMBEDDING_DIMENSIONS,
    EXTRA_CATALOG,
    MODALITY_OVERRIDES,
    CuratedDeployment,
)
from catalog_spec import CATALOG, FEATURED, Spec
from catalog_tables import (
    ALLOWED_PRICES,
    CAPABILITIES,
    FLAG_TO_CAPABILITIES,
    LAB_PROVIDER,
    MODE_TO_MODALITY,
    NO_BARE_ALIAS_LABS,
    PROVIDERS,
    REQUIRED_PRICES,
)

from aigateway.core.catalog import MODALITIES as CATALOG_MODALITIES
from aigateway.core.pricing import PRICE_KEYS as LOADER_PRICE_KEYS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "catalog-data" / "model_prices_and_context_window.json"
DEFAULT_OUT = ROOT / "src" / "aigateway" / "data" / "catalog.json"

SCHEMA_VERSION = 1
SOURCE = "BerriAI/litellm model_prices_and_context_window.json (MIT licence)"
SNAPSHOT_DATE = "2026-11-26"
GENERATED_BY = "scripts/build_catalog.py"

# One source of truth with the loader that reads the catalog.
MODALITIES = CATALOG_MODALITIES
PRICE_KEYS = LOADER_PRICE_KEYS


# ----------------------------------------------------------------------------- derivation


class CatalogError(Exception):
    pass


_CTX = Context(prec=10)


def _dec(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise CatalogError(f"not a number: {value!r}")
    return _CTX.plus(Decimal(str(value)))


def fmt_decimal(d: Decimal) -> str:
    """Plain decimal string without exponent or trailing zeros: Decimal('3.0000') -> '3'."""
    d = d.normalize()
    if d == 0:
        return "0"
    return format(d, "f")


def per_mtok(value: Any) -> str:
    return fmt_decimal(_dec(value) * 1_000_000)


def plain(value: Any) -> str:
    return fmt_decimal(_dec(value))


def _base_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """Entry with the first ``tiered_pricing`` band folded in when there is no flat token price."""
    tiers = entry.get("tiered_pricing")
    if entry.get("input_cost_per_token") is None and isinstance(tiers, list) and tiers:
        first = min(tiers, key=lambda t: float(t.get("range", [0])[0]))
        merged = dict(entry)
        for key in ("input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost"):
            if first.get(key) is not None:
                merged[key] = first[key]
        return merged
    return entry


def derive_pricing(entry: dict[str, Any], modality: str) -> dict[str, str]:
    e = _base_entry(entry)
    out: dict[str, str] = {}

    def put(key: str, value: Any, conv: Any) -> None:
        if value is not None and key not in out:
            out[key] = conv(value)

    put("input_per_mtok", e.get("input_cost_per_token"), per_mtok)
    put("output_per_mtok", e.get("output_cost_per_token"), per_mtok)
    if modality == "image":
        put("output_per_mtok", e.get("output_cost_per_image_token"), per_mtok)
    put("cached_input_per_mtok", e.get("cache_read_input_token_cost"), per_mtok)
    put("cache_write_per_mtok", e.get("cache_creation_input_token_cost"), per_mtok)
    reasoning = e.get("output_cost_per_reasoning_token")
    if reasoning is not None and (
        e.get("output_cost_per_token") is None or _dec(reasoning) != _dec(e["output_cost_per_token"])
    ):
        put("reasoning_per_mtok", reasoning, per_mtok)
    if modality == "image":
        put("per_image", e.get("output_cost_per_image"), plain)
        put("per_image", e.get("input_cost_per_image"), plain)  # xAI lists the per-image price as input
        if e.get("output_cost_per_image") is not None:
            put("input_per_image", e.get("input_cost_per_image"), plain)
    else:
        put("input_per_image", e.get("input_cost_per_image"), plain)
    put("input_per_second", e.get("input_cost_per_second"), plain)
    put("output_per_second", e.get("output_cost_per_second"), plain)
    put("output_per_second", e.get("output_cost_per_video_per_second"), plain)
    put("per_mchar", e.get("input_cost_per_character"), per_mtok)
    put("per_query", e.get("input_cost_per_query"), plain)
    if modality == "ocr":
        put("per_page", e.get("ocr_cost_per_page"), plain)  # annotation (structured output) is extra

    allowed = ALLOWED_PRICES[modality]
    pricing = {k: out[k] for k in PRICE_KEYS if k in out and k in allowed}
    if modality == "rerank" and "per_query" in pricing and Decimal(pricing.get("input_per_mtok", "1")) == 0:
        del pricing["input_per_mtok"]
    return pricing


def check_pricing(pricing: dict[str, str], modality: str, where: str) -> None:
    for group in REQUIRED_PRICES[modality]:
        if not group & pricing.keys():
            raise CatalogError(f"{where}: {modality} entry lacks any of {sorted(group)} (has {pricing})")
    if modality != "moderation":
        required = set().union(*REQUIRED_PRICES[modality])
        if all(Decimal(v) == 0 for k, v in pricing.items() if k in required):
            raise CatalogError(f"{where}: zero price for a {modality} entry ({pricing})")


def derive_capabilities(entry: dict[str, Any], modality: str, extra: tuple[str, ...] = ()) -> list[str]:
    caps: set[str] = set(extra)
    if modality == "text":
        caps.update(("chat", "streaming"))
    for flag, names in FLAG_TO_CAPABILITIES.items():
        if entry.get(flag) is True:
            caps.update(names)
    return [c for c in CAPABILITIES if c in caps]


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float) and value >= 0:
        return int(value)
    return None


def upstream_id(key: str, provider_name: str) -> str:
    prefix = PROVIDERS[provider_name][1]
    upstream = key[len(prefix) :] if prefix and key.startswith(prefix) else key
    if provider_name.startswith("fireworks_ai") and "/" not in upstream:
        upstream = "accounts/fireworks/models/" + upstream
    return upstream


@dataclass
class Built:
    model: dict[str, Any]
    warnings: list[str]


def lab_api_deployment(
    spec: Spec,
    lab_provider: str | None,
    entries: list[tuple[str, dict[str, Any], str]],
    deployments: list[dict[str, Any]],
    snapshot: dict[str, Any],
) -> dict[str, Any]:
    """The lab's own API deployment that ``spec.lab_api`` adds, priced like its ``price_source`` entry."""
    lab_api = spec.lab_api
    assert lab_api is not None
    if lab_provider is None:
        raise CatalogError(f"{spec.id}: lab_api given, but lab {spec.lab!r} has no own API in LAB_PROVIDER")
    if any(dep["provider"] == lab_provider for dep in deployments):
        raise CatalogError(f"{spec.id}: a listed snapshot key already deploys on {lab_provider}")
    if lab_api.price_source not in [key for key, _, _ in entries]:
        raise CatalogError(
            f"{spec.id}: lab_api price_source {lab_api.price_source!r} is not one of the model's "
            "(non-deprecated) snapshot keys"
        )
    real_keys = [prefix + lab_api.upstream for prov, prefix in PROVIDERS.values() if prov == lab_provider]
    listed = [key for key in real_keys if key in snapshot]
    if listed:
        raise CatalogError(f"{spec.id}: the snapshot has {listed[0]!r}; list that key instead of lab_api")
    return {
        "provider": lab_provider,
        "upstream_model": lab_api.upstream,
        "price_source": lab_api.price_source,
    }


def curated_deployment(spec: Spec, cur: CuratedDeployment, snapshot: dict[str, Any]) -> dict[str, Any]:
    """A ``CURATED_DEPLOYMENTS`` entry as a catalog deployment, checked (pricing override not set)."""
    where = f"{spec.id} (curated {cur.provider}:{cur.upstream})"
    if cur.provider not in {prov for prov, _ in PROVIDERS.values()}:
        raise CatalogError(f"{where}: unknown provider")
    if any(prefix + cur.upstream in snapshot for prov, prefix in PROVIDERS.values() if prov == cur.provider):
        raise CatalogError(f"{where}: the snapshot has this deployment; list its key instead")
    if set(cur.pricing) - ALLOWED_PRICES[cur.modality] or any(plain(v) != v for v in cur.pricing.values()):
        raise CatalogError(f"{where}: bad pricing {cur.pricing}")
    check_pricing(cur.pricing, cur.modality, where)
    if not cur.source.startswith("https://"):
        raise CatalogError(f"{where}: source must be the provider's page")
    return {"provider": cur.provider, "upstream_model": cur.upstream}


def embedding_dimensions(spec: Spec, modality: str, primary: dict[str, Any]) -> int | None:
    """The native vector size: the snapshot's, else the curated one; required for embedding models."""
    curated = EMBEDDING_DIMENSIONS.get(spec.id)
    native = _int_or_none(primary.get("output_vector_size")) or None
    if modality != "embedding":
        if curated is not None:
            raise CatalogError(f"{spec.id}: curated dimensions for a {modality} model")
        return None
    if curated is not None and native is not None:
        raise CatalogError(f"{spec.id}: the snapshot gives dimensions {native}; drop the curated {curated}")
    if not (curated or native):
        raise CatalogError(f"{spec.id}: embedding model without dimensions (add EMBEDDING_DIMENSIONS)")
    return curated or native


def _modality(spec: Spec, key: str, snapshot_modality: str) -> str:
    """The snapshot entry's modality, or the curated override (Llama Guard: a chat model used to moderate)."""
    override = MODALITY_OVERRIDES.get(spec.id)
    if override is None:
        return snapshot_modality
    if snapshot_modality != "text":
        raise CatalogError(f"{spec.id}: modality override of a {snapshot_modality} entry {key!r}")
    return override


def build_model(spec: Spec, snapshot: dict[str, Any]) -> Built:
    warnings: list[str] = []
    deployments: list[dict[str, Any]] = []
    entries: list[tuple[str, dict[str, Any], str]] = []  # (key, entry, modality)
    seen: set[tuple[str, str]] = set()
    for key in spec.keys:
        entry = snapshot.get(key)
        if not isinstance(entry, dict):
            raise CatalogError(f"{spec.id}: snapshot key {key!r} not found")
        prov = entry.get("litellm_provider")
        if prov not in PROVIDERS:
            raise CatalogError(f"{spec.id}: {key!r} is served by {prov!r}, which has no gateway profile")
        mode = entry.get("mode")
        if mode not in MODE_TO_MODALITY:
            raise CatalogError(f"{spec.id}: {key!r} has unsupported mode {mode!r}")
        dep_date = entry.get("deprecation_date")
        if isinstance(dep_date, str) and dep_date < SNAPSHOT_DATE:
            warnings.append(f"{spec.id}: dropped {key!r} (deprecated {dep_date})")
            continue
        provider, _ = PROVIDERS[prov]
        upstream = upstream_id(key, prov)
        if (provider, upstream) in seen:
            raise CatalogError(f"{spec.id}: duplicate deployment {provider}:{upstream}")
        seen.add((provider, upstream))
        entries.append((key, entry, _modality(spec, key, MODE_TO_MODALITY[mode])))
        deployments.append({"provider": provider, "upstream_model": upstream})
    lab_provider = LAB_PROVIDER.get(spec.lab)
    # A curated deployment on the lab's own API leads (and prices the model), like a lab_api one.
    curated = sorted(CURATED_DEPLOYMENTS.get(spec.id, ()), key=lambda cur: cur.provider != lab_provider)
    if not entries and not curated:
        raise CatalogError(f"{spec.id}: no usable deployment left")
    lead = curated[0] if curated and curated[0].provider == lab_provider and entries else None
    if lead is not None and spec.lab_api is not None:
        raise CatalogError(f"{spec.id}: both lab_api and a curated deployment on {lab_provider}")

    modality = entries[0][2] if entries else curated[0].modality
    for key, mod in [(k, md) for k, _, md in entries] + [(c.upstream, c.modality) for c in curated]:
        if mod != modality:
            raise CatalogError(f"{spec.id}: {key!r} is {mod}, expected {modality}")

    primary_key, primary = entries[0][:2] if entries else (f"curated {curated[0].upstream}", {})
    if spec.lab_api is not None:
        deployments.insert(0, lab_api_deployment(spec, lab_provider, entries, deployments, snapshot))
        primary_key = spec.lab_api.price_source
        primary = next(entry for key, entry, _ in entries if key == primary_key)

    pricing = derive_pricing(primary, modality) if entries and lead is None else dict(curated[0].pricing)
    check_pricing(pricing, modality, f"{spec.id} ({primary_key})")
    for dep, (key, entry, _) in zip(deployments[len(deployments) - len(entries) :], entries, strict=True):
        dep_pricing = derive_pricing(entry, modality)
        check_pricing(dep_pricing, modality, f"{spec.id} ({key})")
        if dep_pricing != pricing:
            dep["pricing"] = dep_pricing
    for cur in curated:
        dep = curated_deployment(spec, cur, snapshot)
        if any((d["provider"], d["upstream_model"]) == (cur.provider, cur.upstream) for d in deployments):
            raise CatalogError(f"{spec.id}: duplicate deployment {cur.provider}:{cur.upstream}")
        dep = {**dep, **({"pricing": dict(cur.pricing)} if cur.pricing != pricing else {})}
        dep["curated_source"] = cur.source
        if cur is lead:
            deployments.insert(0, dep)
        else:
            deployments.append(dep)

    own_api_later = any(d["provider"] == lab_provider for d in deployments[1:])
    if lab_provider is not None and deployments[0]["provider"] != lab_provider and own_api_later:
        raise CatalogError(f"{spec.id}: the lab's own API ({lab_provider}) must be the first deployment")

    # Unknown limits are null, never 0 (0 would read as "accepts nothing").
    context = _int_or_none(primary.get("max_input_tokens")) or _int_or_none(primary.get("max_tokens"))
    if not entries:
        context = curated[0].context_window
    aliases: list[str] = [] if spec.lab in NO_BARE_ALIAS_LABS else [spec.model]
    if lab_provider is not None and deployments[0]["provider"] == lab_provider:
        aliases.append(deployments[0]["upstream_model"])
    aliases.extend(spec.aliases)

    model: dict[str, Any] = {
        "id": spec.id,
        "name": spec.name,
        "lab": spec.lab,
        "modality": modality,
        "featured": spec.id in FEATURED,
        "context_window": context or None,
        "max_output_tokens": _int_or_none(primary.get("max_output_tokens")),
        "dimensions": embedding_dimensions(spec, modality, primary),
        "capabilities": derive_capabilities(primary, modality, EXTRA_CAPABILITIES.get(spec.id, ())),
        "pricing": pricing,
        "deployments": deployments,
        "aliases": _unique_casefold(aliases),
        "source_keys": [key for key, _, _ in entries],
    }
    if model["dimensions"] is None:
        del model["dimensions"]
    return Built(model=model, warnings=warnings)


def _unique_casefold(items: list[str]) -> list[str]:
    """First occurrence of each string, comparing case-insensitively."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out


def _check_slug(spec: Spec) -> None:
    import re

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", spec.lab):
        raise CatalogError(f"bad lab {spec.lab!r}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*", spec.model):
        raise CatalogError(f"bad model slug {spec.model!r}")


def build_catalog(snapshot: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    warnings: list[str] = []
    models: list[dict[str, Any]] = []
    errors: list[str] = []
    ids: set[str] = set()
    for spec in CATALOG + EXTRA_CATALOG:
        try:
            _check_slug(spec)
            if spec.id in ids:
                raise CatalogError(f"duplicate model id {spec.id}")
            ids.add(spec.id)
            built = build_model(spec, snapshot)
        except CatalogError as exc:
            errors.append(str(exc))
            continue
        warnings.extend(built.warnings)
        models.append(built.model)
    if errors:
        raise CatalogError("\n".join(errors))
    stale = (set(CURATED_DEPLOYMENTS) | set(EMBEDDING_DIMENSIONS) | set(MODALITY_OVERRIDES)) - ids
    if stale:
        raise CatalogError(f"curated data for models not in the catalog: {sorted(stale)}")
    missing_featured = FEATURED - ids
    if missing_featured:
        raise CatalogError(f"featured models missing from CATALOG: {sorted(missing_featured)}")

    # Aliases: never another model's id, unique (case-insensitively) across the catalog.
    lower_ids = {i.lower() for i in ids}
    owners: dict[str, set[str]] = {}
    for model in models:
        for alias in model["aliases"]:
            owners.setdefault(alias.lower(), set()).add(model["id"])
    for model in models:
        kept = []
        for alias in model["aliases"]:
            key = alias.lower()
            if key in lower_ids:
                warnings.append(f"{model['id']}: alias {alias!r} dropped (equals a model id)")
            elif len(owners[key]) > 1:
                warnings.append(f"{model['id']}: alias {alias!r} dropped (shared by {sorted(owners[key])})")
            else:
                kept.append(alias)
        if kept:
            model["aliases"] = kept
        else:
            del model["aliases"]

    models.sort(key=lambda mdl: mdl["id"])
    catalog = {
        "schema_version": SCHEMA_VERSION,
        "source": SOURCE,
        "snapshot_date": SNAPSHOT_DATE,
        "generated_by": GENERATED_BY,
        "models": models,
    }
    return catalog, warnings


def render(catalog: dict[str, Any]) -> str:
    return json.dumps(catalog, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def summary(catalog: dict[str, Any]) -> str:
    models = catalog["models"]
    labs = Counter(mdl["lab"] for mdl in models)
    modalities = Counter(mdl["modality"] for mdl in models)
    providers = Counter(d["provider"] for mdl in models for d in mdl["deployments"])
    lines = [
        f"models: {len(models)}",
        f"labs: {len(labs)} ({', '.join(sorted(labs))})",
        "per modality: " + ", ".join(f"{m}={modalities.get(m, 0)}" for m in MODALITIES),
        "deployments per provider: " + ", ".join(f"{p}={n}" for p, n in sorted(providers.items())),
        "featured: " + ", ".join(mdl["id"] for mdl in models if mdl["featured"]),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="pricing snapshot JSON")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="catalog JSON to write")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if --out is stale")
    args = parser.parse_args(argv)

    snapshot = json.loads(args.source.read_text(encoding="utf-8"))
    try:
        catalog, warnings = build_catalog(snapshot)
    except CatalogError as exc:
        print(f"error:\n{exc}", file=sys.stderr)
        return 2
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    text = render(catalog)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date; run scripts/build_catalog.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    print(summary(catalog))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
