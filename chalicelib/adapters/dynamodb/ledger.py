"""The ledger in DynamoDB. `add_entry` puts an entry into another store's transaction: the entry item (on
condition that its id is new), one line item per account and one balance update per account. A wallet's
balance is one item and its debit is conditional on the balance covering it; a shop account (revenue,
clearing, suspense, ...) is written by every order, so its balance is spread over shards picked by the
entry id and summed when read."""
from __future__ import annotations

import zlib
from datetime import date, datetime, timezone
from typing import Any, Iterator

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters.dynamodb.cursors import start_key
from chalicelib.adapters.dynamodb.models import LedgerItem
from chalicelib.adapters.dynamodb.transactions import NamedTransaction
from chalicelib.domain.ledger import (HistoryLine, InsufficientFunds, JournalEntry, Line, PostedEntry, Purpose,
                                      is_wallet)
from chalicelib.domain.ports.common import Page, WriteResult
from chalicelib.domain.ports.ledger import AccountSnapshot
from chalicelib.domain.shared import encode_cursor

SHARDS = 8
ENTRY_WRITE = "ledger-entry"
WALLET_DEBIT = "wallet-debit:"
_HISTORY_KEY = {"pk": "S", "sk": "S"}
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def shard_of(key: str) -> int:
    return zlib.crc32(key.encode()) % SHARDS


def account_key(account: str) -> str:
    return f"acct#{account}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(_TIME_FORMAT)


def day_shard(moment: datetime, key: str) -> str:
    return f"{moment.astimezone(timezone.utc).date().isoformat()}#{shard_of(key)}"


def wallet_shard(account: str) -> str:
    """The `wallet-balances` index partition of a wallet's balance item."""
    return f"wallets#{shard_of(account)}"


def _balance_key(line: Line, entry_id: str) -> str:
    return "balance" if is_wallet(line.account) else f"balance#{shard_of(entry_id)}"


def add_entry(transaction: NamedTransaction, entry: JournalEntry) -> None:
    """Add the entry's writes to `transaction`. Its condition names: ENTRY_WRITE (the id is written
    already: a replay) and WALLET_DEBIT + account (the wallet holds too little)."""
    lines = [{"account": line.account, "amount_micros": line.amount_micros} for line in entry.lines]
    transaction.put(ENTRY_WRITE, LedgerItem(
        f"entry#{entry.entry_id}", "entry", entry_id=entry.entry_id, purpose=entry.purpose.value,
        currency=entry.currency, posted_at=entry.posted_at, order_id=entry.order_id,
        transaction_id=entry.transaction_id, memo=entry.memo or None, lines=lines,
        day_shard=day_shard(entry.posted_at, entry.entry_id)), condition=LedgerItem.pk.does_not_exist())
    for line in entry.lines:
        key = account_key(line.account)
        transaction.put(f"line:{line.account}", LedgerItem(
            key, f"line#{_stamp(entry.posted_at)}#{entry.entry_id}", amount_micros=line.amount_micros,
            entry_id=entry.entry_id, purpose=entry.purpose.value, currency=entry.currency,
            posted_at=entry.posted_at, order_id=entry.order_id, transaction_id=entry.transaction_id,
            memo=entry.memo or None))
        actions = [LedgerItem.balance.add(line.amount_micros), LedgerItem.version.add(1)]
        if is_wallet(line.account):
            actions.append(LedgerItem.wallet_shard.set(wallet_shard(line.account)))
        debit = line.amount_micros < 0 and is_wallet(line.account)
        transaction.update(f"{WALLET_DEBIT}{line.account}" if debit else f"balance:{line.account}",
                           LedgerItem(key, _balance_key(line, entry.entry_id)), actions=actions,
                           condition=(LedgerItem.balance >= -line.amount_micros) if debit else None)


def raise_if_short(failed: set[str], entry: JournalEntry) -> None:
    for name in failed:
        if name.startswith(WALLET_DEBIT):
            account = name[len(WALLET_DEBIT):]
            needed = -next(line.amount_micros for line in entry.lines if line.account == account)
            raise InsufficientFunds(account, needed)


