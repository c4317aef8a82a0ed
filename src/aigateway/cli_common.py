"""What every ``aigateway`` command module shares: the console, --config, one-line failures and the
database (migrated on first use), so the command groups can live in their own modules."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from alembic.util import CommandError
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from aigateway.settings import Settings
from aigateway.storage.accounts import AccountStore
from aigateway.storage.db import create_db_engine, migrate


def make_console() -> Console:
    # Piped output (scripts, CI) gets wide lines rather than truncated table cells.
    return Console(width=None if sys.stdout.isatty() else 250)


console = make_console()

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML config file (AIGATEWAY_CONFIG).")]


def fail(message: str, code: int = 1) -> NoReturn:
    """End the command with one line on stderr (1: it failed, 2: it was called wrongly)."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def one_line(text: str, limit: int = 400) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


def db_reason(exc: BaseException) -> str:
    """What the database (or its driver) said, without SQLAlchemy's statement and links."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return one_line(str(exc.orig)) or type(exc.orig).__name__
    return one_line(str(exc).split("\n(Background on this error")[0]) or type(exc).__name__


def shown_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "(unparseable URL)"


def open_engine(settings: Settings) -> Engine:
    """A migrated engine, or one line saying why the database cannot be used."""
    url = settings.resolved_database_url
    hint = "Check AIGATEWAY_DATABASE_URL (or database_url in the config file)."
    try:
        engine = create_db_engine(url)
    except SQLAlchemyError as exc:
        fail(sentence(f"Not a usable database URL {shown_url(url)}: {db_reason(exc)}") + f" {hint}")
    except ImportError as exc:
        fail(sentence(f"No driver for the database {shown_url(url)}: {exc}") + f" {hint}")
    except OSError as exc:
        fail(f"Cannot create the database directory for {shown_url(url)}: {exc}")
    try:
        migrate(engine)
    except (SQLAlchemyError, CommandError) as exc:
        engine.dispose()
        fail(sentence(f"Cannot use the database {shown_url(url)}: {db_reason(exc)}") + f" {hint}")
    return engine


def open_store(settings: Settings) -> AccountStore:
    return AccountStore(open_engine(settings))


def no_account(account_id: str) -> NoReturn:
    fail(f"No account '{account_id}'. `aigateway accounts list` shows them.")


def resolve_account(store: AccountStore, account: str | None) -> str:
    """The account named (which must exist), else the admin account (created on first use)."""
    if account:
        if store.get_account(account) is None:
            no_account(account)
        return account
    admin = store.admin_account_id()
    if admin is None:
        store.bootstrap()
        admin = store.admin_account_id()
    assert admin is not None
    return admin


def require_text(value: str, option: str) -> None:
    if not value.strip():
        raise typer.BadParameter("must not be empty", param_hint=f"'{option}'")
