"""In-memory fakes of the domain's ports, for unit tests that need no AWS and open no socket.

Each fake keeps the promise its port's docstring makes, the way the DynamoDB adapter keeps it: every
conditional write names the state it expects and answers the way the adapter answers when the condition
fails. Writes that the adapter makes in one transaction happen here under one lock.
"""
from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from dataclasses import fields, replace
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.domain.ledger import HistoryLine, InsufficientFunds, JournalEntry, PostedEntry
from chalicelib.domain.orders import OPEN_STATUSES, Order, OrderStatus, Transition
from chalicelib.domain.ports.codes import BucketState
from chalicelib.domain.ports.common import Page, WriteResult
from chalicelib.domain.ports.ledger import AccountSnapshot
from chalicelib.domain.ports.orders import OpenOrderLimitReached, SlotTaken
from chalicelib.domain.ports.payments import PaymentRecord, PaymentSlot
from chalicelib.domain.ports.payouts import SETTLED_ON_CHAIN, Payout
from chalicelib.domain.settlement import BOOKED_OUTCOMES
from chalicelib.domain.users import TelegramUser, UserProfile

REPLACEABLE_OUTCOME = "PENDING_CONFIRMATION"
_ORDER_FIELDS = frozenset(field.name for field in fields(Order))


class TransactionCancelled(Exception):
    """A condition the adapter does not translate failed: the adapter re-raises its DynamoDB error."""


# ---------------------------------------------------------------------------------------------- time and ids
class FixedClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class SequentialIds:
    def __init__(self, prefix: str = "order-") -> None:
        self._prefix = prefix
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def new_id(self) -> str:
        with self._lock:
            return f"{self._prefix}{next(self._numbers):04d}"


# ---------------------------------------------------------------------------------------------- orders and slots
class InMemoryPaymentSlotStore:
    """(address, fraction) -> its latest holder, and every holder ever (the adapter's pay-slot index)."""

    def __init__(self) -> None:
        self.slots: dict[tuple[str, int], PaymentSlot] = {}
        self.history: list[PaymentSlot] = []

    def hold(self, slot: PaymentSlot) -> None:
        """Test set-up: a slot some other order holds (or held)."""
        self.slots[(slot.address, slot.fraction_micros)] = slot
        self.history.append(slot)

    def taken_fractions(self, address: str, low: int, high: int, now: datetime) -> set[int]:
        return {fraction for (held_at, fraction), slot in self.slots.items()
                if held_at == address and low <= fraction <= high and slot.held_until >= now}

    def holder(self, address: str, fraction_micros: int) -> PaymentSlot | None:
        return self.slots.get((address, fraction_micros))

    def holder_before(self, address: str, fraction_micros: int, moment: datetime) -> PaymentSlot | None:
        earlier = [slot for slot in self.history if (slot.address, slot.fraction_micros) == (address, fraction_micros)
                   and slot.held_from <= moment]
        return max(earlier, key=lambda slot: slot.held_from, default=None)


def _due_at(order: Order) -> datetime | None:
    """The sparse work index: open orders only, PENDING by expiry, the others by their last change."""
    if order.status not in OPEN_STATUSES:
        return None
    return order.expires_at if order.status == OrderStatus.PENDING else order.status_changed_at


