"""The TRON page's rules without AWS: when the hot wallet is low, which payouts wait for a person, and how the
TRON settings are checked before the catalog desk's write."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain.distributors import AdminActor
from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.domain.payout_limits import parse_limits
from chalicelib.domain.ports.payouts import Payout, PayoutState
from chalicelib.domain.ports.tron import PayoutAction
from chalicelib.domain.tron_desk import needs_review, trx_state, usdt_state
from chalicelib.domain.tron_settings_desk import TronSettingsDesk
from tests.support import START

TRX = 1_000_000
ACTOR = AdminActor("operator:alice")
LIMITS = parse_limits({"per_payout_max_trx": "100", "hot_wallet_reserve_trx": "20", "per_payout_max_usdt": "50"})


@pytest.mark.parametrize("balance, state", [(20 * TRX, "below reserve"), (119 * TRX, "low"), (120 * TRX, "ok")])
def test_trx_is_low_when_a_largest_payout_would_dip_into_the_reserve(balance, state):
    assert trx_state(balance, LIMITS) == state


def test_usdt_needs_trx_for_the_fee_and_is_low_below_a_largest_payout():
    assert usdt_state(100 * TRX, 49 * TRX, LIMITS) == "no fee"
    assert usdt_state(49 * TRX, 50 * TRX, LIMITS) == "low"
    assert usdt_state(50 * TRX, 50 * TRX, LIMITS) == "ok"


def test_a_signed_payout_waits_for_a_person_once_refused_or_provably_expired():
    payout = Payout("order:1", PayoutAction.TRANSFER, "T" * 34, TRX, TRX, "TRX_EXCHANGE", "ab" * 32, {},
                    START + timedelta(minutes=5), START)
    assert not needs_review(payout, START + timedelta(minutes=6))          # may still land
    assert needs_review(payout, START + timedelta(minutes=7))              # past expiry and the margin
    assert needs_review(replace(payout, last_error="SIGERROR"), START)
    assert not needs_review(replace(payout, state=PayoutState.LANDED), START + timedelta(days=1))


class Store:
    def __init__(self):
        self.values: dict = {}

    def versioned(self, setting_id):
        return self.values.get(setting_id), "v1" if setting_id in self.values else ""


class Writer:
    def __init__(self):
        self.written: list = []

    def write(self, actor, setting_id, value, version, shown_before=None):
        self.written.append((setting_id, value, version, shown_before))
        return value


@pytest.fixture
def desk():
    return TronSettingsDesk(Store(), Writer())


def test_a_flat_setting_keeps_the_fields_not_sent_and_is_audited_from_the_defaults(desk):
    desk.change(ACTOR, "withdrawals", {"fee": "1.50"}, "")
    [(setting_id, value, version, before)] = desk._writer.written
    assert (setting_id, value, version) == ("withdrawals", {"fee": "1.50", "min": "5", "max": "1000"}, "")
    assert before == {"fee": "1", "min": "5", "max": "1000"}


@pytest.mark.parametrize("setting_id, values, field", [
    ("trx_exchange", {"rate": "0"}, "rate"), ("trx_exchange", {"rate": "abc"}, "rate"),
    ("trx_exchange", {"rate": "0.1234567"}, "rate"), ("trx_exchange", {"spread_percent": "-1"}, "spread_percent"),
    ("trx_exchange", {"swap_min_usdt": "600"}, "swap_min_usdt"), ("withdrawals", {"min": "2000"}, "min"),
    ("payout_limits", {"daily_max_energy": "1.5"}, "daily_max_energy"), ("payout_limits", {"nope": "1"}, "nope"),
])
def test_a_bad_value_is_refused_naming_its_field_and_nothing_is_written(desk, setting_id, values, field):
    with pytest.raises(ValidationFailed) as refused:
        desk.change(ACTOR, setting_id, values, "")
    assert refused.value.field == field and desk._writer.written == []


def test_zero_is_a_fee_and_a_reserve_but_never_a_rate(desk):
    desk.change(ACTOR, "withdrawals", {"fee": "0"}, "")
    desk.change(ACTOR, "payout_limits", {"hot_wallet_reserve_trx": "0"}, "")
    assert [value for _, value, _, _ in desk._writer.written][1]["hot_wallet_reserve_trx"] == "0"
    with pytest.raises(NotFound):
        desk.change(ACTOR, "prices", {"premium_3m": "1"}, "")


def test_energy_packages_are_checked_whole(desk):
    for text, field in (("[]", "packages"), ('{"bad id!": {}}', "packages"),
                        ('{"e1": {"energy": 1, "hours": 1}}', "packages"),
                        ('{"e1": {"energy": 1.5, "hours": 1, "price": "2"}}', "packages.e1.energy"),
                        ('{"e1": {"energy": 1, "hours": 1000, "price": "2"}}', "packages.e1.hours")):
        with pytest.raises(ValidationFailed) as refused:
            desk.set_packages(ACTOR, text, "")
        assert refused.value.field == field, text
    value = desk.set_packages(ACTOR, '{"e1": {"energy": "1E+5", "hours": 2, "price": "2.5"}}', "")
    assert value == {"e1": {"energy": 100000, "hours": 2, "price": "2.5"}}
