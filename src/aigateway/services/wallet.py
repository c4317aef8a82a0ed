"""In-process wallet book: reserve before dispatch, settle after, reconcile with storage on flush.

The database balance is the truth. Each process keeps, per account, the balance it last read, the
debits it has settled but not yet flushed, and the reservations of calls in flight. A call is
admitted only when its reservation (the most it can cost) fits in ``balance - unflushed - reserved``;
the reservation is released when the true cost is settled. Across several worker processes each
one re-reads the balance every ``refresh_s`` seconds, which bounds how far they can jointly overshoot.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aigateway.core.errors import BudgetExceeded
from aigateway.core.money import nano_to_usd_str
from aigateway.storage.accounts import AccountStore


@dataclass(slots=True)
class _Wallet:
    balance: int
    fetched_at: float
    unflushed: int = 0
    reserved: int = 0

    @property
    def available(self) -> int:
        return self.balance - self.unflushed - self.reserved


class WalletBook:
    def __init__(self, store: AccountStore, refresh_s: float) -> None:
        self._store = store
        self._refresh_s = refresh_s
        self._wallets: dict[str, _Wallet] = {}

    async def _load(self, account_id: str) -> _Wallet:
        wallet = self._wallets.get(account_id)
        if wallet is None:
            balances = await asyncio.to_thread(self._store.balances, [account_id])
            wallet = self._wallets.get(account_id)  # another task may have loaded it meanwhile
            if wallet is None:
                wallet = _Wallet(balance=balances.get(account_id, 0), fetched_at=time.monotonic())
                self._wallets[account_id] = wallet
        return wallet

    async def available(self, account_id: str) -> int:
        return (await self._load(account_id)).available

    async def load(self, account_id: str) -> None:
        """Make sure this process knows the account's wallet (one read on first use)."""
        if account_id not in self._wallets:
            await self._load(account_id)

    def cached_available(self, account_id: str) -> int:
        """What is available, for a wallet already loaded (0 for one that is not)."""
        wallet = self._wallets.get(account_id)
        return 0 if wallet is None else wallet.available

    def try_reserve(self, account_id: str, amount: int) -> int:
        """Hold ``amount`` if it fits in what is available, without yielding to the event loop.

        Check and hold happen in one synchronous step, so concurrent calls of this process can
        never jointly reserve more than the wallet holds.
        """
        wallet = self._wallets.get(account_id)
        if wallet is None or amount > wallet.available:
            available = 0 if wallet is None else max(wallet.available, 0)
            raise BudgetExceeded(
                f"Wallet balance too low for this call: it can cost up to ${nano_to_usd_str(amount)} and "
                f"${nano_to_usd_str(available)} is available. Add funds with `aigateway balance add`."
            )
        wallet.reserved += amount
        return amount

    def snapshot(self, account_id: str) -> int | None:
        """Balance less unflushed debits (reservations are not spent), if this process knows it."""
        wallet = self._wallets.get(account_id)
        return None if wallet is None else wallet.balance - wallet.unflushed

    async def reserve(self, account_id: str, amount: int) -> int:
        """Admit a call and hold ``amount`` nano-dollars; BudgetExceeded when it does not fit."""
        await self.load(account_id)
        return self.try_reserve(account_id, amount)

    def settle(self, account_id: str, reserved: int, actual: int) -> None:
        """Release a reservation and book the true cost as an unflushed debit."""
        wallet = self._wallets.get(account_id)
        if wallet is None:
            return
        wallet.reserved -= reserved
        wallet.unflushed += actual

    def flushed(self, debits: dict[str, int], balances: dict[str, int]) -> None:
        """A ledger batch reached storage: its debits now live in the stored balance."""
        now = time.monotonic()
        for account_id, amount in debits.items():
            wallet = self._wallets.get(account_id)
            if wallet is None:
                continue
            wallet.unflushed -= amount
            if account_id in balances:
                wallet.balance = balances[account_id]
                wallet.fetched_at = now

    def stale(self) -> list[str]:
        cutoff = time.monotonic() - self._refresh_s
        return [a for a, w in self._wallets.items() if w.fetched_at < cutoff]

    def refreshed(self, balances: dict[str, int]) -> None:
        """Balances re-read from storage (credits added by the CLI or debits by other workers)."""
        now = time.monotonic()
        for account_id, balance in balances.items():
            wallet = self._wallets.get(account_id)
            if wallet is not None:
                wallet.balance = balance
                wallet.fetched_at = now
