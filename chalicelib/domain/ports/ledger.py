"""The ledger in storage. Entries are written by the store of the state change that causes them (a payment,
an order's transition), in the same transaction; `post` writes an entry that changes nothing else."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterator, Protocol

from chalicelib.domain.ledger import HistoryLine, JournalEntry, PostedEntry
from chalicelib.domain.ports.common import Page, WriteResult


@dataclass(frozen=True)
class AccountSnapshot:
    """An account's balance with a version that moves with every line written to it."""

    account: str
    balance_micros: int
    version: int


class LedgerStore(Protocol):
    def post(self, entry: JournalEntry) -> WriteResult:
        """APPLIED, or DUPLICATE when the entry id is written already. Raises InsufficientFunds."""

    def entry(self, entry_id: str) -> JournalEntry | None: ...

    def balance(self, account: str) -> int: ...

    def snapshot(self, account: str) -> AccountSnapshot:
        """Strongly consistent balance and version (a sharded account's shards summed)."""

    def history(self, account: str, limit: int, cursor: str | None = None) -> Page:
        """The account's lines (HistoryLine), newest first."""

    def lines_since(self, account: str, since: datetime | None) -> list[HistoryLine]:
        """The account's lines posted at or after `since` (None: all of them), oldest first; strongly consistent."""

    def entries_of_day(self, day: date) -> Iterator[PostedEntry]:
        """Every entry posted on the UTC day, as stored, reading only that day's entries (an index: it may lag
        the writes by a moment)."""

    def closing(self, account: str, before: date) -> tuple[date, int] | None:
        """The latest reconciled closing balance of the account for a day before `before`."""

    def save_closings(self, day: date, closings: dict[str, int]) -> None: ...

    def save_report(self, day: date, report: dict[str, Any]) -> None:
        """Keep the day's reconciliation report (`complete` says the day had ended), replacing an earlier one."""

    def report(self, day: date) -> dict[str, Any] | None: ...

    def last_reconciled_day(self) -> date | None:
        """The latest day whose stored report is `complete` (reconciled after the day ended)."""
