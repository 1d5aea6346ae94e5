"""Fulfilling a paid CODE_PACK order: writing exactly the codes it paid for, a chunk per invocation.

One message on the fulfillment queue = one chunk (`chunk_size` codes, seconds of work), then a
continuation message for the rest. Order states: PAID -> DELIVERING (fulfillment "processing") when the
first chunk starts, DELIVERED ("completed") after the last one, FAILED when the order cannot be
fulfilled (its plan terms are missing, or a code clash cannot be resolved).

Exactly the codes paid for, whatever crashes or duplicates:
- codes are derived (HMAC of order id, sequence number and attempt), so a retry regenerates the same ones;
- before a batch is written its codes are read (BatchGetItem, consistent): a code this order already wrote
  (same order id and sequence number) is skipped, a code another order owns is a clash and that sequence
  number moves on to its next attempt; new codes are written with BatchWriteItem, unprocessed items being
  retried with backoff by the adapter;
- `fulfillment_done` (the API's delivered_count) is saved after each chunk; a chunk is written under a lease
  (a GuardStore claim per order and chunk start), so a duplicate message or the repair job's re-enqueue never
  writes the same chunk twice at once: the late one finds the lease held and stops.
"""
from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Callable, Iterator, Sequence

from chalicelib.domain.ports.codes import CodeStore
from chalicelib.domain.codes import (CODES_TOTAL, MAX_ATTEMPTS, CodeState, RedeemCode, Tally, day_of, derive_code,
                                     expiry_for, format_code, read_order_codes, stats_shard, use_shards_for)
from chalicelib.domain.notices import Notices
from chalicelib.domain.ledger import refund_entry, refundable_micros
from chalicelib.domain.orders import MARK_DELIVERED, MARK_FAILED, START_FULFILMENT, Order, OrderStatus
from chalicelib.domain.ports.common import Clock, GuardStore
from chalicelib.domain.ports.orders import OrderQueue
from chalicelib.domain.ports.people import DistributorStore
from chalicelib.domain.products.code_pack import CodePack, distributor_of
from chalicelib.domain.ports.orders import OrderStore
from chalicelib.domain.ports.telegram import TelegramGateway

S = OrderStatus
READY = frozenset({S.PAID, S.PAID_LATE})
READ_BATCH = 100                 # BatchGetItem's limit
DOCUMENT_MARKER_SECONDS = 90 * 24 * 3600
CSV_COLUMNS = ("code", "months", "max_uses", "used_count", "expires_at", "status")

StepHook = Callable[[str, Order, int, int], None]


class ClashesExhausted(Exception):
    """A sequence number found every attempt taken (never expected with 80-bit codes)."""


@dataclass(frozen=True)
class FulfillmentPolicy:
    chunk_size: int = 5000
    lease_seconds: int = 600     # > the function timeout (a dead worker's chunk is free again after this)


@dataclass(frozen=True)
class _Terms:
    distributor_id: str
    max_uses: int
    expires_at: datetime
    created_at: datetime


