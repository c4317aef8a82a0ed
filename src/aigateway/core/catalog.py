"""The model catalog: what models exist, what they can do, what they cost, who serves them.

Built from the committed ``data/catalog.json`` (derived by ``scripts/build_catalog.py``) plus the
operator's own models from configuration. A model without the prices its modality needs is refused
at load time: the gateway never bills an unpriced call as $0.
"""

from __future__ import annotations

import builtins
import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from aigateway.core.pricing import Pricing

MODALITIES = (
    "text",
    "image",
    "audio-stt",
    "audio-tts",
    "video",
    "embedding",
    "rerank",
    "moderation",
    "translation",
    "classification",
    "detection",
    "ocr",
)

# Which prices a modality must have (any one of each inner tuple).
_REQUIRED_PRICES: dict[str, tuple[tuple[str, ...], ...]] = {
    "text": (("input_per_mtok",), ("output_per_mtok",)),
    "embedding": (("input_per_mtok",),),
    "image": (("per_image", "output_per_mtok", "input_per_mtok"),),
    "audio-stt": (("input_per_second", "input_per_mtok"),),
    "audio-tts": (("per_mchar", "output_per_mtok", "output_per_second"),),
    "video": (("output_per_second", "per_image"),),
    "rerank": (("per_query", "input_per_mtok"),),
    "moderation": (("input_per_mtok", "per_query"),),
    "translation": (("input_per_mtok", "per_query", "per_mchar"),),
    "classification": (("input_per_mtok", "per_query"),),
    "detection": (("per_image", "input_per_image", "per_query", "input_per_mtok", "per_compute_second"),),
    "ocr": (("per_page", "input_per_image", "input_per_mtok", "per_query", "per_compute_second"),),
}


class CatalogError(ValueError):
    """The catalog or an operator's model definition is invalid."""


@dataclass(frozen=True, slots=True)
class Deployment:
    provider: str
    upstream_model: str
    pricing: Pricing | None = None


@dataclass(frozen=True, slots=True)
class ModelEntry:
    id: str
    lab: str
    name: str
    modality: str
    capabilities: frozenset[str]
    context_window: int | None
    max_output_tokens: int | None
    pricing: Pricing
    deployments: tuple[Deployment, ...]
    featured: bool = False
    aliases: tuple[str, ...] = ()
    source: str = "catalog"
    dimensions: int | None = None  # embedding models: the native vector size

    def supports(self, capability: str) -> bool:
        return capability in self.capabilities

    def to_public(self, created: int) -> dict[str, Any]:
        """The OpenAI model-list shape plus pricing and capabilities."""
        return {
            "id": self.id,
            "object": "model",
            "created": created,
            "owned_by": self.lab,
            "name": self.name,
            "modality": self.modality,
            "capabilities": sorted(self.capabilities),
            "context_window": self.context_window,
            "max_output_tokens": self.max_output_tokens,
            "pricing": {"currency": "USD", **self.pricing.as_strings()},
            "providers": [d.provider for d in self.deployments],
            "featured": self.featured,
            "aliases": list(self.aliases),
            **({"dimensions": self.dimensions} if self.dimensions else {}),
        }


@dataclass(slots=True)
class Catalog:
    models: dict[str, ModelEntry] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    snapshot_date: str = ""
    source: str = ""
    _folded_names: dict[str, str] | None = field(default=None, repr=False)

    def get(self, model_id: str) -> ModelEntry | None:
        """By id or alias; exact first, then ignoring case (``MiniMax-M2.7`` = ``minimax-m2.7``)."""
        entry = self.models.get(model_id)
        if entry is None:
            target = self.aliases.get(model_id) or self._folded().get(model_id.lower())
            if target is not None:
                entry = self.models.get(target)
        return entry

    def _folded(self) -> dict[str, str]:
        if self._folded_names is None or len(self._folded_names) < len(self.models):
            folded: dict[str, str] = {}
            for alias, target in self.aliases.items():
                folded.setdefault(alias.lower(), target)
            for model_id in self.models:
                folded[model_id.lower()] = model_id
            self._folded_names = folded
        return self._folded_names

    def list(self, *, modality: str | None = None, provider: str | None = None) -> list[ModelEntry]:
        out: Iterable[ModelEntry] = self.models.values()
        if modality:
            out = (m for m in out if m.modality == modality)
        if provider:
            out = (m for m in out if m.lab == provider or any(d.provider == provider for d in m.deployments))
        return sorted(out, key=lambda m: m.id)

    def suggest(self, model_id: str, limit: int = 3) -> builtins.list[str]:
        names = builtins.list(self.models) + builtins.list(self.aliases)
        found = difflib.get_close_matches(model_id, names, n=limit * 2, cutoff=0.5)
        tail = model_id.rsplit("/", 1)[-1]
        if tail != model_id:
            found += difflib.get_close_matches(tail, names, n=limit, cutoff=0.5)
        result: builtins.list[str] = []
        for name in found:
            canonical = self.aliases.get(name, name)
            if canonical not in result:
                result.append(canonical)
        return result[:limit]

    def labs(self) -> set[str]:
        return {m.lab for m in self.models.values()}

    def add(self, entry: ModelEntry, *, replace: bool = False) -> None:
        if entry.id in self.models and not replace:
            raise CatalogError(f"duplicate model id {entry.id!r}")
        for alias in entry.aliases:
            owner = self.aliases.get(alias)
            if alias in self.models or alias == entry.id or (owner is not None and owner != entry.id):
                raise CatalogError(f"alias {alias!r} of {entry.id!r} is already taken")
        self.models[entry.id] = entry
        self._folded_names = None
        for alias in entry.aliases:
            self.aliases[alias] = entry.id