def _entry_fields(item: LedgerItem) -> dict[str, Any]:
    return {"entry_id": item.entry_id, "purpose": Purpose(item.purpose), "currency": item.currency,
            "lines": tuple(Line(line["account"], int(line["amount_micros"])) for line in item.lines),
            "posted_at": item.posted_at, "order_id": item.order_id, "transaction_id": item.transaction_id,
            "memo": item.memo or ""}


def _line_from_item(item: LedgerItem) -> HistoryLine:
    return HistoryLine(entry_id=item.entry_id, purpose=Purpose(item.purpose), amount_micros=int(item.amount_micros),
                       currency=item.currency, posted_at=item.posted_at, order_id=item.order_id,
                       transaction_id=item.transaction_id, memo=item.memo or "")


class DynamoLedgerStore:
    def post(self, entry: JournalEntry) -> WriteResult:
        transaction = NamedTransaction()
        add_entry(transaction, entry)
        failed = transaction.commit()
        if ENTRY_WRITE in failed:
            return WriteResult.DUPLICATE
        raise_if_short(failed, entry)
        return WriteResult.APPLIED

    def entry(self, entry_id: str) -> JournalEntry | None:
        try:
            return JournalEntry(**_entry_fields(LedgerItem.get(f"entry#{entry_id}", "entry", consistent_read=True)))
        except DoesNotExist:
            return None

    def balance(self, account: str) -> int:
        return self.snapshot(account).balance_micros

    def snapshot(self, account: str) -> AccountSnapshot:
        balance = version = 0
        for item in LedgerItem.query(account_key(account), LedgerItem.sk.startswith("balance"), consistent_read=True):
            balance += int(item.balance or 0)
            version += int(item.version or 0)
        return AccountSnapshot(account, balance, version)

    def history(self, account: str, limit: int, cursor: str | None = None) -> Page:
        key = account_key(account)
        result = LedgerItem.query(key, LedgerItem.sk.startswith("line#"), scan_index_forward=False, limit=limit,
                                  last_evaluated_key=start_key(cursor, _HISTORY_KEY, {"pk": key}))
        items = [_line_from_item(item) for item in result]
        return Page(items, encode_cursor(result.last_evaluated_key))

    def lines_since(self, account: str, since: datetime | None) -> list[HistoryLine]:
        lines = LedgerItem.sk.startswith("line#") if since is None else \
            LedgerItem.sk.between(f"line#{_stamp(since)}", "line#~")
        return [_line_from_item(item) for item in LedgerItem.query(account_key(account), lines, consistent_read=True)]

    def entries_of_day(self, day: date) -> Iterator[PostedEntry]:
        for shard in range(SHARDS):
            for item in LedgerItem.by_day.query(f"{day.isoformat()}#{shard}"):
                yield PostedEntry(**_entry_fields(item))

    def closing(self, account: str, before: date) -> tuple[date, int] | None:
        last = f"closing#{before.isoformat()}"
        for item in LedgerItem.query(account_key(account), LedgerItem.sk.between("closing#", last),
                                     scan_index_forward=False, limit=2, consistent_read=True):
            day = date.fromisoformat(item.sk.split("#", 1)[1])
            if day < before:
                return day, int(item.balance)
        return None

    def save_closings(self, day: date, closings: dict[str, int]) -> None:
        with LedgerItem.batch_write() as batch:
            for account, balance in closings.items():
                batch.save(LedgerItem(account_key(account), f"closing#{day.isoformat()}", balance=balance))

    def save_report(self, day: date, report: dict[str, Any]) -> None:
        LedgerItem("report", day.isoformat(), report=report).save()

    def report(self, day: date) -> dict[str, Any] | None:
        try:
            return LedgerItem.get("report", day.isoformat(), consistent_read=True).report
        except DoesNotExist:
            return None

    def last_reconciled_day(self) -> date | None:
        # Only today's report, and yesterday's until the daily run, are incomplete: the first short page answers.
        for item in LedgerItem.query("report", scan_index_forward=False, page_size=3, consistent_read=True):
            if item.report.get("complete"):
                return date.fromisoformat(item.sk)
        return None