class InMemoryLedger:
    """Entries once per id, balances per account, wallets never below zero: the adapter's conditions.
    `check` and `write` let another fake's transaction write an entry all or nothing. Like the adapter it keeps
    each account's lines apart from the entries, so a test can damage one without the other."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.entries: dict[str, PostedEntry] = {}
        self.lines: dict[str, list[HistoryLine]] = defaultdict(list)
        self.balances: dict[str, int] = defaultdict(int)
        self.versions: dict[str, int] = defaultdict(int)
        self.closings: dict[tuple[str, date], int] = {}
        self.reports: dict[date, dict[str, Any]] = {}

    def check(self, entry: JournalEntry) -> WriteResult:
        """DUPLICATE when written already; raises InsufficientFunds; APPLIED when `write` may go ahead."""
        if entry.entry_id in self.entries:
            return WriteResult.DUPLICATE
        for line in entry.debited_wallets:
            if self.balances[line.account] < -line.amount_micros:
                raise InsufficientFunds(line.account, -line.amount_micros)
        return WriteResult.APPLIED

    def write(self, entry: JournalEntry) -> None:
        self.entries[entry.entry_id] = entry
        for line in entry.lines:
            self.lines[line.account].append(HistoryLine(entry.entry_id, entry.purpose, line.amount_micros,
                                                        entry.currency, entry.posted_at, entry.order_id,
                                                        entry.transaction_id, entry.memo))
            self.balances[line.account] += line.amount_micros
            self.versions[line.account] += 1

    def post(self, entry: JournalEntry) -> WriteResult:
        with self.lock:
            result = self.check(entry)
            if result == WriteResult.APPLIED:
                self.write(entry)
            return result

    def entry(self, entry_id: str) -> JournalEntry | None:
        with self.lock:
            return self.entries.get(entry_id)  # type: ignore[return-value]

    def balance(self, account: str) -> int:
        with self.lock:
            return self.balances[account]

    def snapshot(self, account: str) -> AccountSnapshot:
        with self.lock:
            return AccountSnapshot(account, self.balances[account], self.versions[account])

    def history(self, account: str, limit: int, cursor: str | None = None) -> Page:
        with self.lock:
            lines = sorted(self.lines[account], key=lambda line: (line.posted_at, line.entry_id), reverse=True)
        return _page(lines, limit, cursor)

    def lines_since(self, account: str, since: datetime | None) -> list[HistoryLine]:
        with self.lock:
            lines = [line for line in self.lines[account] if since is None or line.posted_at >= since]
        return sorted(lines, key=lambda line: (line.posted_at, line.entry_id))

    def entries_of_day(self, day: date) -> Iterator[PostedEntry]:
        with self.lock:
            found = [entry for entry in self.entries.values() if entry.posted_at.astimezone(UTC).date() == day]
        return iter(found)

    def closing(self, account: str, before: date) -> tuple[date, int] | None:
        with self.lock:
            days = [day for (held, day) in self.closings if held == account and day < before]
            return (max(days), self.closings[(account, max(days))]) if days else None

    def save_closings(self, day: date, closings: dict[str, int]) -> None:
        with self.lock:
            self.closings.update({(account, day): balance for account, balance in closings.items()})

    def save_report(self, day: date, report: dict[str, Any]) -> None:
        self.reports[day] = report

    def report(self, day: date) -> dict[str, Any] | None:
        return self.reports.get(day)

    def last_reconciled_day(self) -> date | None:
        return max((day for day, report in self.reports.items() if report.get("complete")), default=None)


class InMemoryOrderStore:
    """Orders, each owner's count of PENDING orders (the adapter's account item), and the slots they hold."""

    def __init__(self, slots: InMemoryPaymentSlotStore | None = None, ledger: InMemoryLedger | None = None) -> None:
        self.ledger = ledger if ledger is not None else InMemoryLedger()
        self.lock = self.ledger.lock     # one lock: a transaction spans orders and entries
        self.orders: dict[str, Order] = {}
        self.pending: dict[str, int] = defaultdict(int)
        self.slots = slots if slots is not None else InMemoryPaymentSlotStore()

    # ------------------------------------------------------------------ reads
    def get(self, order_id: str) -> Order | None:
        with self.lock:
            return self.orders.get(order_id)

    def get_many(self, order_ids: Iterable[str]) -> dict[str, Order]:
        with self.lock:
            return {order_id: self.orders[order_id] for order_id in order_ids if order_id in self.orders}

    def list_by_owner(self, owner_id: str, limit: int, cursor: str | None) -> Page:
        with self.lock:
            owned = sorted((order for order in self.orders.values() if order.owner_id == owner_id),
                           key=lambda order: order.created_at, reverse=True)
        return _page(owned, limit, cursor)

    def list_due(self, status: OrderStatus, due_before: datetime, limit: int, cursor: str | None = None) -> Page:
        with self.lock:
            indexed = [(_due_at(order), order) for order in self.orders.values() if order.status == status]
        due = sorted(((at, order) for at, order in indexed if at is not None and at <= due_before),
                     key=lambda entry: entry[0])
        return _page([order for _, order in due], limit, cursor)

    # ------------------------------------------------------------------ writes
    def create(self, order: Order) -> None:
        with self.lock:
            if order.order_id in self.orders:
                raise TransactionCancelled(f"order {order.order_id} exists")
            self.orders[order.order_id] = order

    def create_pending(self, order: Order, max_pending: int, slot: PaymentSlot | None = None) -> None:
        """All or nothing, checked in the adapter's order: the open-order limit, then the slot."""
        with self.lock:
            if self.pending[order.owner_id] >= max_pending:
                raise OpenOrderLimitReached(max_pending)
            if slot is not None:
                held = self.slots.holder(slot.address, slot.fraction_micros)
                if held is not None and held.held_until >= order.created_at:
                    raise SlotTaken()
            if order.order_id in self.orders:
                raise TransactionCancelled(f"order {order.order_id} exists")
            if slot is not None:
                self.slots.hold(slot)
            self.orders[order.order_id] = order
            self.pending[order.owner_id] += 1

    def create_paid(self, order: Order, entry: JournalEntry) -> None:
        with self.lock:
            if order.order_id in self.orders or self.ledger.check(entry) != WriteResult.APPLIED:
                raise TransactionCancelled(f"order {order.order_id} or its entry exists")
            self.orders[order.order_id] = order
            self.ledger.write(entry)

    def apply(self, order: Order, transition: Transition, now: datetime, entry: JournalEntry | None = None,
              **changes: Any) -> Order | None:
        with self.lock:
            current = self.orders.get(order.order_id)
            if current is None or current.status not in transition.sources:
                return None
            if entry is not None and self.ledger.check(entry) != WriteResult.APPLIED:
                raise TransactionCancelled(f"entry {entry.entry_id} exists")
            if transition.leaves_pending:
                self.free_place(current.owner_id)
            if entry is not None:
                self.ledger.write(entry)
            return self.move(current, transition, now, changes)

    def claim(self, order_id: str, transition: Transition, now: datetime) -> tuple[Order, Order] | None:
        with self.lock:
            before = self.orders.get(order_id)
            if before is None or before.status not in transition.sources:
                return None
            return before, self.move(before, transition, now, {})

    def update_progress(self, order_id: str, **changes: Any) -> None:
        with self.lock:
            current = self.orders.get(order_id)
            if current is None:
                raise TransactionCancelled(f"order {order_id} does not exist")
            self.orders[order_id] = _changed(current, changes)

    # ------------------------------------------------------------------ shared with the payment store
    def move(self, current: Order, transition: Transition, now: datetime, changes: dict[str, Any]) -> Order:
        """Write one transition; the caller holds the lock and has checked the sources."""
        moved = _changed(current, {"status": transition.target, "status_changed_at": now, **changes})
        self.orders[current.order_id] = moved
        return moved

    def free_place(self, owner_id: str) -> None:
        if self.pending[owner_id] <= 0:  # the adapter's `pending_orders > 0` condition
            raise TransactionCancelled(f"{owner_id} holds no open-order place")
        self.pending[owner_id] -= 1


