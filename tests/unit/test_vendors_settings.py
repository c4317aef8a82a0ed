"""Tests for providers/vendors.py (vendor profiles) and settings.py (environment > file > defaults)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aigateway.providers.vendors import BUILTIN_VENDORS, VendorProfile, build_vendors
from aigateway.settings import ProviderConfig, Settings, load_settings

OPENAI_COMPATIBLE = (
    "openai",
    "xai",
    "moonshot",
    "minimax",
    "deepseek",
    "mistral",
    "groq",
    "together",
    "fireworks",
    "openrouter",
)


# ------------------------------------------------------------------------------------------ vendors


def test_builtins_present() -> None:
    vendors = build_vendors({}, environ={})
    for name in OPENAI_COMPATIBLE:
        vendor = vendors[name]
        assert vendor.name == name
        assert vendor.wire == "openai"
        assert vendor.auth == "bearer"
        assert vendor.base_url.startswith("https://")
        assert vendor.key_envs and vendor.key_envs[0] == f"{name.upper()}_API_KEY"
        assert vendor.key_required is True
        assert vendor.api_key is None
    assert vendors["openai"].base_url == "https://api.openai.com/v1"
    assert vendors["groq"].base_url == "https://api.groq.com/openai/v1"
    assert vendors["anthropic"].wire == "anthropic" and vendors["anthropic"].auth == "x-api-key"
    assert vendors["google"].auth == "x-goog-api-key"
    assert vendors["ollama"].key_required is False
    assert set(vendors) == {v.name for v in BUILTIN_VENDORS}


def test_builtin_names_are_unique() -> None:
    names = [v.name for v in BUILTIN_VENDORS]
    assert len(names) == len(set(names))


def test_base_url_override_from_environ() -> None:
    environ = {
        "AIGATEWAY_OPENAI_BASE_URL": "http://127.0.0.1:9001/v1",
        "AIGATEWAY_NVIDIA_NIM_BASE_URL": "http://127.0.0.1:9002/v1",
        "AIGATEWAY_GROQ_BASE_URL": "",  # empty means no override
    }
    vendors = build_vendors({}, environ=environ)
    assert vendors["openai"].base_url == "http://127.0.0.1:9001/v1"
    assert vendors["nvidia_nim"].base_url == "http://127.0.0.1:9002/v1"
    assert vendors["groq"].base_url == "https://api.groq.com/openai/v1"
    assert vendors["mistral"].base_url == "https://api.mistral.ai/v1"
    # everything else about the profile is unchanged
    assert vendors["openai"].key_envs == ("OPENAI_API_KEY",)


def test_environ_argument_is_used_instead_of_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGATEWAY_OPENAI_BASE_URL", "http://from-os-environ/v1")
    assert build_vendors({}, environ={})["openai"].base_url == "https://api.openai.com/v1"
    assert build_vendors({})["openai"].base_url == "http://from-os-environ/v1"


def test_environ_override_beats_config_base_url() -> None:
    configured = {"openai": ProviderConfig(base_url="http://config/v1")}
    assert build_vendors(configured, environ={})["openai"].base_url == "http://config/v1"
    environ = {"AIGATEWAY_OPENAI_BASE_URL": "http://env/v1"}
    assert build_vendors(configured, environ=environ)["openai"].base_url == "http://env/v1"


def test_config_adds_a_vendor() -> None:
    configured = {
        "vllm": ProviderConfig(
            base_url="http://10.0.0.5:8000/v1",
            api_key_env="VLLM_KEY",
            headers={"X-Team": "search"},
            timeout_s=30,
        )
    }
    vendors = build_vendors(configured, environ={})
    vendor = vendors["vllm"]
    assert vendor.name == "vllm"
    assert vendor.base_url == "http://10.0.0.5:8000/v1"
    assert vendor.key_envs == ("VLLM_KEY",)
    assert vendor.key_required is True
    assert vendor.wire == "openai"
    assert vendor.auth == "bearer"
    assert dict(vendor.headers) == {"X-Team": "search"}
    assert vendor.timeout_s == 30
    assert "openai" in vendors  # built-ins are still there


def test_config_adds_a_keyless_vendor() -> None:
    vendor = build_vendors({"local": ProviderConfig(base_url="http://localhost:1234/v1")}, environ={})[
        "local"
    ]
    assert vendor.key_required is False
    assert vendor.key_envs == ()
    assert vendor.credential() is None
    assert vendor.key_hint == "providers.local.api_key"


def test_config_adds_a_vendor_with_inline_key_and_wire() -> None:
    configured = {"private": ProviderConfig(base_url="https://p/v1", api_key="pk-123456", wire="anthropic")}
    vendor = build_vendors(configured, environ={})["private"]
    assert vendor.key_required is True
    assert vendor.credential() == "pk-123456"
    assert vendor.wire == "anthropic"


def test_new_vendor_needs_base_url() -> None:
    with pytest.raises(ValueError, match=r"'vllm'.*base_url"):
        build_vendors({"vllm": ProviderConfig(api_key_env="VLLM_KEY")}, environ={})


def test_config_overrides_builtin_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    vendor = build_vendors({"openai": ProviderConfig(api_key="sk-from-config")}, environ={})["openai"]
    assert vendor.credential() == "sk-from-config"
    assert vendor.base_url == "https://api.openai.com/v1"  # not touched
    assert vendor.key_envs == ("OPENAI_API_KEY",)
    assert "sk-from-config" not in repr(vendor)  # the key is kept out of repr


def test_config_overrides_builtin_api_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-default-env")
    monkeypatch.setenv("TEAM_OPENAI_KEY", "sk-team-env")
    vendor = build_vendors({"openai": ProviderConfig(api_key_env="TEAM_OPENAI_KEY")}, environ={})["openai"]
    assert vendor.key_envs == ("TEAM_OPENAI_KEY",)
    assert vendor.credential() == "sk-team-env"
    assert vendor.key_hint == "TEAM_OPENAI_KEY"


def test_config_merges_builtin_headers() -> None:
    configured = {"openrouter": ProviderConfig(headers={"HTTP-Referer": "https://me", "X-Title": "gw"})}
    vendor = build_vendors(configured, environ={})["openrouter"]
    assert dict(vendor.headers) == {"HTTP-Referer": "https://me", "X-Title": "gw"}
    assert vendor.sends_reasoning_content is True  # other fields of the built-in are kept
    layered = build_vendors(
        {"x": ProviderConfig(base_url="http://x/v1", headers={"A": "1", "B": "2"})}, environ={}
    )["x"]
    assert dict(layered.headers) == {"A": "1", "B": "2"}


def test_config_override_leaves_builtin_profiles_untouched() -> None:
    before = {v.name: v for v in BUILTIN_VENDORS}["openai"]
    build_vendors({"openai": ProviderConfig(api_key="sk-x", headers={"A": "1"})}, environ={})
    after = {v.name: v for v in BUILTIN_VENDORS}["openai"]
    assert after == before
    assert after.api_key is None
    assert dict(after.headers) == {}


def test_credential_from_env_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    monkeypatch.delenv("TOGETHERAI_API_KEY", raising=False)
    together = build_vendors({}, environ={})["together"]
    assert together.key_envs == ("TOGETHER_API_KEY", "TOGETHERAI_API_KEY")
    assert together.credential() is None

    monkeypatch.setenv("TOGETHERAI_API_KEY", "second")
    assert together.credential() == "second"

    monkeypatch.setenv("TOGETHER_API_KEY", "first")
    assert together.credential() == "first"

    monkeypatch.setenv("TOGETHER_API_KEY", "")  # empty is not a key
    assert together.credential() == "second"


def test_credential_google_env_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.setenv("GOOGLE_API_KEY", "g-google")
    google = build_vendors({}, environ={})["google"]
    assert google.credential() == "g-google"
    monkeypatch.setenv("GEMINI_API_KEY", "g-gemini")
    assert google.credential() == "g-gemini"


def test_credential_is_read_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    vendor = build_vendors({}, environ={})["mistral"]
    assert vendor.credential() is None
    monkeypatch.setenv("MISTRAL_API_KEY", "m-rotated")
    assert vendor.credential() == "m-rotated"


def test_profile_is_immutable() -> None:
    vendor = VendorProfile(name="x", base_url="http://x", key_envs=())
    with pytest.raises(AttributeError):
        vendor.base_url = "http://y"  # type: ignore[misc]


# ----------------------------------------------------------------------------------------- settings

CONFIG = """
[gateway]
port = 9999
host = "0.0.0.0"
log_level = "debug"