def parse_entry(raw: Mapping[str, Any], *, source: str = "catalog") -> ModelEntry:
    model_id = raw.get("id")
    if not isinstance(model_id, str) or "/" not in model_id:
        raise CatalogError(f"model id must be 'lab/model', got {model_id!r}")
    modality = raw.get("modality", "text")
    if modality not in MODALITIES:
        raise CatalogError(f"{model_id}: unknown modality {modality!r}")
    try:
        pricing = Pricing.from_mapping(dict(raw.get("pricing") or {}))
    except (ValueError, ArithmeticError) as exc:
        raise CatalogError(f"{model_id}: bad pricing: {exc}") from exc
    for options in _REQUIRED_PRICES[modality]:
        if not any(key in pricing.prices for key in options):
            raise CatalogError(
                f"{model_id}: no price ({' or '.join(options)}); a model without a price is refused, "
                "never billed as $0"
            )
    deployments: list[Deployment] = []
    for dep in raw.get("deployments") or []:
        provider, upstream = dep.get("provider"), dep.get("upstream_model")
        if not isinstance(provider, str) or not isinstance(upstream, str) or not provider or not upstream:
            raise CatalogError(f"{model_id}: deployment needs provider and upstream_model")
        try:
            dep_pricing = Pricing.from_mapping(dict(dep["pricing"])) if dep.get("pricing") else None
        except (ValueError, ArithmeticError) as exc:
            raise CatalogError(f"{model_id}: bad pricing for deployment {provider}: {exc}") from exc
        deployments.append(Deployment(provider, upstream, dep_pricing))
    if not deployments:
        raise CatalogError(f"{model_id}: no deployments")
    caps = frozenset(str(c) for c in raw.get("capabilities") or [])
    if modality == "text":
        caps = caps | {"chat", "streaming"}
    return ModelEntry(
        id=model_id,
        lab=str(raw.get("lab") or model_id.split("/", 1)[0]),
        name=str(raw.get("name") or model_id.split("/", 1)[1]),
        modality=modality,
        capabilities=caps,
        context_window=_opt_int(raw.get("context_window")),
        max_output_tokens=_opt_int(raw.get("max_output_tokens")),
        pricing=pricing,
        deployments=tuple(deployments),
        featured=bool(raw.get("featured", False)),
        aliases=tuple(str(a) for a in raw.get("aliases") or []),
        source=source,
        dimensions=_opt_int(raw.get("dimensions")),
    )


def _opt_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CatalogError(f"expected an integer, got {value!r}")
    return int(value)


def load_catalog(path: Path | None = None, extra_models: Iterable[Mapping[str, Any]] = ()) -> Catalog:
    """Load the bundled catalog (or ``path``), then the operator's models, which may replace entries."""
    if path is None:
        text = resources.files("aigateway.data").joinpath("catalog.json").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    catalog = Catalog(snapshot_date=str(doc.get("snapshot_date", "")), source=str(doc.get("source", "")))
    for raw in doc.get("models", []):
        catalog.add(parse_entry(raw))
    for raw in extra_models:
        entry = parse_entry(raw, source="config")
        old = catalog.models.get(entry.id)
        if old is not None:
            for alias in old.aliases:
                catalog.aliases.pop(alias, None)
        catalog.add(entry, replace=True)
    return catalog