def _changed(order: Order, changes: dict[str, Any]) -> Order:
    unknown = set(changes) - _ORDER_FIELDS
    if unknown:  # the adapter has no attribute to set
        raise AttributeError(f"orders have no field(s) {sorted(unknown)}")
    if "details" in changes and changes["details"] is None:
        changes = {**changes, "details": {}}
    return replace(order, **changes)


def _page(items: list, limit: int, cursor: str | None) -> Page:
    start = int(cursor) if cursor else 0
    end = start + limit
    return Page(items[start:end], str(end) if end < len(items) else None)


# ---------------------------------------------------------------------------------------------- payments
class InMemoryPaymentStore:
    """A payment is written once per transaction id; only PENDING_CONFIRMATION may be replaced, and only by
    an outcome that is not PENDING_CONFIRMATION itself. `surfaced`: waiting payments put on the review list
    (the adapter's review_state OPEN); a replacing write takes them off it."""

    def __init__(self, orders: InMemoryOrderStore) -> None:
        self._orders = orders
        self._lock = threading.Lock()
        self.records: dict[str, PaymentRecord] = {}
        self.surfaced: set[str] = set()

    def _writable(self, record: PaymentRecord) -> bool:
        stored = self.records.get(record.transaction_id)
        if stored is None:
            return True
        return record.outcome != REPLACEABLE_OUTCOME and stored.outcome == REPLACEABLE_OUTCOME

    def record(self, record: PaymentRecord, entry: JournalEntry | None = None) -> bool:
        with self._lock, self._orders.lock:
            if not self._writable(record):
                return False
            if entry is not None:
                if self._orders.ledger.check(entry) != WriteResult.APPLIED:
                    return False
                self._orders.ledger.write(entry)
            self.records[record.transaction_id] = replace(record)
            self.surfaced.discard(record.transaction_id)
            return True

    def record_settling(self, record: PaymentRecord, order_id: str, owner_id: str | None, transition: Transition,
                        now: datetime, entry: JournalEntry, **changes: Any) -> WriteResult:
        """One atomic step: the payment, its entry, the order's transition and (with `owner_id`) its freed place."""
        with self._lock, self._orders.lock:
            if not self._writable(record) or self._orders.ledger.check(entry) != WriteResult.APPLIED:
                return WriteResult.DUPLICATE
            current = self._orders.orders.get(order_id)
            if current is None or current.status not in transition.sources:
                return WriteResult.STALE
            if owner_id is not None:
                self._orders.free_place(owner_id)
            self._orders.ledger.write(entry)
            self._orders.move(current, transition, now, changes)
            self.records[record.transaction_id] = replace(record)
            self.surfaced.discard(record.transaction_id)
            return WriteResult.APPLIED

    def get(self, transaction_id: str) -> PaymentRecord | None:
        with self._lock:
            stored = self.records.get(transaction_id)
            return None if stored is None else replace(stored)

    def waiting(self, received_before: datetime, limit: int, cursor: str | None = None) -> Page:
        with self._lock:
            found = sorted((replace(record) for tx, record in self.records.items()
                            if record.outcome == REPLACEABLE_OUTCOME and tx not in self.surfaced
                            and record.received_at <= received_before), key=lambda record: record.received_at)
        return _page(found, limit, cursor)

    def booked_of_day(self, day: date) -> Iterator[PaymentRecord]:
        with self._lock:
            found = sorted((replace(record) for record in self.records.values() if record.outcome in BOOKED_OUTCOMES
                            and record.received_at.astimezone(UTC).date() == day),
                           key=lambda record: record.received_at)
        return iter(found)

    def pointing_at(self, order_id: str, limit: int) -> list[str]:
        with self._lock:
            found = sorted((record for record in self.records.values() if record.order_id == order_id),
                           key=lambda record: record.received_at)
        return [record.transaction_id for record in found[:limit]]

    def surface(self, transaction_id: str, reason: str) -> bool:
        with self._lock:
            stored = self.records.get(transaction_id)
            if stored is None or stored.outcome != REPLACEABLE_OUTCOME or transaction_id in self.surfaced:
                return False
            self.surfaced.add(transaction_id)
            self.records[transaction_id] = replace(stored, reason=reason)
            return True


