"""Operators, sessions and the operator's order and catalog steps with in-memory stores (no emulator)."""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from chalicelib.domain.attempt_limits import AttemptLimiter, BucketPolicy
from chalicelib.domain.catalog_desk import CatalogDesk
from chalicelib.domain.distributors import AdminActor
from chalicelib.domain.errors import Conflict, RateLimited, Unauthenticated, ValidationFailed
from chalicelib.domain.live_settings import LiveSettings
from chalicelib.domain.operators import DUMMY_HASH, OperatorService, Role, hash_password
from chalicelib.domain.order_desk import OrderDesk
from chalicelib.domain.orders import Order, OrderStatus
from tests.fakes import FixedClock, InMemoryBucketStore, InMemoryOrderStore, RecordingQueue

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
OWNER = AdminActor("operator:olga")
PASSWORD = "correct horse battery"


class Operators:
    def __init__(self) -> None:
        self.items: dict[str, Any] = {}

    def get(self, name):
        return self.items.get(name)

    def all(self):
        return list(self.items.values())

    def create(self, operator) -> bool:
        return self.items.setdefault(operator.name, operator) is operator

    def replace(self, operator, expected_active) -> bool:
        if self.items[operator.name].active != expected_active:
            return False
        self.items[operator.name] = operator
        return True


class Sessions:
    def __init__(self) -> None:
        self.items: dict[str, Any] = {}
        self.revoked: set[str] = set()

    def create(self, session) -> None:
        self.items[session.token_hash] = session

    def get(self, token_hash):
        return None if token_hash in self.revoked else self.items.get(token_hash)

    def revoke(self, token_hash) -> None:
        self.revoked.add(token_hash)

    def revoke_all(self, principal) -> int:
        held = [key for key, session in self.items.items() if session.principal == principal]
        self.revoked.update(held)
        return len(held)


class Audit:
    def __init__(self) -> None:
        self.actions: list[tuple[str, str, str | None, dict]] = []

    def record_action(self, actor, action, target, **details) -> None:
        self.actions.append((actor.key_fingerprint, action, target, details))


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
def service(clock):
    limiter = AttemptLimiter(InMemoryBucketStore(), {"name": BucketPolicy(3, 60), "ip": BucketPolicy(12, 60)},
                             "signin")
    return OperatorService(Operators(), Sessions(), limiter, clock, timedelta(hours=8), Audit())


def test_a_session_lives_until_it_expires_and_carries_the_current_role(service, clock):
    service.create(OWNER, "Alice", Role.OPERATOR, PASSWORD)
    signed = service.sign_in("alice", PASSWORD, "1.2.3.4")
    assert service.session(signed.token).role == Role.OPERATOR and signed.session.operator_name == "alice"
    clock.advance(hours=8)
    with pytest.raises(Unauthenticated) as expired:
        service.session(signed.token)
    assert expired.value.code == "SESSION_EXPIRED"


def test_an_unknown_name_is_checked_against_a_real_hash_with_the_current_parameters():
    assert DUMMY_HASH == hash_password("no such operator", b"0" * 16)


def test_names_and_passwords_are_checked_before_anything_is_written(service):
    cases = (("A b", PASSWORD, "name"), ("bob", "short", "password"), ("9lives", PASSWORD, "name"))
    for name, password, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            service.create(OWNER, name, Role.VIEWER, password)
        assert refused.value.field == field
    assert service.list() == []
    service.create(OWNER, "bob", Role.VIEWER, PASSWORD)
    with pytest.raises(Conflict):
        service.create(OWNER, "bob", Role.OWNER, PASSWORD)


def test_failed_sign_ins_run_out_per_name_and_a_success_spends_nothing(service, clock):
    service.create(OWNER, "alice", Role.OPERATOR, PASSWORD)
    for _ in range(5):
        service.sign_in("alice", PASSWORD, "1.1.1.1")          # successes give their tokens back
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            service.sign_in("alice", "wrong password", "1.1.1.1")
    with pytest.raises(RateLimited) as limited:
        service.sign_in("alice", PASSWORD, "2.2.2.2")
    assert limited.value.retry_after and limited.value.retry_after > 0
    clock.advance(seconds=60)
    assert service.sign_in("alice", PASSWORD, "2.2.2.2").session.role == Role.OPERATOR


