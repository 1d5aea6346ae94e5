"""What a distributor does and sees: plans, code orders, their codes and CSV, deactivation, figures.

Every method takes the authenticated distributor; another distributor's order or code is NOT FOUND.
Figures come from counters kept per day and in total (docs/codes.md defines each); nothing here reads
all codes or all redemptions.
"""
from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Callable

from chalicelib.domain.codes import (CODES_DEPLETED, CODES_INACTIVE, CODES_TOTAL, REDEEM_ATTEMPTS, REDEMPTIONS,
                                     REDEMPTIONS_DELIVERED, REDEMPTIONS_FAILED, REVENUE_MICROS, CodeState,
                                     CodeStatus, RedeemCode, Tally, day_of, expiry_for, normalize_code,
                                     read_order_codes, today)
from chalicelib.domain.distributors import Distributor
from chalicelib.domain.errors import Conflict, NotFound, Unavailable, ValidationFailed
from chalicelib.domain.products.code_pack_fulfilment import codes_csv
from chalicelib.domain.money import format_amount
from chalicelib.domain.ordering import OrderingService
from chalicelib.domain.orders import Order
from chalicelib.domain.ports.codes import CodeStore, FigureStore, RedemptionStore
from chalicelib.domain.ports.common import Clock, Page, WriteResult
from chalicelib.domain.products.code_pack import CodePack, Plan, fulfillment_status, holds_codes
from chalicelib.domain.products.wallet_top_up import WalletTopUp
from chalicelib.domain.shared import backoff_seconds, decode_cursor, encode_cursor, iso
from chalicelib.domain.users import owner_for_distributor

ORDERS_PAGE = 20
MAX_EXAMINED = 1000          # codes read per listing request at most; the cursor continues after them
READ_WINDOW = 100
MAX_ROUNDS = 16
CSV_ROWS_DEFAULT = 20_000    # one HTTP answer stays far below Lambda's 6 MB response limit
CSV_ROWS_MAX = 50_000
MAX_SEQ = 10_000_000         # no order holds more codes (the CSV export's cursor has the same bound)