# ---------------------------------------------------------------------------------------------- queues and messages
class InMemoryPayoutStore:
    """What reconciliation reads of the payouts: those settled on chain, by the UTC day they landed."""

    def __init__(self) -> None:
        self.payouts: dict[str, Payout] = {}

    def put(self, payout: Payout) -> None:
        self.payouts[payout.payout_id] = payout

    def get(self, payout_id: str) -> Payout | None:
        return self.payouts.get(payout_id)

    def settled_of_day(self, day: date) -> Iterator[Payout]:
        return iter([payout for payout in self.payouts.values() if payout.state in SETTLED_ON_CHAIN
                     and payout.landed_at is not None and payout.landed_at.astimezone(UTC).date() == day])


class RecordingQueue:
    def __init__(self) -> None:
        self.enqueued: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def enqueue(self, order_id: str, kind: str) -> None:
        with self._lock:
            self.enqueued.append((order_id, kind))


class FakeTelegram:
    """Scripted answers per Bot API method, consumed in order; the last one keeps answering. An answer that
    is an exception is raised; a callable is called with the params. Unscripted methods answer True."""

    def __init__(self) -> None:
        self._answers: dict[str, list[Any]] = {}
        self._lock = threading.Lock()
        self.log: list[tuple[str, dict[str, Any]]] = []

    def on(self, method: str, *answers: Any) -> FakeTelegram:
        self._answers[method] = list(answers)
        return self

    def call(self, method: str, params: dict[str, Any], *, files: dict | None = None) -> Any:
        with self._lock:
            self.log.append((method, dict(params)))
            script = self._answers.get(method)
            answer = (script.pop(0) if len(script) > 1 else script[0]) if script else True
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer(params)
        return answer

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [params for name, params in self.log if method is None or name == method]


