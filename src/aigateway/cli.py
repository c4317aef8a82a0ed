"""The ``aigateway`` command: serve, migrate, keys, balance, models."""

from __future__ import annotations

import logging
import os
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aigateway.core.catalog import load_catalog
from aigateway.core.money import nano_to_usd_str, usd_to_nano
from aigateway.settings import Settings, load_settings
from aigateway.storage.accounts import AccountStore
from aigateway.storage.db import create_db_engine, migrate

app = typer.Typer(add_completion=False, no_args_is_help=True, help="AIgateway: one OpenAI-compatible API.")
keys_app = typer.Typer(no_args_is_help=True, help="Create, list and revoke API keys.")
balance_app = typer.Typer(no_args_is_help=True, help="Wallet balances.")
app.add_typer(keys_app, name="keys")
app.add_typer(balance_app, name="balance")
accounts_app = typer.Typer(no_args_is_help=True, help="Accounts (each has its own wallet and keys).")
app.add_typer(accounts_app, name="accounts")


def _make_console() -> Console:
    # Piped output (scripts, CI) gets wide lines rather than truncated table cells.
    return Console(width=None if sys.stdout.isatty() else 250)


console = _make_console()

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML config file (AIGATEWAY_CONFIG).")]


def _store(settings: Settings) -> AccountStore:
    engine = create_db_engine(settings.resolved_database_url)
    migrate(engine)
    return AccountStore(engine)


def _account(store: AccountStore, account: str | None) -> str:
    if account:
        return account
    admin = store.admin_account_id()
    if admin is None:
        store.bootstrap()
        admin = store.admin_account_id()
    assert admin is not None
    return admin


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (AIGATEWAY_HOST, default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (AIGATEWAY_PORT, default 8080).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (AIGATEWAY_WORKERS, default 1).")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Migrate storage, create the admin account on first start, and serve the API."""
    overrides = {"host": host, "port": port, "workers": workers, "config": config}
    for key, value in overrides.items():
        if value is not None:  # workers re-read settings from the environment
            os.environ[f"AIGATEWAY_{key.upper()}"] = str(value)
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    load_catalog(settings.catalog_path, extra_models=settings.models)  # fail fast on a bad catalog or config
    engine = create_db_engine(settings.resolved_database_url)
    migrate(engine)
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
    console.print(f"AIgateway listening on {base} ({settings.workers} worker(s), storage {backend})")
    _run_server(settings)


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
    settings = load_settings(config=config)
    engine = create_db_engine(settings.resolved_database_url)
    migrate(engine)
    console.print(f"migrated {engine.url.render_as_string(hide_password=True)}")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="A label for the key.")] = "key",
    account: Annotated[str | None, typer.Option(help="Account id (default: the admin account).")] = None,
    test: Annotated[bool, typer.Option("--test", help="A test-mode key (simulated, never charged).")] = False,
    config: ConfigOpt = None,
) -> None:
    """Create a key; it is printed once and stored only as a hash."""
    store = _store(load_settings(config=config))
    plain, record = store.create_key(_account(store, account), name, test=test)
    console.print(f"{record.id}  {record.mode}  account {record.account_id}")
    print(plain)


@keys_app.command("list")
def keys_list(
    account: Annotated[str | None, typer.Option(help="Only this account's keys.")] = None,
    config: ConfigOpt = None,
) -> None:
    """List keys (prefixes only: the keys themselves are not stored)."""
    store = _store(load_settings(config=config))
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
    store = _store(load_settings(config=config))
    if not store.revoke_key(key_id):
        console.print(f"no active key {key_id}")
        raise typer.Exit(1)
    console.print(f"revoked {key_id}")


@accounts_app.command("create")
def accounts_create(
    name: Annotated[str, typer.Option(help="A label for the account.")],
    config: ConfigOpt = None,
) -> None:
    """Create an account with an empty wallet; prints its id."""
    store = _store(load_settings(config=config))
    print(store.create_account(name))


@accounts_app.command("list")
def accounts_list(config: ConfigOpt = None) -> None:
    """List accounts and their stored balances."""
    store = _store(load_settings(config=config))
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
    usd: Annotated[str, typer.Option(help="Amount in US dollars, e.g. 10 or 2.50 (negative to debit).")],
    account: Annotated[str | None, typer.Option(help="Account id (default: the admin account).")] = None,
    note: Annotated[str, typer.Option(help="Why (kept with the credit).")] = "",
    config: ConfigOpt = None,
) -> None:
    """Credit a wallet."""
    try:
        amount = Decimal(usd)
    except InvalidOperation:
        raise typer.BadParameter(f"not an amount: {usd!r}") from None
    store = _store(load_settings(config=config))
    account_id = _account(store, account)
    balance = store.add_credit(account_id, usd_to_nano(amount), note or "aigateway balance add")
    console.print(f"{account_id}: balance ${nano_to_usd_str(balance)}")


@balance_app.command("show")
def balance_show(
    account: Annotated[str | None, typer.Option(help="Account id (default: the admin account).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Show a wallet's stored balance."""
    store = _store(load_settings(config=config))
    account_id = _account(store, account)
    console.print(
        f"{account_id}: balance ${nano_to_usd_str(store.balances([account_id]).get(account_id, 0))}"
    )


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


def main() -> None:
    app()
