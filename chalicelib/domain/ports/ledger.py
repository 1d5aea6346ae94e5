"""The ledger in storage. Entries are written by the store of the state change that causes them (a payment,
an order's transition), in the same transaction; `post` writes an entry that changes nothing else."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterator, Protocol

from chalicelib.domain.ledger import HistoryLine, JournalEntry
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

    def lines_since(self, account: str, since: datetime) -> list[HistoryLine]:
        """The account's lines posted at or after `since`, oldest first."""

    def entries_of_day(self, day: date) -> Iterator[JournalEntry]:
        """Every entry posted on the UTC day, reading only that day's entries."""

    def closing(self, account: str, before: date) -> tuple[date, int] | None:
        """The latest reconciled closing balance of the account for a day before `before`."""

    def save_closings(self, day: date, closings: dict[str, int]) -> None: ...

    def save_report(self, day: date, report: dict[str, Any]) -> None: ...

    def report(self, day: date) -> dict[str, Any] | None: ...

    def latest_report_day(self) -> date | None: ...