class RecordingMessenger:
    def __init__(self) -> None:
        self.notices: list[Any] = []
        self.texts: list[tuple[int, str]] = []

    def send(self, notice: Any) -> None:
        self.notices.append(notice)

    def send_text(self, chat_id: int, text: str) -> None:
        self.texts.append((chat_id, text))


# ---------------------------------------------------------------------------------------------- people, guards, settings
class InMemoryUserStore:
    def __init__(self) -> None:
        self.profiles: dict[int, UserProfile] = {}
        self.usernames: dict[str, int] = {}

    def remember(self, user: TelegramUser, now: datetime) -> UserProfile:
        known = self.profiles.get(user.user_id)
        profile = UserProfile(user.user_id, language=known.language if known else None, blocked=False,
                              language_code=user.language_code)
        self.profiles[user.user_id] = profile
        if user.username:
            self.usernames[user.username.lower()] = user.user_id
        return profile

    def profile(self, user_id: int) -> UserProfile | None:
        return self.profiles.get(user_id)

    def find_by_username(self, username: str) -> int | None:
        return self.usernames.get(username.lstrip("@").lower())

    def set_language(self, user_id: int, language: str) -> None:
        self.profiles[user_id] = replace(self.profiles.get(user_id) or UserProfile(user_id), language=language)

    def set_blocked(self, user_id: int, blocked: bool, now: datetime) -> None:
        self.profiles[user_id] = replace(self.profiles.get(user_id) or UserProfile(user_id), blocked=blocked)


class InMemoryGuardStore:
    def __init__(self) -> None:
        self.expiries: dict[str, int] = {}
        self._lock = threading.Lock()

    def claim(self, guard_id: str, ttl_seconds: int, now: datetime) -> bool:
        epoch = int(now.timestamp())
        with self._lock:
            held_until = self.expiries.get(guard_id)
            if held_until is not None and held_until > epoch:
                return False
            self.expiries[guard_id] = epoch + ttl_seconds
            return True

    def held_until(self, guard_ids: list[str]) -> dict[str, int]:
        with self._lock:
            return {guard_id: self.expiries[guard_id] for guard_id in guard_ids if guard_id in self.expiries}


class InMemoryBucketStore:
    """Redeem-attempt buckets: each write checks its range condition and writes under one lock, as one
    conditional UpdateItem does. `writes` counts the writes that were applied."""

    def __init__(self) -> None:
        self.buckets: dict[str, BucketState] = {}
        self.writes = 0
        self._lock = threading.Lock()

    def read(self, bucket_ids) -> dict[str, BucketState]:
        with self._lock:
            return {bucket_id: self.buckets[bucket_id] for bucket_id in bucket_ids if bucket_id in self.buckets}

    def take_first(self, bucket_id: str, now_s: int, full_at: int, expires_at: int) -> bool:
        with self._lock:
            current = self.buckets.get(bucket_id)
            if current is not None and current.full_at > now_s:
                return False
            self.buckets[bucket_id] = BucketState(full_at, now_s)
            self.writes += 1
            return True

    def take_next(self, bucket_id: str, now_s: int, step: int, horizon: int) -> int | None:
        with self._lock:
            current = self.buckets.get(bucket_id)
            if current is None or not now_s < current.full_at <= horizon - step:
                return None
            self.buckets[bucket_id] = replace(current, full_at=current.full_at + step)
            self.writes += 1
            return current.started_at

    def give_back(self, bucket_id: str, step: int, run: int) -> None:
        with self._lock:
            current = self.buckets.get(bucket_id)
            if current is not None and current.started_at == run:
                self.buckets[bucket_id] = replace(current, full_at=current.full_at - step)
                self.writes += 1


class InMemorySettingsStore:
    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values = dict(values or {})

    def get(self, setting_id: str) -> Any | None:
        return self.values.get(setting_id)

    def put(self, setting_id: str, value: Any) -> None:
        self.values[setting_id] = value


class Counted(list):
    """Pass `counted.append` where a service takes `count`; then `counted.of("OrdersPaid")`."""

    def of(self, name: str) -> int:
        return sum(1 for counted in self if counted == name)
