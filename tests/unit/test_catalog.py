"""Tests for core/catalog.py: parsing entries, aliases, suggestions, filtering and loading."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from aigateway.app import create_app
from aigateway.core.catalog import MODALITIES, Catalog, CatalogError, ModelEntry, load_catalog, parse_entry
from aigateway.settings import Settings
from aigateway.storage.accounts import AccountStore
from aigateway.storage.db import create_db_engine, migrate


def _raw(**fields: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": "acme/rocket-1",
        "pricing": {"input_per_mtok": "1", "output_per_mtok": "2"},
        "deployments": [{"provider": "acme", "upstream_model": "rocket-1-2026"}],
    }
    raw.update(fields)
    return raw


@pytest.fixture(scope="module")
def bundled() -> Catalog:
    return load_catalog()


# ------------------------------------------------------------------------------------- parse_entry


def test_parse_minimal_text_entry() -> None:
    entry = parse_entry(_raw())
    assert entry.id == "acme/rocket-1"
    assert entry.lab == "acme"
    assert entry.name == "rocket-1"
    assert entry.modality == "text"
    assert entry.capabilities == frozenset({"chat", "streaming"})
    assert entry.context_window is None and entry.max_output_tokens is None
    assert entry.pricing.prices == {"input_per_mtok": Decimal("1"), "output_per_mtok": Decimal("2")}
    assert len(entry.deployments) == 1
    dep = entry.deployments[0]
    assert (dep.provider, dep.upstream_model, dep.pricing) == ("acme", "rocket-1-2026", None)
    assert entry.featured is False
    assert entry.aliases == ()
    assert entry.source == "catalog"


def test_parse_full_entry() -> None:
    entry = parse_entry(
        _raw(
            lab="acme-labs",
            name="Rocket One",
            capabilities=["tools", "vision"],
            context_window="200000",
            max_output_tokens=8192,
            featured=True,
            aliases=["rocket-1", "rocket"],
            deployments=[
                {"provider": "acme", "upstream_model": "rocket-1"},
                {
                    "provider": "together",
                    "upstream_model": "acme/rocket-1",
                    "pricing": {"input_per_mtok": "1.2"},
                },
            ],
        ),
        source="config",
    )
    assert entry.lab == "acme-labs"
    assert entry.name == "Rocket One"
    assert entry.capabilities == frozenset({"tools", "vision", "chat", "streaming"})
    assert entry.supports("tools") and entry.supports("chat") and not entry.supports("reasoning")
    assert entry.context_window == 200_000
    assert entry.max_output_tokens == 8192
    assert entry.featured is True
    assert entry.aliases == ("rocket-1", "rocket")
    assert entry.source == "config"
    assert [d.provider for d in entry.deployments] == ["acme", "together"]
    second = entry.deployments[1].pricing
    assert second is not None and second.prices == {"input_per_mtok": Decimal("1.2")}


def test_non_text_models_do_not_get_chat_capabilities() -> None:
    entry = parse_entry(
        _raw(id="acme/embed-1", modality="embedding", pricing={"input_per_mtok": "0.02"}, capabilities=[])
    )
    assert entry.capabilities == frozenset()


@pytest.mark.parametrize("model_id", ["rocket-1", "", None, 42, ["acme/rocket"]])
def test_bad_id(model_id: object) -> None:
    with pytest.raises(CatalogError, match="lab/model"):
        parse_entry(_raw(id=model_id))


def test_missing_id() -> None:
    raw = _raw()
    del raw["id"]
    with pytest.raises(CatalogError, match="lab/model"):
        parse_entry(raw)


@pytest.mark.parametrize("modality", ["chat", "Text", "audio", ""])
def test_unknown_modality(modality: str) -> None:
    with pytest.raises(CatalogError, match="unknown modality"):
        parse_entry(_raw(modality=modality))


def test_text_model_without_output_price() -> None:
    with pytest.raises(CatalogError, match="price") as info:
        parse_entry(_raw(pricing={"input_per_mtok": "1"}))
    assert "acme/rocket-1" in str(info.value)
    assert "output_per_mtok" in str(info.value)


def test_model_without_any_price() -> None:
    with pytest.raises(CatalogError, match="price"):
        parse_entry(_raw(pricing=None))
    with pytest.raises(CatalogError, match="price"):
        parse_entry(_raw(pricing={}))


@pytest.mark.parametrize(
    ("modality", "pricing"),
    [
        ("embedding", {"input_per_mtok": "0.1"}),
        ("image", {"per_image": "0.04"}),
        ("image", {"output_per_mtok": "40"}),
        ("audio-stt", {"input_per_second": "0.0001"}),
        ("audio-tts", {"per_mchar": "15"}),
        ("video", {"output_per_second": "0.5"}),
        ("rerank", {"per_query": "0.002"}),
        ("moderation", {"input_per_mtok": "0"}),
    ],
)
def test_each_modality_with_its_price(modality: str, pricing: dict[str, str]) -> None:
    assert modality in MODALITIES
    assert parse_entry(_raw(modality=modality, pricing=pricing)).modality == modality


@pytest.mark.parametrize(
    ("modality", "pricing"),
    [
        ("embedding", {"output_per_mtok": "0.1"}),
        ("image", {"per_query": "1"}),
        ("audio-stt", {"output_per_mtok": "1"}),
        ("audio-tts", {"input_per_mtok": "1"}),
        ("video", {"input_per_mtok": "1"}),
        ("rerank", {"output_per_mtok": "1"}),
    ],
)
def test_each_modality_without_its_price(modality: str, pricing: dict[str, str]) -> None:
    with pytest.raises(CatalogError, match="no price"):
        parse_entry(_raw(modality=modality, pricing=pricing))


def test_float_price_rejected() -> None:
    with pytest.raises(CatalogError, match="float") as info:
        parse_entry(_raw(pricing={"input_per_mtok": 1.5, "output_per_mtok": "2"}))
    assert "acme/rocket-1" in str(info.value)


@pytest.mark.parametrize(
    "pricing",
    [
        {"input_per_mtok": "1", "output_per_mtok": "-2"},
        {"input_per_mtok": "1", "output_per_mtok": "2", "per_token": "1"},
        {"input_per_mtok": "one", "output_per_mtok": "2"},
    ],
)
def test_bad_prices_rejected(pricing: dict[str, str]) -> None:
    with pytest.raises(CatalogError, match="bad pricing"):
        parse_entry(_raw(pricing=pricing))


def test_float_deployment_price_rejected_as_catalog_error() -> None:
    deployments = [{"provider": "acme", "upstream_model": "r1", "pricing": {"input_per_mtok": 1.5}}]
    with pytest.raises(CatalogError, match="acme/rocket-1"):
        parse_entry(_raw(deployments=deployments))


def test_float_deployment_price_still_refused() -> None:
    deployments = [{"provider": "acme", "upstream_model": "r1", "pricing": {"input_per_mtok": 1.5}}]
    with pytest.raises(ValueError, match="float"):
        parse_entry(_raw(deployments=deployments))


@pytest.mark.parametrize("deployments", [None, []])
def test_no_deployments(deployments: object) -> None:
    with pytest.raises(CatalogError, match="no deployments"):
        parse_entry(_raw(deployments=deployments))


@pytest.mark.parametrize(
    "dep",
    [
        {"provider": "acme"},
        {"upstream_model": "r1"},
        {"provider": "", "upstream_model": "r1"},
        {"provider": "acme", "upstream_model": ""},
        {"provider": "acme", "upstream_model": 1},
    ],
)
def test_incomplete_deployment(dep: dict[str, Any]) -> None:
    with pytest.raises(CatalogError, match="provider and upstream_model"):
        parse_entry(_raw(deployments=[dep]))


@pytest.mark.parametrize("value", [1.5, True, [1]])
def test_bad_integer_fields(value: object) -> None:
    with pytest.raises(CatalogError, match="integer"):
        parse_entry(_raw(context_window=value))


def test_to_public() -> None:
    entry = parse_entry(
        _raw(
            capabilities=["tools"],
            pricing={"input_per_mtok": "1.50", "output_per_mtok": "10"},
            aliases=["rocket"],
            context_window=1000,
        )
    )
    public = entry.to_public(created=1_700_000_000)
    assert public == {
        "id": "acme/rocket-1",
        "object": "model",
        "created": 1_700_000_000,
        "owned_by": "acme",
        "name": "rocket-1",
        "modality": "text",
        "capabilities": ["chat", "streaming", "tools"],
        "context_window": 1000,
        "max_output_tokens": None,
        "pricing": {"currency": "USD", "input_per_mtok": "1.5", "output_per_mtok": "10"},
        "providers": ["acme"],
        "featured": False,
        "aliases": ["rocket"],
    }
    json.dumps(public)  # plain JSON types only


# ------------------------------------------------------------------------------------------ Catalog


def _entry(model_id: str, *, aliases: list[str] | None = None, **fields: Any) -> ModelEntry:
    return parse_entry(_raw(id=model_id, aliases=aliases or [], **fields))


def test_aliases_resolve() -> None:
    catalog = Catalog()
    catalog.add(_entry("acme/rocket-1", aliases=["rocket", "rocket-latest"]))
    entry = catalog.get("acme/rocket-1")
    assert entry is not None
    assert catalog.get("rocket") is entry
    assert catalog.get("rocket-latest") is entry
    assert catalog.get("acme/rocket-2") is None
    assert catalog.get("rocket-2") is None


def test_duplicate_id_rejected() -> None:
    catalog = Catalog()
    catalog.add(_entry("acme/rocket-1"))
    with pytest.raises(CatalogError, match="duplicate model id"):
        catalog.add(_entry("acme/rocket-1"))


def test_duplicate_alias_rejected() -> None:
    catalog = Catalog()
    catalog.add(_entry("acme/rocket-1", aliases=["rocket"]))
    with pytest.raises(CatalogError, match="alias 'rocket'"):
        catalog.add(_entry("acme/rocket-2", aliases=["rocket"]))
    assert catalog.aliases["rocket"] == "acme/rocket-1"


def test_alias_equal_to_a_model_id_rejected() -> None:
    catalog = Catalog()
    catalog.add(_entry("acme/rocket-1"))
    with pytest.raises(CatalogError, match="already taken"):
        catalog.add(_entry("acme/rocket-2", aliases=["acme/rocket-1"]))


def test_replace_keeps_own_aliases() -> None:
    catalog = Catalog()
    catalog.add(_entry("acme/rocket-1", aliases=["rocket"]))
    catalog.add(_entry("acme/rocket-1", aliases=["rocket"], name="Rocket v2"), replace=True)
    entry = catalog.get("rocket")
    assert entry is not None and entry.name == "Rocket v2"


def test_labs() -> None:
    catalog = Catalog()
    catalog.add(_entry("acme/rocket-1"))
    catalog.add(_entry("acme/rocket-2"))
    catalog.add(_entry("globex/widget"))
    assert catalog.labs() == {"acme", "globex"}


def test_list_filters() -> None:
    catalog = Catalog()
    catalog.add(_entry("acme/rocket-2"))
    catalog.add(_entry("acme/rocket-1"))
    catalog.add(
        _entry(
            "globex/embed",
            modality="embedding",
            pricing={"input_per_mtok": "0.01"},
            deployments=[
                {"provider": "globex", "upstream_model": "embed"},
                {"provider": "together", "upstream_model": "globex/embed"},
            ],
        )
    )
    assert [m.id for m in catalog.list()] == ["acme/rocket-1", "acme/rocket-2", "globex/embed"]
    assert [m.id for m in catalog.list(modality="text")] == ["acme/rocket-1", "acme/rocket-2"]
    assert [m.id for m in catalog.list(modality="embedding")] == ["globex/embed"]
    assert catalog.list(modality="video") == []
    assert [m.id for m in catalog.list(provider="together")] == ["globex/embed"]  # deployment provider
    assert [m.id for m in catalog.list(provider="globex")] == ["globex/embed"]  # lab
    assert [m.id for m in catalog.list(provider="acme", modality="embedding")] == []
    assert catalog.list(provider="nobody") == []


def test_suggest_on_small_catalog() -> None:
    catalog = Catalog()
    catalog.add(_entry("acme/rocket-1", aliases=["rocket"]))
    catalog.add(_entry("globex/widget"))
    assert catalog.suggest("acme/rocket-l")[0] == "acme/rocket-1"
    assert catalog.suggest("rockett") == ["acme/rocket-1"]  # an alias is suggested as its canonical id
    assert catalog.suggest("zzzzzzzzzzzz") == []
    assert len(catalog.suggest("acme/rocket-1", limit=1)) == 1


# ------------------------------------------------------------------------------------ bundled file


def test_bundled_catalog_size(bundled: Catalog) -> None:
    assert len(bundled.models) >= 150
    assert len(bundled.labs()) >= 40
    assert bundled.snapshot_date
    assert all(entry.source == "catalog" for entry in bundled.models.values())


def test_bundled_catalog_aliases_point_to_models(bundled: Catalog) -> None:
    assert bundled.aliases
    for alias, target in bundled.aliases.items():
        assert target in bundled.models, alias
        assert alias not in bundled.models, alias


def test_suggest_claude_opus(bundled: Catalog) -> None:
    assert "anthropic/claude-opus-4.7" in bundled.models
    assert bundled.suggest("anthropic/claude-opus-4-7x")[0] == "anthropic/claude-opus-4.7"
    assert bundled.suggest("claude-opus-4.7")[0] == "anthropic/claude-opus-4.7"
    entry = bundled.get("claude-opus-4.7")
    assert entry is not None and entry.id == "anthropic/claude-opus-4.7"
    for suggestion in bundled.suggest("claude-opus-4.7"):
        assert suggestion in bundled.models  # canonical ids, never aliases


def test_bundled_list_by_provider(bundled: Catalog) -> None:
    by_bedrock = bundled.list(provider="bedrock")
    assert any(m.lab == "anthropic" for m in by_bedrock)  # served by bedrock, made by anthropic
    assert all(m.lab == "bedrock" or any(d.provider == "bedrock" for d in m.deployments) for m in by_bedrock)
    by_anthropic = bundled.list(provider="anthropic")
    assert "anthropic/claude-opus-4.7" in [m.id for m in by_anthropic]
    embeddings = bundled.list(modality="embedding")
    assert embeddings and all(m.modality == "embedding" for m in embeddings)
    ids = [m.id for m in bundled.list()]
    assert ids == sorted(ids) and len(ids) == len(bundled.models)


def test_load_catalog_from_path(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    doc = {"snapshot_date": "2026-01-01", "source": "unit test", "models": [_raw(aliases=["rocket"])]}
    path.write_text(json.dumps(doc), encoding="utf-8")
    catalog = load_catalog(path)
    assert list(catalog.models) == ["acme/rocket-1"]
    assert catalog.snapshot_date == "2026-01-01"
    assert catalog.source == "unit test"
    assert catalog.get("rocket") is catalog.models["acme/rocket-1"]


def test_load_catalog_rejects_bad_file_entry(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"models": [_raw(pricing={"input_per_mtok": "1"})]}), encoding="utf-8")
    with pytest.raises(CatalogError, match="price"):
        load_catalog(path)


def test_extra_models_add_an_entry(bundled: Catalog) -> None:
    extra = _raw(
        id="local/llama-private",
        aliases=["private-llama"],
        pricing={"input_per_mtok": "0", "output_per_mtok": "0"},
    )
    catalog = load_catalog(extra_models=[extra])
    assert len(catalog.models) == len(bundled.models) + 1
    entry = catalog.get("private-llama")
    assert entry is not None and entry.id == "local/llama-private"
    assert entry.source == "config"


def test_extra_models_replace_an_entry(bundled: Catalog) -> None:
    old = bundled.models["anthropic/claude-opus-4.7"]
    assert "claude-opus-4.7" in old.aliases
    extra = {
        "id": "anthropic/claude-opus-4.7",
        "pricing": {"input_per_mtok": "4", "output_per_mtok": "20"},
        "deployments": [{"provider": "bedrock", "upstream_model": "anthropic.claude-opus-4-7"}],
        "aliases": ["opus"],
    }
    catalog = load_catalog(extra_models=[extra])
    assert len(catalog.models) == len(bundled.models)
    entry = catalog.get("anthropic/claude-opus-4.7")
    assert entry is not None
    assert entry.source == "config"
    assert entry.pricing.get("output_per_mtok") == Decimal("20")
    assert [d.provider for d in entry.deployments] == ["bedrock"]
    assert catalog.get("opus") is entry
    for alias in old.aliases:  # the replaced entry's aliases are gone, not dangling
        assert alias not in catalog.aliases
        assert catalog.get(alias) is None


def test_extra_models_are_validated() -> None:
    with pytest.raises(CatalogError, match="price"):
        load_catalog(extra_models=[_raw(id="local/free", pricing={})])


def test_extra_model_alias_clash_rejected(bundled: Catalog) -> None:
    taken = next(iter(bundled.aliases))
    with pytest.raises(CatalogError, match="already taken"):
        load_catalog(extra_models=[_raw(id="local/x", aliases=[taken])])


# ------------------------------------------------------------------------ every modality over HTTP

# A modality the bundled catalog has no model of (none: DETR ResNet-50 is priced per compute second).
EMPTY_MODALITIES: set[str] = set()


def test_bundled_catalog_lists_every_modality(bundled: Catalog) -> None:
    for modality in MODALITIES:
        listed = bundled.list(modality=modality)
        assert all(m.modality == modality for m in listed), modality
        assert bool(listed) == (modality not in EMPTY_MODALITIES), modality
        for entry in listed:  # the loader refused any model without its modality's prices
            assert entry.pricing.prices and entry.deployments, entry.id


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    tmp_path = tmp_path_factory.mktemp("models-api")
    url = f"sqlite:///{tmp_path}/t.db"
    engine = create_db_engine(url)
    migrate(engine)
    store = AccountStore(engine)
    key, _record = store.create_key(store.create_account("catalog-test"), "catalog-test", test=True)
    engine.dispose()
    with TestClient(create_app(Settings(data_dir=tmp_path, database_url=url))) as client:
        yield client, key


@pytest.mark.parametrize("modality", MODALITIES)
def test_models_endpoint_filters_by_every_modality(
    served: tuple[TestClient, str], bundled: Catalog, modality: str
) -> None:
    client, key = served
    answer = client.get(
        "/v1/models", params={"modality": modality}, headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert [m["id"] for m in data] == [m.id for m in bundled.list(modality=modality)]
    assert all(m["modality"] == modality and m["providers"] and m["pricing"] for m in data)
    if modality not in EMPTY_MODALITIES:
        detail = client.get(f"/v1/models/{data[0]['id']}", headers={"Authorization": f"Bearer {key}"})
        assert detail.status_code == 200 and detail.json()["deployments"], detail.text


def test_models_endpoint_refuses_an_unknown_modality(served: tuple[TestClient, str]) -> None:
    client, key = served
    answer = client.get(
        "/v1/models", params={"modality": "hologram"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "modality"
