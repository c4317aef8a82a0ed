"""``aigateway sub-accounts ...``: the account's customers, managed on the database directly.

Like ``aigateway keys``, these commands need no running gateway. A change reaches running gateways
on their next read of the key (within AIGATEWAY_KEY_CACHE_TTL_S): a deleted sub-account's key stops
working there within that time, not at once as after DELETE /v1/sub-accounts/{id}.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import Engine, select

from aigateway.cli_common import ConfigOpt, console, fail, open_engine, resolve_account
from aigateway.core.money import NANO_PER_CENT, nano_to_cents_str, nano_to_whole_cents
from aigateway.settings import load_settings
from aigateway.storage.accounts import AccountStore
from aigateway.storage.schema import sub_accounts
from aigateway.storage.spend import SpendStore, cap_period_of, sub_scope
from aigateway.storage.subaccounts import SubAccountRecord, SubAccountStore

subaccounts_app = typer.Typer(
    no_args_is_help=True,
    help="Sub-accounts: scoped keys with a hard spend cap (they spend the parent's wallet).",
)

# A cap in cents whose nano-dollars still fit the signed 64-bit columns.
MAX_CENTS = (2**63 - 1) // NANO_PER_CENT
PERIODS = ("month", "lifetime")

AccountOpt = Annotated[str | None, typer.Option(help="Account id (default: the admin account).")]
NameOpt = Annotated[str | None, typer.Option(help="A label (1 to 200 characters).")]
CapOpt = Annotated[
    int | None, typer.Option("--cap-cents", min=0, max=MAX_CENTS, help="Hard spend cap, whole US cents.")
]
PeriodOpt = Annotated[
    str | None, typer.Option("--period", help="What the cap counts: month (each UTC month) or lifetime.")
]
RefOpt = Annotated[str | None, typer.Option("--external-ref", help="Your own id for this customer.")]
RpmOpt = Annotated[int | None, typer.Option("--rpm", min=1, max=2**31 - 1, help="Requests per minute.")]
TagOpt = Annotated[
    str | None, typer.Option("--default-tag", help="Tag of its calls that send no x-aig-tag header.")
]


def _check(name: str | None, period: str | None, tag: str | None, ref: str | None) -> None:
    """The API's rules, as usage errors (exit 2) before the database is touched."""
    if name is not None and not (name.strip() and len(name) <= 200):
        raise typer.BadParameter("1 to 200 characters, not blank", param_hint="'--name'")
    if period is not None and period not in PERIODS:
        raise typer.BadParameter(f"{period!r}: one of month, lifetime", param_hint="'--period'")
    if tag is not None and not (tag and len(tag) <= 200 and tag.isprintable()):
        raise typer.BadParameter("1 to 200 printable characters", param_hint="'--default-tag'")
    if ref is not None and not (ref and len(ref) <= 200):
        raise typer.BadParameter("1 to 200 characters", param_hint="'--external-ref'")


def _owner(engine: Engine, sub_id: str, account: str | None) -> str:
    """The account a (live) sub-account belongs to: the one named, or found from its id."""
    query = select(sub_accounts.c.account_id).where(
        sub_accounts.c.id == sub_id, sub_accounts.c.deleted_at.is_(None)
    )
    if account is not None:
        query = query.where(sub_accounts.c.account_id == account)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        where = f" in account '{account}'" if account else ""
        fail(f"No sub-account '{sub_id}'{where}. `aigateway sub-accounts list` shows them.")
    return str(row[0])


def _spent(engine: Engine, records: list[SubAccountRecord]) -> list[tuple[str, int]]:
    now = datetime.now(UTC)
    keys = [(sub_scope(r.id), cap_period_of(r.cap_period, now)) for r in records]
    found = SpendStore(engine).spent(keys) if keys else {}
    return [(period, found[(scope, period)]) for scope, period in keys]


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).isoformat(timespec="seconds")


