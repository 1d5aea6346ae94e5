"""Reconciliation: the proof, one UTC day at a time, that the books hold together (docs/decisions.md).

For a day it proves:
1. each entry of the day sums to zero in one currency, and each currency's movements of the day sum to zero;
2. each account the day touched: its own lines of the day are the lines of the day's entries, and its live
   balance is its closing (the latest reconciled closing before the day, plus its lines since) plus whatever
   was written to it after the day;
3. what each receiving address took in (the day's booked payments) is what its clearing account moved; each
   booked payment has its entry for the same amount and each entry of a transfer has its payment;
4. each order an entry of the day paid is paid, for that amount, by that entry alone; each refund gives a FAILED
   order back what it was paid, up to its price (an overpayment's excess was credited when it was paid); a
   settled order that failed has its refund;
5. the payouts that landed (or reverted) on chain that day and the payout entries agree (reconciliation_payouts.py).

What it reads grows with the day, not with history: the day's entries, payments and payouts come from day indexes,
each touched account from its latest reconciled closing on (normally only the day and what came after it),
the orders in batches. A day that has ended keeps the closings of the accounts whose books held, so the next
day starts from them.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Iterable

from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.domain.ledger import (AccountKind, PostedEntry, Purpose, balance_entry_id, clearing, currency_of,
                                      payment_entry_id, refund_entry_id, refundable_micros)
from chalicelib.domain.notices import Notices
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.ports.common import Clock
from chalicelib.domain.ports.ledger import LedgerStore
from chalicelib.domain.ports.orders import OrderStore
from chalicelib.domain.ports.payments import PaymentRecord, PaymentStore
from chalicelib.domain.ports.payouts import PayoutStore
from chalicelib.domain.reconciliation_payouts import check_payouts
from chalicelib.domain.reconciliation_report import Difference, Mismatch, Report
from chalicelib.domain.settlement import PaymentOutcome

CATCH_UP_DAYS = 7                    # the daily run reconciles at most the last seven ended days
INDEX_LAG = timedelta(seconds=5)     # the day indexes may lag their writes: today's last seconds wait a run
LIVE_READ_ROUNDS = 3                 # balance reads around an account's lines, until no write came between
ALERT_EXAMPLES = 3

PAID_OR_LATER = frozenset({OrderStatus.PAID, OrderStatus.PAID_LATE, OrderStatus.WAITING_STARS,
                           OrderStatus.WAITING_FUNDS, OrderStatus.DELIVERING, OrderStatus.DELIVERED,
                           OrderStatus.FAILED, OrderStatus.NEEDS_REVIEW})
SETTLING = frozenset({Purpose.PAYMENT, Purpose.BALANCE_PAYMENT})
PAYING_OUTCOMES = frozenset({PaymentOutcome.MATCHED, PaymentOutcome.LATE_MATCHED})


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


class Reconciliation:
    def __init__(self, ledger: LedgerStore, payments: PaymentStore, orders: OrderStore, notices: Notices,
                 clock: Clock, count: Callable[[str, int], None], *, payouts: PayoutStore) -> None:
        self._ledger = ledger
        self._payments = payments
        self._payouts = payouts
        self._orders = orders
        self._notices = notices
        self._clock = clock
        self._count = count

    def reconcile_due(self) -> list[Report]:
        """The daily run: each ended day after the last reconciled one, oldest first so that each starts from
        the closings of the one before, and no more than the last CATCH_UP_DAYS (an older gap is an operator's
        to reconcile, day by day)."""
        yesterday = self._clock.now().date() - timedelta(days=1)
        first = yesterday - timedelta(days=CATCH_UP_DAYS - 1)
        last = self._ledger.last_reconciled_day()
        if last is not None:
            first = max(first, last + timedelta(days=1))
        return [self.reconcile(first + timedelta(days=n)) for n in range((yesterday - first).days + 1)]

    def reconcile(self, day: date | None = None) -> Report:
        """Prove one day (default: today so far), keep its report and, once the day has ended, its closings.
        Any difference alerts the operator."""
        now = self._clock.now()
        day = day or now.date()
        if day > now.date():
            raise ValidationFailed("day: has not begun yet (UTC)", field="day")
        proof = _DayProof(self._ledger, self._payments, self._payouts, self._orders, day, now)
        report = proof.run()
        if report.complete:
            self._ledger.save_closings(day, proof.closings)
        self._ledger.save_report(day, report.as_dict())
        if not report.ok:
            self._count("LedgerDifferences", len(report.differences))
            self._notices.alert(f"reconciliation:{day.isoformat()}", _alert_text(report))
        return report

    def stored(self, day: date) -> dict[str, Any]:
        report = self._ledger.report(day)
        if report is None:
            raise NotFound(f"no reconciliation report for {day.isoformat()}", code="REPORT_NOT_FOUND", field="day")
        return report


def _alert_text(report: Report) -> str:
    examples = "; ".join(difference.summary() for difference in report.differences[:ALERT_EXAMPLES])
    day = report.day.isoformat()
    return (f"Reconciliation of {day} found {len(report.differences)} difference(s) in the books: {examples}. "
            f"The report: GET /admin/reconciliation/{day}")


def _own_settling_entry(order: Order) -> str:
    """The entry an order names as the one that paid it: its transfer's, else its wallet payment's."""
    return payment_entry_id(order.payment_tx) if order.payment_tx else balance_entry_id(order.order_id)


class _DayProof:
    """One day's checks; `closings` holds, per account whose checks all held, its balance at `until`."""

    def __init__(self, ledger: LedgerStore, payments: PaymentStore, payouts: PayoutStore, orders: OrderStore,
                 day: date, now: datetime) -> None:
        self.ledger = ledger
        self.payments = payments
        self.payouts = payouts
        self.orders = orders
        self.day = day
        self.now = now
        self.start = midnight(day)
        self.end = self.start + timedelta(days=1)
        self.until = max(self.start, min(self.end, now - INDEX_LAG))
        self.differences: list[Difference] = []
        self.unsettled: list[str] = []
        self.closings: dict[str, int] = {}

    def run(self) -> Report:
        entries = {entry.entry_id: entry for entry in self.ledger.entries_of_day(self.day)
                   if entry.posted_at < self.until}
        payments = [payment for payment in self.payments.booked_of_day(self.day) if payment.received_at < self.until]
        movements = self._check_entries(entries.values())
        for account in sorted(movements):
            self._check_account(account, movements[account])
        self._check_payments(entries, payments, movements)
        orders = self._check_orders(entries)
        settled = [payout for payout in self.payouts.settled_of_day(self.day)
                   if payout.landed_at is not None and payout.landed_at < self.until]
        payouts = check_payouts(entries, settled, self._differ)
        return Report(self.day, self.now, self.until, self.until >= self.end,
                      {"entries": len(entries), "payments": len(payments), "accounts": len(movements),
                       "orders": orders, "payouts": payouts},
                      _totals(entries.values(), payments), self.differences, self.unsettled)

    def _differ(self, kind: Mismatch, expected: Any, actual: Any, **about: str | None) -> None:
        self.differences.append(Difference(kind, expected, actual, **about))

    # ------------------------------------------------------------------ 1. entries and currencies
    def _check_entries(self, entries: Iterable[PostedEntry]) -> dict[str, dict[str, int]]:
        """Each account's lines of the day as the entries have them: account -> entry id -> amount."""
        movements: dict[str, dict[str, int]] = defaultdict(dict)
        net: dict[str, int] = defaultdict(int)
        for entry in entries:
            total = sum(line.amount_micros for line in entry.lines)
            if total:
                self._differ(Mismatch.ENTRY_UNBALANCED, 0, total, entry_id=entry.entry_id)
            for line in entry.lines:
                currency = currency_of(line.account)
                if currency != entry.currency:
                    self._differ(Mismatch.ENTRY_CURRENCY, entry.currency, currency, account=line.account,
                                 entry_id=entry.entry_id)
                net[currency] += line.amount_micros
                moved = movements[line.account]
                moved[entry.entry_id] = moved.get(entry.entry_id, 0) + line.amount_micros
        for currency, total in sorted(net.items()):
            if total:
                self._differ(Mismatch.CURRENCY_UNBALANCED, 0, total, currency=currency)
        return movements

    # ------------------------------------------------------------------ 2. accounts
    def _check_account(self, account: str, expected: dict[str, int]) -> None:
        found = len(self.differences)
        prior = self.ledger.closing(account, self.day)
        opening, since = (0, None) if prior is None else (prior[1], midnight(prior[0] + timedelta(days=1)))
        live: int | None = None
        for _ in range(LIVE_READ_ROUNDS):
            before = self.ledger.snapshot(account)
            lines = self.ledger.lines_since(account, since)
            if self.ledger.snapshot(account).version == before.version:
                live = before.balance_micros
                break
        of_day: dict[str, int] = {}
        later = 0
        for line in lines:
            if line.posted_at < self.start:       # written to a day nobody reconciled since the closing
                opening += line.amount_micros
            elif line.posted_at < self.until:
                of_day[line.entry_id] = of_day.get(line.entry_id, 0) + line.amount_micros
            else:
                later += line.amount_micros
        for entry_id in sorted(expected.keys() | of_day.keys()):
            if expected.get(entry_id) != of_day.get(entry_id):
                self._differ(Mismatch.ACCOUNT_LINE, expected.get(entry_id), of_day.get(entry_id), account=account,
                             entry_id=entry_id)
        closing = opening + sum(of_day.values())
        if live is None:
            self.unsettled.append(account)
        elif live != closing + later:
            self._differ(Mismatch.BALANCE, closing + later, live, account=account)
        if len(self.differences) == found:
            self.closings[account] = closing

    # ------------------------------------------------------------------ 3. transfers
    def _check_payments(self, entries: dict[str, PostedEntry], payments: list[PaymentRecord],
                        movements: dict[str, dict[str, int]]) -> None:
        received: dict[str, int] = defaultdict(int)
        for payment in payments:
            amount = payment.amount_micros or 0
            account = clearing(payment.to_address, payment.currency)
            received[account] += amount
            tx = payment.transaction_id
            entry = entries.get(payment_entry_id(tx))
            if entry is None:
                self._differ(Mismatch.PAYMENT_WITHOUT_ENTRY, amount, None, transaction_id=tx)
                continue
            took = -sum(line.amount_micros for line in entry.lines if line.account == account)
            if took != amount:
                self._differ(Mismatch.PAYMENT_AMOUNT, amount, took, transaction_id=tx, entry_id=entry.entry_id)
            if payment.outcome in PAYING_OUTCOMES and (entry.purpose != Purpose.PAYMENT
                                                       or entry.order_id != payment.order_id):
                self._differ(Mismatch.PAYMENT_NOT_SETTLING, payment.order_id, entry.order_id, transaction_id=tx,
                             entry_id=entry.entry_id)
        paid = {payment_entry_id(payment.transaction_id) for payment in payments}
        for entry in entries.values():
            if entry.transaction_id is not None and entry.entry_id not in paid:
                self._differ(Mismatch.ENTRY_WITHOUT_PAYMENT, None, entry.moved_micros, entry_id=entry.entry_id,
                             transaction_id=entry.transaction_id)
        clearings = {account for account in movements if account.startswith(f"{AccountKind.CLEARING}:")}
        for account in sorted(clearings | received.keys()):
            moved = -sum(movements.get(account, {}).values())
            if moved != received.get(account, 0):
                self._differ(Mismatch.CLEARING, received.get(account, 0), moved, account=account)

    # ------------------------------------------------------------------ 4. orders
    def _check_orders(self, entries: dict[str, PostedEntry]) -> int:
        """The orders the day's settling and refund entries name, checked against them; how many were read."""
        named = [entry for entry in entries.values() if entry.purpose in SETTLING | {Purpose.REFUND}]
        wanted = {entry.order_id for entry in named if entry.order_id}
        orders = self.orders.get_many(wanted) if wanted else {}
        settled_by: dict[str, list[PostedEntry]] = defaultdict(list)
        for entry in named:
            order = orders.get(entry.order_id or "")
            if order is None:
                self._differ(Mismatch.ORDER_MISSING, entry.order_id or "an order", None, order_id=entry.order_id,
                             entry_id=entry.entry_id)
            elif entry.purpose == Purpose.REFUND:
                self._check_refund(order, entry)
            else:
                settled_by[order.order_id].append(entry)
        for order_id, settling in sorted(settled_by.items()):
            self._check_settled(orders[order_id], settling, entries)
        return len(orders)

    def _check_settled(self, order: Order, settling: list[PostedEntry], entries: dict[str, PostedEntry]) -> None:
        order_id = order.order_id
        if len(settling) > 1:
            self._differ(Mismatch.ORDER_SETTLED_TWICE, 1, len(settling), order_id=order_id)
        if order.status not in PAID_OR_LATER:
            self._differ(Mismatch.ORDER_STATUS, "paid or later", order.status.value, order_id=order_id)
        for entry in settling:
            if entry.entry_id != _own_settling_entry(order):
                self._differ(Mismatch.ORDER_SETTLEMENT, _own_settling_entry(order), entry.entry_id,
                             order_id=order_id, entry_id=entry.entry_id)
            if order.paid_micros != entry.moved_micros:
                self._differ(Mismatch.ORDER_PAID_AMOUNT, entry.moved_micros, order.paid_micros, order_id=order_id,
                             entry_id=entry.entry_id)
        refund = refund_entry_id(order_id)
        if order.status == OrderStatus.FAILED and (order.paid_micros or 0) > 0 and refund not in entries \
                and self.ledger.entry(refund) is None:
            self._differ(Mismatch.FAILED_WITHOUT_REFUND, order.paid_micros, None, order_id=order_id)

    def _check_refund(self, order: Order, refund: PostedEntry) -> None:
        if order.status != OrderStatus.FAILED:
            self._differ(Mismatch.REFUND_STATUS, OrderStatus.FAILED.value, order.status.value,
                         order_id=order.order_id, entry_id=refund.entry_id)
        if refund.moved_micros != refundable_micros(order):
            self._differ(Mismatch.REFUND_AMOUNT, refundable_micros(order), refund.moved_micros,
                         order_id=order.order_id, entry_id=refund.entry_id)


def _totals(entries: Iterable[PostedEntry], payments: list[PaymentRecord]) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"entries": 0, "moved_micros": 0, "received_micros": 0})
    for entry in entries:
        totals[entry.currency]["entries"] += 1
        totals[entry.currency]["moved_micros"] += entry.moved_micros
    for payment in payments:
        totals[payment.currency]["received_micros"] += payment.amount_micros or 0
    return dict(sorted(totals.items()))
