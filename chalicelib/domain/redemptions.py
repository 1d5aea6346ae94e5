"""Redeeming a code for a Premium gift, and giving the use back when the gift fails for good.

`RedemptionService.redeem` is the one entry point for the HTTP route (POST /redeem) and the bot's
redeem command. It is also the GiftListener of the gifts it queues.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Callable

from chalicelib.domain.attempt_limits import AttemptLimiter
from chalicelib.domain.codes import (CODES_DEPLETED, REDEEM_ATTEMPTS, REDEMPTIONS, REDEMPTIONS_DELIVERED,
                                     REDEMPTIONS_FAILED, REVENUE_MICROS, CodeStatus, RedeemCode, Redemption,
                                     RedemptionStatus, STATS_SHARDS, Tally, day_of, normalize_code,
                                     redemption_id_for)
from chalicelib.domain.errors import Conflict, DomainError, Gone, NotFound, RateLimited, Unavailable, ValidationFailed
from chalicelib.domain.notices import Notices
from chalicelib.domain.orders import Order
from chalicelib.domain.ports.codes import CodeStore, RedemptionStore
from chalicelib.domain.ports.common import Clock, WriteResult
from chalicelib.domain.ports.orders import OrderQueue, OrderStore
from chalicelib.domain.products.premium import PremiumGift
from chalicelib.domain.products.redemption_gift import RedemptionGift
from chalicelib.domain.shared import backoff_seconds

MAX_ROUNDS = 16               # reads-and-tries of one redemption before answering 503 CODE_BUSY
BUSY_RETRY_AFTER_SECONDS = 1
LIMITER_NAMESPACE = "redeem-attempts"


@dataclass(frozen=True)
class RedeemResult:
    redemption_id: str
    status: str          # "ACCEPTED": the use is taken and the gift is queued for delivery
    months: int

    def as_dict(self) -> dict[str, Any]:
        return {"redemption_id": self.redemption_id, "status": self.status, "months": self.months}


class _Refused(Exception):
    """A failed attempt: counted against the caller's buckets and the code's distributor."""

    def __init__(self, error: DomainError, code: RedeemCode | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.code = code


class RedemptionService:
    def __init__(self, codes: CodeStore, redemptions: RedemptionStore, orders: OrderStore,
                 limiter: AttemptLimiter, premium: PremiumGift, clock: Clock, secret: bytes,
                 queue: OrderQueue, notices: Notices, count: Callable[..., None],
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None) -> None:
        self._codes = codes
        self._redemptions = redemptions
        self._orders = orders
        self._limiter = limiter
        self._premium = premium
        self._clock = clock
        self._secret = secret
        self._queue = queue
        self._notices = notices
        self._count = count
        self._sleep = sleep
        self._rng = rng or random.Random()

    # ------------------------------------------------------------------ redeem
    def redeem(self, user_id: int, code: str, ip: str | None) -> RedeemResult:
        """Take one use of `code` for Telegram user `user_id` and queue a Premium gift for them.

        Returns RedeemResult(redemption_id, status="ACCEPTED", months): the use is taken and a PAID
        REDEMPTION_GIFT order (id = redemption_id, owned by "user:<user_id>") is on the delivery queue.
        Calling again after a crash between the use and the gift order finishes the job and returns the
        same result; calling again after success raises ALREADY_REDEEMED.

        Raises (DomainError subclasses; `code` is what clients match on):
        - ValidationFailed INVALID_CODE (400, field "code"): not 16 symbols of the code alphabet
          (hyphens, spaces and case do not matter; O, I and L read as 0, 1, 1). Not counted as an attempt.
        - RateLimited TOO_MANY_ATTEMPTS (429, retry_after seconds): too many failed attempts lately by
          this user or from this IP (`ip` None: the user's limit only, as for the bot), or more attempts
          at once than the buckets hold tokens. Nothing was looked up.
        - NotFound CODE_NOT_FOUND (404); Conflict CODE_USED_UP, CODE_INACTIVE, ALREADY_REDEEMED (409);
          Gone CODE_EXPIRED (410). Each of these is a failed attempt and keeps the token it took.
        - Unavailable CODE_BUSY (503, retry_after 1): the code is contended beyond our retries (a very hot
          multi-use code); nothing was taken, and the attempt's tokens are given back (so is a success's).

        A transaction that got no answer (a timeout) may have taken the use: the redemption item, one per
        (code, user), tells, so the use is taken at most once and a buyer whose use was taken is answered
        ACCEPTED, never CODE_BUSY.
        """
        normalized = normalize_code(code)
        if normalized is None:
            raise ValidationFailed("code must be 16 letters and digits, like XXXX-XXXX-XXXX-XXXX",
                                   code="INVALID_CODE", field="code")
        keys = [f"user:{user_id}"] + ([f"ip:{ip}"] if ip else [])
        permit = self._limiter.take(keys, self._clock.now())   # before the look-up, so guesses in flight
        if not permit.granted:                                 # never outnumber the tokens
            self._count("RedeemRateLimited")
            raise RateLimited(f"too many failed attempts; try again in {permit.wait_seconds} s",
                              code="TOO_MANY_ATTEMPTS", retry_after=permit.wait_seconds)
        try:
            result = self._redeem(user_id, normalized)
        except _Refused as refused:   # a failed guess keeps its tokens
            if refused.code is not None:   # a hot code's refusals spread over the counter shards too
                shard = self._rng.randrange(STATS_SHARDS) if refused.code.use_shards else refused.code.shard
                self._codes.add_tally(Tally(refused.code.distributor_id, day_of(self._clock.now()), shard,
                                            {REDEEM_ATTEMPTS: 1}))
            self._count("RedeemRefused")
            raise refused.error from None
        except Exception:             # not a guess that failed (a busy code, a storage error)
            self._limiter.give_back(permit)
            raise
        self._limiter.give_back(permit)
        return result

    def _redeem(self, user_id: int, code: str) -> RedeemResult:
        redemption_id = redemption_id_for(self._secret, code, user_id)
        last_of: int | None = None   # a use counter whose next use may be its last (its plain try failed)
        record: RedeemCode | None = None
        for round_number in range(MAX_ROUNDS):
            now = self._clock.now()
            if record is None:
                record = self._codes.get(code)
                if record is None:
                    raise _Refused(NotFound("no such code", code="CODE_NOT_FOUND", field="code"))
            status = record.status(now)
            if status != CodeStatus.ACTIVE:
                existing = self._redemptions.get(redemption_id)
                if existing is not None:
                    return self._already_redeemed(existing, record)
                raise _Refused(_refusal(status), record)
            shard, depletes, code_depletes = self._use_to_take(record, last_of)
            retail = self._retail_micros(record.product_id)
            redemption = Redemption(redemption_id=redemption_id, code=code, user_id=user_id,
                                    distributor_id=record.distributor_id, code_order_id=record.order_id,
                                    product_id=record.product_id, month_count=record.month_count,
                                    status=RedemptionStatus.ACCEPTED, redeemed_at=now, updated_at=now,
                                    retail_micros=retail, gift_order_id=redemption_id, use_shard=shard)
            counts = {REDEEM_ATTEMPTS: 1, REDEMPTIONS: 1, REVENUE_MICROS: retail}
            live: dict[str, int] = {}
            if code_depletes:
                counts[CODES_DEPLETED] = 1
                live[record.expiry_day] = -1
            outcome = self._codes.redeem(record, redemption, depletes, Tally(
                record.distributor_id, day_of(now), redemption.stats_shard, counts, live), now)
            if outcome == WriteResult.APPLIED:
                self._count("CodesRedeemed")
                return self._queue_gift(redemption)
            if outcome in (WriteResult.DUPLICATE, WriteResult.UNKNOWN):
                # DUPLICATE: this buyer's redemption exists. UNKNOWN: the transaction got no answer and may
                # have taken the use (its redemption then exists); if not yet, the next round's transaction
                # finds it (DUPLICATE) or takes the use itself: the redemption's key allows one either way.
                existing = self._redemptions.get(redemption_id)
                if existing is not None:
                    return self._already_redeemed(existing, record)
            if outcome in (WriteResult.BUSY, WriteResult.UNKNOWN):
                # Nothing was refused: the code as read still decides (every condition is a range, checked
                # by DynamoDB), so the next round sends its transaction without reading the code again.
                self._back_off(round_number)
            else:
                record = None
            # CHANGED: another use or a deactivation got there first; read the code again. On a counter of
            # a hot code it most often means that counter is at its last use: take exactly that next.
            last_of = shard if outcome == WriteResult.CHANGED and shard is not None and not depletes else None
        # An earlier round whose answer was lost (a timeout whose retry was then cancelled as in progress or
        # conflicting) may have taken the use: a buyer whose use was taken is never told the code is busy.
        existing = self._redemptions.get(redemption_id)
        if existing is not None:
            return self._already_redeemed(existing, record)
        self._count("RedeemBusy")
        raise Unavailable("this code is being redeemed by many people at once; try again in a moment",
                          code="CODE_BUSY", retry_after=BUSY_RETRY_AFTER_SECONDS)

    def _use_to_take(self, record: RedeemCode, last_of: int | None) -> tuple[int | None, bool, bool]:
        """(use counter, whether this is its last use, whether it is the code's last use). A code counted on
        one item: its own count decides. A hot code: a random counter not used up, so that buyers of one
        code spread over its counters; its last use only after a plain try failed (the counter is not read)."""
        if not record.use_shards:
            depletes = record.used_count + 1 >= record.max_uses
            return None, depletes, depletes
        open_shards = [shard for shard in range(record.use_shards) if shard not in record.depleted_shards]
        if last_of in open_shards:
            return last_of, True, len(open_shards) == 1
        return self._rng.choice(open_shards), False, False

    def _already_redeemed(self, existing: Redemption, record: RedeemCode | None) -> RedeemResult:
        """A redemption by this user exists. If its gift order was never written (a crash right after the
        transaction), write and queue it now: the caller's retry completes the redemption."""
        if existing.status == RedemptionStatus.ACCEPTED and self._orders.get(existing.gift_order_id) is None:
            self._count("RedemptionsResumed")
            return self._queue_gift(existing)
        raise _Refused(Conflict("you already redeemed this code", code="ALREADY_REDEEMED", field="code"), record)

    def _queue_gift(self, redemption: Redemption) -> RedeemResult:
        gift = RedemptionGift.order_for(redemption, self._clock.now())
        try:
            self._orders.create(gift)
        except Exception:
            # The same user's concurrent request (resuming what looked unfinished) wrote it first: fine,
            # delivery is at most once per order. Anything else is a real failure.
            if self._orders.get(gift.order_id) is None:
                raise
        self._queue.enqueue(gift.order_id, gift.kind)  # a lost message: the repair job queues it again
        return RedeemResult(redemption.redemption_id, RedemptionStatus.ACCEPTED.value, redemption.month_count)

    def _retail_micros(self, product_id: str) -> int:
        try:
            return self._premium.offer(product_id).price_micros
        except DomainError:
            return 0

    def _back_off(self, round_number: int) -> None:
        self._sleep(backoff_seconds(round_number, self._rng))

    # ------------------------------------------------------------------ GiftListener
    def delivered(self, order: Order) -> None:
        redemption = self._redemptions.get(order.redemption_id or "")
        if redemption is None or redemption.status != RedemptionStatus.ACCEPTED:
            return
        now = self._clock.now()
        tally = Tally(redemption.distributor_id, day_of(now), redemption.stats_shard, {REDEMPTIONS_DELIVERED: 1})
        for round_number in range(MAX_ROUNDS):
            if self._codes.settle(redemption, RedemptionStatus.DELIVERED, None, tally, now) != WriteResult.BUSY:
                return
            self._back_off(round_number)
        raise RuntimeError(f"redemption {redemption.redemption_id}: could not record the delivery")

    def failed(self, order: Order) -> None:
        """The gift failed for good: the use goes back to the code (never below zero) and the redemption
        is marked FAILED, in one transaction."""
        redemption = self._redemptions.get(order.redemption_id or "")
        if redemption is None or redemption.status != RedemptionStatus.ACCEPTED:
            return
        reason = (order.failure_reason or "gift failed")[:500]
        for round_number in range(MAX_ROUNDS):
            now = self._clock.now()
            record = self._codes.get(redemption.code)
            counts = {REDEMPTIONS_FAILED: 1, REVENUE_MICROS: -redemption.retail_micros}
            if record is None or (not record.use_shards and record.used_count <= 0):
                # Nothing to give back (cannot happen unless the item was edited by hand): settle only.
                outcome = self._codes.settle(redemption, RedemptionStatus.FAILED, reason,
                                             Tally(redemption.distributor_id, day_of(now), redemption.stats_shard,
                                                   counts), now)
                self._notices.alert(f"give-back:{redemption.redemption_id}",
                                     f"Redemption {redemption.redemption_id} failed but its code has no use to "
                                     "give back.")
            else:
                live: dict[str, int] = {}
                if record.depleted:
                    counts[CODES_DEPLETED] = -1
                    live[record.expiry_day] = 1
                outcome = self._codes.give_back(record, redemption, record.depleted, reason,
                                                Tally(redemption.distributor_id, day_of(now),
                                                      redemption.stats_shard, counts, live), now)
            if outcome == WriteResult.APPLIED:
                self._count("RedemptionsGivenBack")
                return
            if outcome == WriteResult.STALE:
                return  # another worker settled it
            if outcome == WriteResult.BUSY:
                self._back_off(round_number)
        self._notices.alert(f"give-back:{redemption.redemption_id}",
                             f"Could not give back the use of redemption {redemption.redemption_id}; "
                             "please check its code.")


def _refusal(status: CodeStatus) -> DomainError:
    if status == CodeStatus.DEPLETED:
        return Conflict("this code has no uses left", code="CODE_USED_UP", field="code")
    if status == CodeStatus.INACTIVE:
        return Conflict("this code was deactivated", code="CODE_INACTIVE", field="code")
    return Gone("this code has expired", code="CODE_EXPIRED", field="code")

