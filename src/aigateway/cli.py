"""The ``aigateway`` command: serve, migrate, keys, balance, models; sub-accounts (cli_subaccounts.py)
and usage (cli_usage.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import threading
import time
import tomllib
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from alembic.util import CommandError
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from aigateway.cli_common import (
    ConfigOpt,
    console,
    db_reason,
    fail,
    no_account,
    one_line,
    open_engine,
    open_store,
    require_text,
    resolve_account,
)
from aigateway.cli_subaccounts import subaccounts_app
from aigateway.cli_usage import usage_cmd
from aigateway.cli_worker import worker_cmd
from aigateway.core.catalog import CatalogError, load_catalog
from aigateway.core.money import NANO_PER_USD, nano_to_usd_str, usd_to_nano
from aigateway.settings import Settings, load_settings
from aigateway.storage.accounts import AccountStore

app = typer.Typer(add_completion=False, no_args_is_help=True, help="AIgateway: one OpenAI-compatible API.")
keys_app = typer.Typer(no_args_is_help=True, help="Create, list and revoke API keys.")
balance_app = typer.Typer(no_args_is_help=True, help="Wallet balances.")
app.add_typer(keys_app, name="keys")
app.add_typer(balance_app, name="balance")
accounts_app = typer.Typer(no_args_is_help=True, help="Accounts (each has its own wallet and keys).")
app.add_typer(accounts_app, name="accounts")
app.add_typer(subaccounts_app, name="sub-accounts")
app.command("usage")(usage_cmd)
app.command("worker")(worker_cmd)


# A wallet holds a signed 64-bit number of nano-dollars: one credit may not be larger than that.
_MAX_CREDIT_NANO = 2**63 - 1
_MAX_CREDIT_USD = Decimal(_MAX_CREDIT_NANO) / NANO_PER_USD


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (AIGATEWAY_HOST, default 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (AIGATEWAY_PORT, default 8080).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (AIGATEWAY_WORKERS, default 1).")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Migrate storage, create the admin account on first start, and serve the API."""
    overrides = {"host": host, "port": port, "workers": workers, "config": config}
    for key, value in overrides.items():
        if value is not None:  # workers re-read settings from the environment
            os.environ[f"AIGATEWAY_{key.upper()}"] = str(value)
    settings = load_settings()
    if not 1 <= settings.port <= 65535:
        fail(f"The port must be between 1 and 65535, not {settings.port} (AIGATEWAY_PORT).")
    if settings.workers < 1:
        fail(f"At least one worker is needed, not {settings.workers} (AIGATEWAY_WORKERS).")
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    load_catalog(settings.catalog_path, extra_models=settings.models)  # fail fast on a bad catalog or config
    engine = open_engine(settings)
    boot = AccountStore(engine).bootstrap(settings.admin_key)
    engine.dispose()
    if boot.admin_key or boot.test_key:
        console.print("[bold]First start: created the admin account.[/bold] These keys are shown once:")
        if boot.admin_key:
            console.print(f"  admin key:     [green]{boot.admin_key}[/green]")
        if boot.test_key:
            console.print(
                f"  test-mode key: [yellow]{boot.test_key}[/yellow]  (simulated provider, never charged)"
            )
    base = f"http://{settings.host}:{settings.port}/v1"
    backend = engine.url.get_backend_name()
    announce = f"AIgateway listening on {base} ({settings.workers} worker(s), storage {backend})"
    threading.Thread(target=_announce_when_bound, args=(settings, announce), daemon=True).start()
    _run_server(settings)