def test_disabling_revokes_sessions_and_is_audited_with_before_and_after(service):
    service.create(OWNER, "alice", Role.OPERATOR, PASSWORD)
    signed = service.sign_in("alice", PASSWORD, None)
    service.set_active(OWNER, "alice", False)
    with pytest.raises(Unauthenticated):
        service.session(signed.token)
    with pytest.raises(Unauthenticated):
        service.sign_in("alice", PASSWORD, None)
    actor, action, target, details = service._audit.actions[-1]
    assert (actor, action, target) == ("operator:olga", "operator.disable", "operator:alice")
    assert details["before"] == {"active": True} and details["after"] == {"active": False}
    assert details["sessions_revoked"] == 1


def _order(status: OrderStatus, **fields) -> Order:
    return Order(order_id="order1", kind="PREMIUM_GIFT", owner_id="user:5", status=status, product_id="premium_3m",
                 amount_micros=15_000_000, created_at=NOW, status_changed_at=NOW, **fields)


class Told:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, int | None]] = []

    def payment_event(self, order, event, micros, rules) -> None:
        self.events.append((order.order_id, event, micros))


class Products:
    def by_kind(self, kind):
        return type("Product", (), {"notices": None})()


def _desk(clock, store):
    return OrderDesk(store, RecordingQueue(), Products(), Told(), clock, Audit())


def test_a_refund_writes_its_entry_with_the_failure_and_tells_the_buyer_once(clock):
    store = InMemoryOrderStore()
    store.create(_order(OrderStatus.NEEDS_REVIEW, paid_micros=16_000_000))
    desk = _desk(clock, store)
    refunded = desk.refund(OWNER, "order1", "never arrived")
    assert refunded.status == OrderStatus.FAILED
    assert store.ledger.balance("wallet:user:5:USDT") == 15_000_000      # the excess went to the wallet on payment
    assert desk._notices.events == [("order1", "refunded", 15_000_000)]
    with pytest.raises(Conflict):
        desk.refund(OWNER, "order1", "again")
    assert store.ledger.balance("wallet:user:5:USDT") == 15_000_000


def test_nothing_paid_in_money_has_nothing_to_refund(clock):
    store = InMemoryOrderStore()
    store.create(_order(OrderStatus.NEEDS_REVIEW))
    with pytest.raises(Conflict) as refused:
        _desk(clock, store).refund(OWNER, "order1", "gift by code")
    assert refused.value.code == "NOTHING_TO_REFUND" and store.get("order1").status == OrderStatus.NEEDS_REVIEW


def test_operators_refunding_at_once_refund_once(clock):
    store = InMemoryOrderStore()
    store.create(_order(OrderStatus.NEEDS_REVIEW, paid_micros=15_000_000))
    desk = _desk(clock, store)
    start, results = threading.Barrier(6), []

    def act(step):
        start.wait()
        try:
            step(OWNER, "order1", "race")
            results.append("ok")
        except Conflict:
            results.append("refused")

    threads = [threading.Thread(target=act, args=(desk.refund,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("ok") == 1 and len(store.get("order1").details["operator_actions"]) == 1
    assert store.ledger.balance("wallet:user:5:USDT") == 15_000_000


class VersionedSettings:
    def __init__(self) -> None:
        self.values: dict[str, tuple[Any, str]] = {}
        self.writes = 0

    def get(self, setting_id):
        return self.values.get(setting_id, (None, ""))[0]

    def versioned(self, setting_id):
        return self.values.get(setting_id, (None, ""))

    def replace(self, setting_id, value, version) -> bool:
        if self.versioned(setting_id)[1] != version:
            return False
        self.writes += 1
        self.values[setting_id] = (value, f"v{self.writes}")
        return True


def test_a_price_change_is_live_at_once_in_this_container_and_a_stale_one_is_refused(clock):
    store = VersionedSettings()
    live = LiveSettings(store, clock)
    desk = CatalogDesk(store, live, 1000, Audit())
    assert live.get("prices", lambda value: value) is None        # cached now
    desk.set_prices(OWNER, {"premium_3m": "9.5"}, "")
    assert live.get("prices", lambda value: value)["premium_3m"] == "9.5"
    with pytest.raises(Conflict):
        desk.set_prices(OWNER, {"premium_3m": "8"}, "")
    with pytest.raises(ValidationFailed) as bad:
        desk.set_limits(OWNER, "10", "5", "")
    assert bad.value.field == "min" and store.writes == 1
    assert replace(OWNER).key_fingerprint == desk._audit.actions[0][0]