[providers.x]
base_url = "http://10.0.0.7:8000/v1"
api_key_env = "X_KEY"
headers = { "X-Org" = "acme" }

[providers.openai]
api_key = "sk-config-openai"

[[models]]
id = "x/llama-private"
pricing = { input_per_mtok = "0", output_per_mtok = "0" }
deployments = [{ provider = "x", upstream_model = "llama" }]

[[models]]
id = "x/other"
"""


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AIGATEWAY_* variables from the machine, and an empty working directory."""
    for name in list(os.environ):
        if name.upper().startswith("AIGATEWAY_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults(clean_env: Path) -> None:
    settings = load_settings()
    assert isinstance(settings, Settings)
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.workers == 1
    assert settings.log_level == "info"
    assert settings.config is None
    assert settings.providers == {}
    assert settings.models == []
    assert settings.data_dir == Path("data")


def test_config_file_beats_defaults(clean_env: Path) -> None:
    (clean_env / "aigateway.toml").write_text(CONFIG, encoding="utf-8")
    settings = load_settings()
    assert settings.port == 9999
    assert settings.host == "0.0.0.0"
    assert settings.log_level == "debug"
    assert settings.workers == 1  # not in the file: default
    assert settings.config == Path("aigateway.toml")
    assert set(settings.providers) == {"x", "openai"}
    x = settings.providers["x"]
    assert isinstance(x, ProviderConfig)
    assert x.base_url == "http://10.0.0.7:8000/v1"
    assert x.api_key_env == "X_KEY"
    assert x.headers == {"X-Org": "acme"}
    assert settings.providers["openai"].api_key == "sk-config-openai"
    assert [m["id"] for m in settings.models] == ["x/llama-private", "x/other"]
    assert settings.models[0]["deployments"] == [{"provider": "x", "upstream_model": "llama"}]


def test_env_beats_config_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_env / "aigateway.toml").write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("AIGATEWAY_PORT", "7777")
    monkeypatch.setenv("AIGATEWAY_WORKERS", "4")
    settings = load_settings()
    assert settings.port == 7777
    assert settings.workers == 4
    assert settings.host == "0.0.0.0"  # from the file, the environment does not set it
    assert settings.providers["x"].base_url == "http://10.0.0.7:8000/v1"