def _details(engine: Engine, record: SubAccountRecord) -> Table:
    period, spent = _spent(engine, [record])[0]
    rows: list[tuple[str, Any]] = [
        ("id", record.id),
        ("account", record.account_id),
        ("name", record.name),
        ("mode", record.mode),
        ("cap", f"{nano_to_whole_cents(record.spend_cap_nanousd)} cents per {record.cap_period}"),
        (f"spent ({period})", f"{nano_to_cents_str(spent)} cents"),
        ("rate limit", f"{record.rate_limit_rpm} rpm" if record.rate_limit_rpm else "none"),
        ("default tag", record.default_tag or ""),
        ("external ref", record.external_ref or ""),
        ("created", _when(record.created_at)),
        ("updated", _when(record.updated_at)),
    ]
    table = Table("field", "value", show_header=False)
    for field, value in rows:
        table.add_row(field, str(value))
    return table


@subaccounts_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="A label (1 to 200 characters).")],
    cap_cents: Annotated[
        int, typer.Option("--cap-cents", min=0, max=MAX_CENTS, help="Hard spend cap, whole US cents.")
    ],
    period: Annotated[str, typer.Option("--period", help="month (each UTC month) or lifetime.")] = "month",
    external_ref: RefOpt = None,
    rpm: RpmOpt = None,
    default_tag: TagOpt = None,
    account: AccountOpt = None,
    test: Annotated[
        bool, typer.Option("--test", help="A test-mode sub-account (its key is a test key).")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Create a sub-account; its key is printed once (last line) and stored only as a hash."""
    _check(name, period, default_tag, external_ref)
    engine = open_engine(load_settings(config=config))
    account_id = resolve_account(AccountStore(engine), account)
    record, key = SubAccountStore(engine).create(
        account_id,
        name=name,
        spend_cap_nanousd=cap_cents * NANO_PER_CENT,
        mode="test" if test else "live",
        external_ref=external_ref,
        cap_period=period,
        rate_limit_rpm=rpm,
        default_tag=default_tag,
    )
    console.print(f"{record.id}  {record.mode}  account {record.account_id}")
    console.print(_details(engine, record))
    print(key)


@subaccounts_app.command("list")
def list_cmd(account: AccountOpt = None, config: ConfigOpt = None) -> None:
    """The account's sub-accounts (deleted ones excluded), oldest first, with this period's spend."""
    engine = open_engine(load_settings(config=config))
    account_id = resolve_account(AccountStore(engine), account)
    store = SubAccountStore(engine)
    records: list[SubAccountRecord] = []
    after: str | None = None
    while True:
        page = store.list(account_id, limit=500, after=after)
        records += page
        if len(page) < 500:
            break
        after = page[-1].id
    table = Table(
        "id", "name", "mode", "cap cents", "per", "spent cents", "rpm", "default tag", "external ref"
    )
    for record, (_period, spent) in zip(records, _spent(engine, records), strict=True):
        table.add_row(
            record.id,
            record.name,
            record.mode,
            str(nano_to_whole_cents(record.spend_cap_nanousd)),
            record.cap_period,
            nano_to_cents_str(spent),
            str(record.rate_limit_rpm or ""),
            record.default_tag or "",
            record.external_ref or "",
        )
    console.print(table)
    console.print(f"{len(records)} sub-account(s) of {account_id}")


@subaccounts_app.command("show")
def show(sub_id: str, account: AccountOpt = None, config: ConfigOpt = None) -> None:
    """One sub-account, its spend this period and its keys (prefixes only)."""
    engine = open_engine(load_settings(config=config))
    account_id = _owner(engine, sub_id, account)
    store = SubAccountStore(engine)
    record = store.get(account_id, sub_id)
    if record is None:
        fail(f"No sub-account '{sub_id}'.")
    console.print(_details(engine, record))
    keys = Table("key id", "prefix", "mode", "created", "expires", "revoked")
    for key in store.keys(account_id, sub_id):
        keys.add_row(
            key.id, key.prefix, key.mode, _when(key.created_at), _when(key.expires_at), _when(key.revoked_at)
        )
    console.print(keys)


@subaccounts_app.command("update")
def update(
    sub_id: str,
    name: NameOpt = None,
    cap_cents: CapOpt = None,
    period: PeriodOpt = None,
    external_ref: RefOpt = None,
    rpm: RpmOpt = None,
    default_tag: TagOpt = None,
    clear_external_ref: Annotated[bool, typer.Option("--clear-external-ref")] = False,
    clear_rpm: Annotated[bool, typer.Option("--clear-rpm", help="Remove the rate limit.")] = False,
    clear_default_tag: Annotated[bool, typer.Option("--clear-default-tag")] = False,
    rotate_key: Annotated[bool, typer.Option("--rotate-key", help="Mint a new key (printed last).")] = False,
    grace_s: Annotated[
        int | None,
        typer.Option("--grace-s", min=0, help="With --rotate-key: seconds the old key keeps working."),
    ] = None,
    account: AccountOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Change a sub-account's fields, and/or rotate its key."""
    _check(name, period, default_tag, external_ref)
    pairs = (
        (external_ref, clear_external_ref, "external-ref"),
        (rpm, clear_rpm, "rpm"),
        (default_tag, clear_default_tag, "default-tag"),
    )
    for value, clear, flag in pairs:
        if value is not None and clear:
            raise typer.BadParameter(f"--{flag} and --clear-{flag} contradict each other")
    if grace_s is not None and not rotate_key:
        raise typer.BadParameter("only with --rotate-key", param_hint="'--grace-s'")
    settings = load_settings(config=config)
    grace = settings.key_rotation_grace_s if grace_s is None else grace_s
    if grace > settings.key_rotation_max_grace_s:
        raise typer.BadParameter(
            f"at most {settings.key_rotation_max_grace_s} s (AIGATEWAY_KEY_ROTATION_MAX_GRACE_S)",
            param_hint="'--grace-s'",
        )
    changes: dict[str, Any] = {}
    for field, value in (("name", name), ("cap_period", period), ("external_ref", external_ref)):
        if value is not None:
            changes[field] = value
    if cap_cents is not None:
        changes["spend_cap_nanousd"] = cap_cents * NANO_PER_CENT
    if rpm is not None or clear_rpm:
        changes["rate_limit_rpm"] = rpm
    if default_tag is not None or clear_default_tag:
        changes["default_tag"] = default_tag
    if clear_external_ref:
        changes["external_ref"] = None
    engine = open_engine(settings)
    account_id = _owner(engine, sub_id, account)
    store = SubAccountStore(engine)
    record = store.update(account_id, sub_id, **changes)
    rotated = store.rotate_key(account_id, sub_id, grace) if record is not None and rotate_key else None
    if record is None or (rotate_key and rotated is None):
        fail(f"No sub-account '{sub_id}'.")
    console.print(_details(engine, store.get(account_id, sub_id) or record))
    if rotated is not None:
        console.print(
            "the old key stops working now" if grace == 0 else f"the old key keeps working {grace} s more"
        )
        print(rotated[0])


@subaccounts_app.command("delete")
def delete(sub_id: str, account: AccountOpt = None, config: ConfigOpt = None) -> None:
    """Delete a sub-account: its keys are revoked, its ledger rows and usage kept."""
    engine = open_engine(load_settings(config=config))
    account_id = _owner(engine, sub_id, account)
    if not SubAccountStore(engine).delete(account_id, sub_id):
        fail(f"No sub-account '{sub_id}'.")
    console.print(
        f"deleted {sub_id} (its keys are revoked; running gateways refuse them within "
        "AIGATEWAY_KEY_CACHE_TTL_S)"
    )