class DistributorDesk:
    def __init__(self, code_pack: CodePack, top_up: WalletTopUp, ordering: OrderingService, codes: CodeStore,
                 redemptions: RedemptionStore, figures: FigureStore, clock: Clock, secret: bytes,
                 count: Callable[..., None], sleep: Callable[[float], None] = time.sleep) -> None:
        self._code_pack = code_pack
        self._top_up = top_up
        self._ordering = ordering
        self._codes = codes
        self._redemptions = redemptions
        self._figures = figures
        self._clock = clock
        self._secret = secret
        self._count = count
        self._sleep = sleep
        self._rng = random.Random()

    # ------------------------------------------------------------------ plans and orders
    def plans(self) -> list[Plan]:
        return self._code_pack.plans()

    def create_order(self, distributor: Distributor, plan_id: str, quantity: int,
                     payment_method: str = "trc20") -> Order:
        """A CODE_PACK order paid like any other: a unique USDT amount on one of our addresses, or the
        distributor's wallet balance."""
        order = self._ordering.create(self._code_pack.draft_pack(distributor.distributor_id, plan_id, quantity),
                                      payment_method)
        self._count("CodeOrdersCreated")
        return order

    def top_up(self, distributor: Distributor, amount: Decimal) -> Order:
        owner_id = owner_for_distributor(distributor.distributor_id)
        return self._ordering.create(self._top_up.draft_for(owner_id, self._top_up.checked_amount(amount)))

    def orders(self, distributor: Distributor, limit: int, cursor: str | None) -> Page:
        return self._ordering.list_owned(owner_for_distributor(distributor.distributor_id), limit, cursor)

    def order(self, distributor: Distributor, order_id: str) -> Order:
        return self._ordering.get_owned(order_id, owner_for_distributor(distributor.distributor_id))

    def export_csv(self, distributor: Distributor, order_id: str, start: int, rows: int) -> tuple[str, int | None]:
        """Rows [start, start + rows) of a completed order's CSV (the header comes with the first part);
        returns the text and where the next part starts (None at the end)."""
        order = self.order(distributor, order_id)
        if fulfillment_status(order) != "completed":
            raise Conflict(f"order {order_id} is {fulfillment_status(order)}; its codes are ready once completed",
                           code="CODES_NOT_READY")
        total = order.fulfillment_total or 0
        if start > total:
            raise ValidationFailed(f"cursor is past the last code ({total})", code="INVALID_CURSOR", field="cursor")
        end = min(start + rows, total)
        codes = read_order_codes(self._codes, self._secret, order.order_id, range(start, end))
        return codes_csv(codes, self._clock.now(), header=start == 0), (end if end < total else None)

    # ------------------------------------------------------------------ codes
    def codes(self, distributor: Distributor, status: CodeStatus | None, limit: int, cursor: str | None) -> Page:
        """The distributor's codes, newest order first and by sequence number within an order, optionally of
        one status. Codes are found by regenerating each order's codes (no per-code index is written), at
        most MAX_EXAMINED per request: a page may hold fewer than `limit` codes and still have a cursor."""
        position = _position(cursor)
        owner = owner_for_distributor(distributor.distributor_id)
        now = self._clock.now()
        found: list[RedeemCode] = []
        examined = 0
        orders_cursor, resume_order, seq = position.get("p"), position.get("o"), int(position.get("s", 0))
        while True:
            page = self._ordering.list_owned(owner, ORDERS_PAGE, orders_cursor)
            orders = list(page.items)
            if resume_order is not None:
                index = next((i for i, order in enumerate(orders) if order.order_id == resume_order), None)
                orders, seq = (orders[index:], seq) if index is not None else (orders, 0)
                resume_order = None
            for order in orders:
                done = order.fulfillment_done or 0
                if not holds_codes(order) or not _may_hold(order, status, now):
                    seq = 0
                    continue
                while seq < done:
                    if examined >= MAX_EXAMINED or len(found) >= limit:
                        return Page(found, encode_cursor({"p": orders_cursor, "o": order.order_id, "s": seq}))
                    end = min(seq + READ_WINDOW, done, seq + (MAX_EXAMINED - examined))
                    for code in read_order_codes(self._codes, self._secret, order.order_id, range(seq, end)):
                        examined += 1
                        if len(found) >= limit:
                            return Page(found, encode_cursor({"p": orders_cursor, "o": order.order_id, "s": code.seq}))
                        if status is None or code.status(now) == status:
                            found.append(code)
                    seq = end
                seq = 0
            if page.cursor is None:
                return Page(found, None)
            orders_cursor = page.cursor

    def deactivate(self, distributor: Distributor, code: str) -> RedeemCode:
        """Remaining uses stop; the code and its redemptions stay. Idempotent."""
        normalized = normalize_code(code)
        if normalized is None:
            raise ValidationFailed("code must be 16 letters and digits, like XXXX-XXXX-XXXX-XXXX",
                                   code="INVALID_CODE", field="code")
        for round_number in range(MAX_ROUNDS):
            record = self._codes.get(normalized)
            if record is None or record.distributor_id != distributor.distributor_id:
                raise NotFound("no such code", code="CODE_NOT_FOUND", field="code")
            if record.state == CodeState.INACTIVE:
                return record
            now = self._clock.now()
            counts = {CODES_INACTIVE: 1}
            live: dict[str, int] = {}
            if record.depleted:
                counts[CODES_DEPLETED] = -1
            else:
                live[record.expiry_day] = -1
            outcome = self._codes.deactivate(record, record.depleted, Tally(record.distributor_id, day_of(now),
                                                                            record.shard, counts, live), now)
            if outcome == WriteResult.APPLIED:
                self._count("CodesDeactivated")
                return replace(record, state=CodeState.INACTIVE)
            if outcome == WriteResult.BUSY:
                self._sleep(backoff_seconds(round_number, self._rng))
        raise Unavailable("this code is busy; try again in a moment", code="CODE_BUSY", retry_after=1)

    # ------------------------------------------------------------------ figures
    def summary(self, distributor: Distributor) -> dict[str, Any]:
        now = self._clock.now()
        totals = self._figures.totals(distributor.distributor_id)
        current = today(now).isoformat()
        active = sum(count for day, count in totals.live.items() if day > current)
        expired = sum(count for day, count in totals.live.items() if day <= current)
        return {"codes_total": totals.get(CODES_TOTAL), "codes_active": active, "codes_expired": expired,
                "codes_depleted": totals.get(CODES_DEPLETED), "codes_inactive": totals.get(CODES_INACTIVE),
                "redeem_attempts": totals.get(REDEEM_ATTEMPTS), "redemptions": totals.get(REDEMPTIONS),
                "redemptions_delivered": totals.get(REDEMPTIONS_DELIVERED),
                "redemptions_failed": totals.get(REDEMPTIONS_FAILED),
                "revenue_estimate": format_amount(totals.get(REVENUE_MICROS), 2), "currency": "USDT",
                "as_of": iso(now)}

    def redemptions(self, distributor: Distributor, limit: int, cursor: str | None) -> Page:
        return self._redemptions.list_by_distributor(distributor.distributor_id, limit, cursor)

    def sales_trend(self, distributor: Distributor, days: int) -> list[dict[str, Any]]:
        """One point per UTC day, oldest first, today last; days without events are zeros."""
        last = today(self._clock.now())
        first = last - timedelta(days=days - 1)
        stored = self._figures.days(distributor.distributor_id, first.isoformat(), last.isoformat())
        points = []
        for offset in range(days):
            day = (first + timedelta(days=offset)).isoformat()
            counters = stored.get(day)
            value = (lambda name: counters.get(name)) if counters else (lambda name: 0)
            points.append({"date": day, "redemptions": value(REDEMPTIONS),
                           "redemptions_delivered": value(REDEMPTIONS_DELIVERED),
                           "redemptions_failed": value(REDEMPTIONS_FAILED),
                           "redeem_attempts": value(REDEEM_ATTEMPTS), "codes_issued": value(CODES_TOTAL),
                           "revenue_estimate": format_amount(value(REVENUE_MICROS), 2)})
        return points


def _may_hold(order: Order, status: CodeStatus | None, now: datetime) -> bool:
    """Every code of an order expires at once: an order past its expiry holds no active codes, an order
    before it no expired ones."""
    if status not in (CodeStatus.ACTIVE, CodeStatus.EXPIRED) or not order.code_valid_days:
        return True
    expired = now >= expiry_for(order, order.code_valid_days)
    return expired if status == CodeStatus.EXPIRED else not expired


def _position(cursor: str | None) -> dict[str, Any]:
    """Where a page of codes resumes: the orders page (`p`, an orders cursor, checked where it is used), the
    order (`o`) and the sequence number in it (`s`)."""
    position = decode_cursor(cursor) or {}
    seq = position.get("s", 0)
    if set(position) - {"p", "o", "s"} or type(seq) is not int or not 0 <= seq <= MAX_SEQ \
            or not isinstance(position.get("o"), (str, type(None))) \
            or not isinstance(position.get("p"), (str, type(None))):
        raise ValidationFailed("cursor is not one this API returned", code="INVALID_CURSOR", field="cursor")
    return position