def test_env_beats_defaults(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGATEWAY_HOST", "0.0.0.0")
    monkeypatch.setenv("AIGATEWAY_ACCESS_LOG", "true")
    monkeypatch.setenv("AIGATEWAY_UPSTREAM_TIMEOUT_S", "12.5")
    settings = load_settings()
    assert settings.host == "0.0.0.0"
    assert settings.access_log is True
    assert settings.upstream_timeout_s == 12.5


def test_explicit_overrides_beat_everything(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_env / "aigateway.toml").write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("AIGATEWAY_PORT", "7777")
    settings = load_settings(port=1234, host=None)
    assert settings.port == 1234
    assert settings.host == "0.0.0.0"  # None overrides are ignored


def test_config_env_var_points_to_another_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = clean_env / "conf" / "gw.toml"
    other.parent.mkdir()
    other.write_text("[gateway]\nport = 8181\n", encoding="utf-8")
    (clean_env / "aigateway.toml").write_text(CONFIG, encoding="utf-8")  # ignored
    monkeypatch.setenv("AIGATEWAY_CONFIG", str(other))
    settings = load_settings()
    assert settings.port == 8181
    assert settings.config == other
    assert settings.providers == {}


def test_config_override_argument(clean_env: Path) -> None:
    other = clean_env / "gw.toml"
    other.write_text("[gateway]\nport = 8282\n", encoding="utf-8")
    settings = load_settings(config=other)
    assert settings.port == 8282
    assert settings.config == other


def test_missing_config_file_from_env_raises(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGATEWAY_CONFIG", str(clean_env / "nope.toml"))
    with pytest.raises(FileNotFoundError, match=r"nope\.toml"):
        load_settings()


def test_missing_config_file_from_argument_raises(clean_env: Path) -> None:
    with pytest.raises(FileNotFoundError, match="config file not found"):
        load_settings(config=clean_env / "missing.toml")


def test_missing_default_config_file_is_fine(clean_env: Path) -> None:
    assert not (clean_env / "aigateway.toml").exists()
    assert load_settings().config is None


def test_invalid_value_in_file_is_refused(clean_env: Path) -> None:
    (clean_env / "aigateway.toml").write_text('[gateway]\nport = "not a port"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="port"):
        load_settings()


def test_resolved_database_url_default_under_data_dir(clean_env: Path) -> None:
    settings = load_settings()
    assert settings.database_url is None
    assert settings.resolved_database_url == "sqlite:///data/aigateway.db"


def test_resolved_database_url_follows_data_dir(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGATEWAY_DATA_DIR", str(clean_env / "state"))
    settings = load_settings()
    assert settings.data_dir == clean_env / "state"
    assert settings.resolved_database_url == f"sqlite:///{(clean_env / 'state').as_posix()}/aigateway.db"


def test_resolved_database_url_explicit(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGATEWAY_DATABASE_URL", "postgresql+psycopg://gw:pw@db:5432/gw")
    settings = load_settings()
    assert settings.resolved_database_url == "postgresql+psycopg://gw:pw@db:5432/gw"


def test_settings_repr_hides_admin_key(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGATEWAY_ADMIN_KEY", "sk-aig-admin-secret-value")
    settings = load_settings()
    assert settings.admin_key == "sk-aig-admin-secret-value"
    assert "sk-aig-admin-secret-value" not in repr(settings)


def test_file_providers_feed_build_vendors(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_env / "aigateway.toml").write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("X_KEY", "x-secret")
    settings = load_settings()
    vendors = build_vendors(settings.providers, environ={})
    assert vendors["x"].base_url == "http://10.0.0.7:8000/v1"
    assert vendors["x"].credential() == "x-secret"
    assert dict(vendors["x"].headers) == {"X-Org": "acme"}
    assert vendors["openai"].credential() == "sk-config-openai"


def test_a_new_vendor_takes_its_wires_auth_style_unless_told() -> None:
    vendors = build_vendors(
        {
            "claude-proxy": ProviderConfig(base_url="http://proxy/v1", wire="anthropic", api_key="k"),
            "gemini-proxy": ProviderConfig(base_url="http://proxy/v1beta", wire="gemini", api_key="k"),
            "plain": ProviderConfig(base_url="http://plain/v1", api_key="k"),
            "custom": ProviderConfig(base_url="http://c/v1", wire="anthropic", auth="bearer", api_key="k"),
        },
        environ={},
    )
    assert vendors["claude-proxy"].auth == "x-api-key"
    assert vendors["gemini-proxy"].auth == "x-goog-api-key"
    assert vendors["plain"].auth == "bearer"
    assert vendors["custom"].auth == "bearer"