def _announce_when_bound(settings: Settings, line: str, limit_s: float = 600.0) -> None:
    """Say "listening" once the port really accepts connections, not before the server binds it."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "::") else settings.host
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, settings.port), timeout=1):
                console.print(line)
                return
        except OSError:
            time.sleep(0.05)


def _run_server(settings: Settings) -> None:
    target = "aigateway.app:create_app_from_env"
    if settings.server == "granian":
        try:
            from granian import Granian  # type: ignore[import-not-found,unused-ignore]
            from granian.constants import Interfaces  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            raise typer.BadParameter("AIGATEWAY_SERVER=granian needs `pip install granian`") from None
        Granian(
            target,
            address=settings.host,
            port=settings.port,
            interface=Interfaces.ASGI,
            workers=settings.workers,
            factory=True,
            log_access=settings.access_log,
        ).serve()
        return
    import uvicorn

    uvicorn.run(
        target,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        access_log=settings.access_log,
        log_level=settings.log_level,
        timeout_graceful_shutdown=30,
    )


@app.command("migrate")
def migrate_cmd(config: ConfigOpt = None) -> None:
    """Apply pending database migrations."""
    engine = open_engine(load_settings(config=config))
    console.print(f"migrated {engine.url.render_as_string(hide_password=True)}")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="A label for the key.")] = "key",
    account: Annotated[str | None, typer.Option(help="Account id (default: the admin account).")] = None,
    test: Annotated[bool, typer.Option("--test", help="A test-mode key (simulated, never charged).")] = False,
    inference_only: Annotated[
        bool,
        typer.Option("--inference-only", help="Model calls and the balance only: no management routes."),
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Create a key; it is printed once and stored only as a hash."""
    require_text(name, "--name")
    store = open_store(load_settings(config=config))
    scope = "inference" if inference_only else "manage"
    plain, record = store.create_key(resolve_account(store, account), name, test=test, scope=scope)
    console.print(f"{record.id}  {record.mode}  account {record.account_id}  {record.scope}")
    print(plain)


@keys_app.command("list")
def keys_list(
    account: Annotated[str | None, typer.Option(help="Only this account's keys.")] = None,
    config: ConfigOpt = None,
) -> None:
    """List keys (prefixes only: the keys themselves are not stored)."""
    store = open_store(load_settings(config=config))
    if account and store.get_account(account) is None:
        no_account(account)
    table = Table("id", "name", "prefix", "mode", "account", "created", "revoked")
    for k in store.list_keys(account):
        table.add_row(
            k.id,
            k.name,
            k.prefix,
            k.mode,
            k.account_id,
            k.created_at.isoformat(timespec="seconds"),
            k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str, config: ConfigOpt = None) -> None:
    """Revoke a key by id (takes effect on every worker within AIGATEWAY_KEY_CACHE_TTL_S)."""
    store = open_store(load_settings(config=config))
    key = store.get_key(key_id)
    if key is None:
        fail(f"No key '{key_id}'. `aigateway keys list` shows them.")
    if key.revoked_at is not None or not store.revoke_key(key_id):
        revoked = store.get_key(key_id)
        when = revoked.revoked_at if revoked is not None else None
        fail(f"Key '{key_id}' is already revoked" + (f" (since {when:%Y-%m-%d %H:%M:%S})." if when else "."))
    console.print(f"revoked {key_id}")


@accounts_app.command("create")
def accounts_create(
    name: Annotated[str, typer.Option(help="A label for the account.")],
    config: ConfigOpt = None,
) -> None:
    """Create an account with an empty wallet; prints its id."""
    require_text(name, "--name")
    store = open_store(load_settings(config=config))
    print(store.create_account(name))


@accounts_app.command("list")
def accounts_list(config: ConfigOpt = None) -> None:
    """List accounts and their stored balances."""
    store = open_store(load_settings(config=config))
    table = Table("id", "name", "admin", "balance USD", "created")
    for a in store.list_accounts():
        table.add_row(
            a.id,
            a.name,
            "yes" if a.is_admin else "",
            nano_to_usd_str(a.balance_nanousd),
            a.created_at.isoformat(timespec="seconds"),
        )
    console.print(table)


@balance_app.command("add")
def balance_add(
    usd: Annotated[str, typer.Option(help="Amount in US dollars to credit, e.g. 10 or 2.50.")],
    account: Annotated[str | None, typer.Option(help="Account id (default: the admin account).")] = None,
    note: Annotated[str, typer.Option(help="Why (kept with the credit).")] = "",
    config: ConfigOpt = None,
) -> None:
    """Credit a wallet."""
    amount = _credit_nano(usd)
    settings = load_settings(config=config)
    store = open_store(settings)
    account_id = resolve_account(store, account)
    if settings.redis_url:
        _check_redis(settings.redis_url)  # a credit Redis would miss is refused before it is stored
    balance = store.add_credit(account_id, amount, note or "aigateway balance add")
    if settings.redis_url:
        # Redis counts the wallets of a deployment that shares limits: the credit goes there too
        # (a wallet Redis has not loaded yet is read from the database, credit included, on first use).
        asyncio.run(_credit_redis(settings, account_id, amount))
    console.print(f"{account_id}: balance ${nano_to_usd_str(balance)}")