class FulfillmentService:
    def __init__(self, orders: OrderStore, codes: CodeStore, guards: GuardStore, telegram: TelegramGateway,
                 notices: Notices, clock: Clock, secret: bytes, policy: FulfillmentPolicy,
                 queue: OrderQueue, count: Callable[..., None], distributors: DistributorStore) -> None:
        self._orders = orders
        self._codes = codes
        self._guards = guards
        self._telegram = telegram
        self._notices = notices
        self._clock = clock
        self._secret = secret
        self.policy = policy
        self._queue = queue
        self._count = count
        self._distributors = distributors
        # The crash-injection seam for tests: called with ("written" | "saved", order, start, end).
        self.step_hook: StepHook | None = None

    # ------------------------------------------------------------------ one message
    def fulfil(self, order_id: str) -> Order | None:
        order = self._orders.get(order_id)
        if order is None or order.kind != CodePack.kind:
            return order
        if order.status in READY:
            order = self._start(order)
            if order is None:
                return None  # another worker started it
        if order.status == S.DELIVERED:
            self._after_completion(order)  # a retry after a crash past the DELIVERED write
            return order
        if order.status != S.DELIVERING:
            return order
        terms = self._terms(order)
        total = order.fulfillment_total or 0
        if terms is None or total <= 0:
            return self._fail(order, "the order has no code terms (plan, quantity, max uses, validity)")
        start = order.fulfillment_done or 0
        if start < total:
            end = min(start + self.policy.chunk_size, total)
            if not self._guards.claim(f"fulfil#{order_id}#{start}", self.policy.lease_seconds, self._clock.now()):
                self._count("FulfillmentChunkLeaseHeld")
                return order  # a duplicate message: the holder of this chunk carries the order on
            try:
                written = self._write_chunk(order, terms, start, end)
            except ClashesExhausted as error:
                return self._fail(order, str(error))
            self._count("CodesWritten", written)
            self._step("written", order, start, end)
            self._orders.update_progress(order_id, fulfillment_done=end)
            self._step("saved", order, start, end)
            if end < total:
                self._queue.enqueue(order.order_id, order.kind)
                return replace(order, fulfillment_done=end)
        return self._complete(order, total)

    def _start(self, order: Order) -> Order | None:
        total = order.fulfillment_total or 0
        return self._orders.apply(order, START_FULFILMENT, self._clock.now(), fulfillment_total=total,
                                  fulfillment_done=order.fulfillment_done or 0, fulfillment_error=None)

    def _terms(self, order: Order) -> _Terms | None:
        distributor_id = distributor_of(order)
        if not (distributor_id and order.code_max_uses and order.code_valid_days and order.month_count):
            return None
        return _Terms(distributor_id, order.code_max_uses, expiry_for(order, order.code_valid_days),
                      order.paid_at or order.status_changed_at)

    def _step(self, stage: str, order: Order, start: int, end: int) -> None:
        if self.step_hook is not None:
            self.step_hook(stage, order, start, end)

    # ------------------------------------------------------------------ one chunk
    def _write_chunk(self, order: Order, terms: _Terms, start: int, end: int) -> int:
        """Write the codes for sequence numbers [start, end) that do not exist yet; returns how many."""
        taken: set[str] = set()   # codes given to a smaller sequence number of this chunk
        candidates = []
        for seq in range(start, end):
            code, attempt = self._next_free(order.order_id, seq, 0, taken)
            candidates.append((seq, code, attempt))
        written = 0
        while candidates:
            clashes = []
            for batch, owners in self._with_owners(candidates):
                fresh = []
                for seq, code, attempt in batch:
                    owner = owners.get(code)
                    if owner is None:
                        fresh.append(self._record(order, terms, seq, code))
                    elif owner != (order.order_id, seq):
                        clashes.append((seq, attempt))
                    # else: written by an earlier attempt at this chunk
                self._codes.put_new(fresh)
                written += len(fresh)
            if clashes:
                self._count("CodeClashes", len(clashes))
            candidates = [(seq, *self._next_free(order.order_id, seq, attempt + 1, taken)) for seq, attempt in clashes]
        return written

    def _next_free(self, order_id: str, seq: int, attempt: int, taken: set[str]) -> tuple[str, int]:
        while attempt < MAX_ATTEMPTS:
            code = derive_code(self._secret, order_id, seq, attempt)
            if code not in taken:
                taken.add(code)
                return code, attempt
            attempt += 1
        raise ClashesExhausted(f"sequence number {seq}: every code attempt is taken")

    def _with_owners(self, candidates: Sequence[tuple[int, str, int]]
                     ) -> Iterator[tuple[Sequence[tuple[int, str, int]], dict[str, tuple[str, int]]]]:
        """Batches of candidates with the owners of their codes. The next batch is read while the current
        one is written (a reader thread), so the check costs the writer almost no time."""
        batches = [candidates[index:index + READ_BATCH] for index in range(0, len(candidates), READ_BATCH)]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="code-owners") as reader:
            ahead = reader.submit(self._codes.owners, [code for _, code, _ in batches[0]]) if batches else None
            for index, batch in enumerate(batches):
                owners = ahead.result()  # type: ignore[union-attr]
                if index + 1 < len(batches):
                    ahead = reader.submit(self._codes.owners, [code for _, code, _ in batches[index + 1]])
                yield batch, owners

    def _record(self, order: Order, terms: _Terms, seq: int, code: str) -> RedeemCode:
        return RedeemCode(code=code, order_id=order.order_id, seq=seq, distributor_id=terms.distributor_id,
                          product_id=order.product_id, month_count=order.month_count or 0,
                          max_uses=terms.max_uses, used_count=0, state=CodeState.ACTIVE,
                          expires_at=terms.expires_at, created_at=terms.created_at,
                          use_shards=use_shards_for(terms.max_uses))

    # ------------------------------------------------------------------ the end
    def _complete(self, order: Order, total: int) -> Order | None:
        now = self._clock.now()
        done = self._orders.apply(order, MARK_DELIVERED, now, delivered_at=now,
                                       fulfillment_done=total, fulfillment_error=None)
        if done is None:
            return self._orders.get(order.order_id)
        self._count("CodePacksFulfilled")
        self._after_completion(done)
        return done

    def _after_completion(self, order: Order) -> None:
        """Idempotent: the distributor's counters (once per order), then the CSV document (at most once)."""
        terms = self._terms(order)
        total = order.fulfillment_total or 0
        if terms is None or total <= 0:
            return
        moment = order.delivered_at or order.status_changed_at
        self._codes.count_issued(order.order_id, Tally(terms.distributor_id, day_of(moment),
                                                       stats_shard(order.order_id), {CODES_TOTAL: total},
                                                       {terms.expires_at.date().isoformat(): total}))
        self._send_document(order, terms.distributor_id, total)

    def _send_document(self, order: Order, distributor_id: str, total: int) -> None:
        distributor = self._distributors.get(distributor_id)
        chat_id = distributor.telegram_user_id if distributor else None
        if chat_id is None:
            return
        if not self._guards.claim(f"codes-document#{order.order_id}", DOCUMENT_MARKER_SECONDS, self._clock.now()):
            return
        text = codes_csv(self.read_codes(order, 0, total), self._clock.now())
        caption = (f"{total} redeem codes for {order.month_count} months of Telegram Premium "
                   f"(order {order.order_id}, plan {order.plan_id}).")
        try:
            self._telegram.call("sendDocument", {"chat_id": chat_id, "caption": caption},
                                files={"document": (f"codes-{order.order_id}.csv", text.encode(), "text/csv")})
            self._count("CodeDocumentsSent")
        except Exception as error:  # noqa: BLE001 - the codes are also downloadable over HTTP
            self._notices.alert(f"codes-document:{order.order_id}",
                                 f"The CSV of code order {order.order_id} could not be sent to its distributor "
                                 f"({type(error).__name__}); it stays downloadable over HTTP.")

    def _fail(self, order: Order, reason: str) -> Order | None:
        now = self._clock.now()
        refund = refund_entry(order, reason, now)
        failed = self._orders.apply(order, MARK_FAILED, now, refund, fulfillment_error=reason[:500],
                                    failure_reason=reason[:500])
        if failed is not None:
            self._count("CodePacksFailed")
            if refund is not None:
                self._notices.payment_event(failed, "refunded", refundable_micros(order), CodePack.notices)
            self._notices.alert(f"code-pack-failed:{order.order_id}",
                                 f"Code order {order.order_id} could not be fulfilled: {reason}")
        return failed

    # ------------------------------------------------------------------ reading back
    def read_codes(self, order: Order, start: int, end: int) -> list[RedeemCode]:
        return read_order_codes(self._codes, self._secret, order.order_id, range(start, end))


def codes_csv(codes: Sequence[RedeemCode], now: datetime, header: bool = True) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for code in codes:
        writer.writerow(csv_row(code, now))
    return buffer.getvalue()


def csv_row(code: RedeemCode, now: datetime) -> tuple[Any, ...]:
    return (format_code(code.code), code.month_count, code.max_uses, code.used_count,
            code.expires_at.isoformat().replace("+00:00", "Z"), code.status(now).value)