def _check_redis(url: str) -> None:
    from redis import Redis, RedisError

    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except RedisError as exc:
        fail(f"Redis ({url.split('@')[-1]}) is unreachable, so the credit was not stored: {exc}")


async def _credit_redis(settings: Settings, account_id: str, amount: int) -> None:
    from aigateway.services.limits_redis import RedisSpendBook, connect

    client = connect(settings.redis_url or "")

    async def nothing(_scopes: object) -> dict[str, int]:
        return {}

    try:
        book = RedisSpendBook(client, settings.redis_prefix, nothing, hold_ttl_s=60)
        await book.credit(account_id, amount)
    finally:
        await client.aclose()


@balance_app.command("show")
def balance_show(
    account: Annotated[str | None, typer.Option(help="Account id (default: the admin account).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Show a wallet's stored balance."""
    store = open_store(load_settings(config=config))
    account_id = resolve_account(store, account)
    record = store.get_account(account_id)
    if record is None:
        no_account(account_id)
    console.print(f"{account_id}: balance ${nano_to_usd_str(record.balance_nanousd)}")


def _credit_nano(usd: str) -> int:
    """``--usd`` as a positive number of nano-dollars, or a usage error."""
    try:
        amount = Decimal(usd.strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise typer.BadParameter(
            f"not an amount: {usd!r} (US dollars, e.g. 10 or 2.50)", param_hint="'--usd'"
        )
    if amount <= 0:
        raise typer.BadParameter(
            f"{usd!r}: a credit is more than $0 (`balance add` does not debit)", param_hint="'--usd'"
        )
    if amount > _MAX_CREDIT_USD:
        raise typer.BadParameter(f"{usd!r}: more than a wallet can hold", param_hint="'--usd'")
    nano = usd_to_nano(amount)
    if nano == 0:
        raise typer.BadParameter(f"{usd!r}: less than a nano-dollar ($0.000000001)", param_hint="'--usd'")
    return nano


@app.command("models")
def models_cmd(
    modality: Annotated[str | None, typer.Option(help="Only this modality.")] = None,
    provider: Annotated[
        str | None, typer.Option(help="Only models of this lab or served by this provider.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """List the catalog."""
    settings = load_settings(config=config)
    catalog = load_catalog(settings.catalog_path, extra_models=settings.models)
    table = Table("id", "modality", "context", "input $/Mtok", "output $/Mtok", "providers")
    entries = catalog.list(modality=modality, provider=provider)
    for m in entries:
        table.add_row(
            m.id,
            m.modality,
            str(m.context_window or ""),
            str(m.pricing.get("input_per_mtok") or ""),
            str(m.pricing.get("output_per_mtok") or ""),
            ",".join(d.provider for d in m.deployments),
        )
    console.print(table)
    console.print(
        f"{len(entries)} models, {len({m.lab for m in entries})} labs (snapshot {catalog.snapshot_date})"
    )


def _describe(exc: Exception) -> str:
    """One line for the failures a command cannot prevent: configuration, files, the database."""
    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        return one_line(f"Invalid settings (AIGATEWAY_* variables or the config file): {problems}")
    if isinstance(exc, tomllib.TOMLDecodeError):
        return one_line(f"The config file is not valid TOML: {exc}")
    if isinstance(exc, CatalogError):
        return one_line(f"Invalid model catalog or [[models]] entry: {exc}")
    if isinstance(exc, SQLAlchemyError | CommandError):
        return f"Database error: {db_reason(exc)}"
    return one_line(str(exc) or type(exc).__name__)


_ENVIRONMENT_ERRORS = (
    ValidationError,
    tomllib.TOMLDecodeError,
    CatalogError,
    SQLAlchemyError,
    CommandError,
    OSError,
)


def main() -> None:
    try:
        app()
    except _ENVIRONMENT_ERRORS as exc:
        typer.echo(_describe(exc), err=True)
        sys.exit(1)
