"""The ledger's posting rules: every entry sums to zero in one currency, its id is deterministic, and money
that moved nothing makes no entry."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain import ledger
from chalicelib.domain.ledger import (
    JournalEntry,
    Line,
    Purpose,
    Unbalanced,
    adjustment_entry,
    balance_payment_entry,
    credit_entry,
    payment_entry,
    refund_entry,
    suspense_entry,
)
from chalicelib.domain.orders import Order, OrderStatus
from tests.fakes import InMemoryLedger

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ADDRESS = "TVsSFc5FS3zR17vKwPx29AZaxkcZWBprGt"
BUYER = "user:1001"
PRICE = 15_001_000
REVENUE = ledger.revenue("PREMIUM_GIFT", "USDT")
CLEARING = ledger.clearing(ADDRESS, "USDT")
WALLET = ledger.wallet(BUYER, "USDT")


def an_order(**changes) -> Order:
    values = dict(order_id="ORD1", kind="PREMIUM_GIFT", owner_id=BUYER, status=OrderStatus.DELIVERING,
                  product_id="premium_3m", amount_micros=PRICE, created_at=NOW, status_changed_at=NOW)
    return Order(**{**values, **changes})


def lines_of(entry: JournalEntry) -> dict[str, int]:
    return {line.account: line.amount_micros for line in entry.lines}


def every_rule() -> list[JournalEntry]:
    return [
        payment_entry("tx-exact", ADDRESS, PRICE, "USDT", price=PRICE, owner_id=BUYER, order_id="ORD1",
                      settles_to=REVENUE, now=NOW),
        payment_entry("tx-over", ADDRESS, PRICE + 2_000_000, "USDT", price=PRICE, owner_id=BUYER, order_id="ORD1",
                      settles_to=REVENUE, now=NOW),
        payment_entry("tx-top-up", ADDRESS, 25_000_000, "USDT", price=20_000_000, owner_id=BUYER,
                      order_id="TOPUP", settles_to=WALLET, now=NOW),
        credit_entry("tx-short", ADDRESS, 14_001_000, "USDT", BUYER, "ORD1", "UNDERPAID", NOW),
        suspense_entry("tx-stray", ADDRESS, 3_500_000, "USDT", "NO_ORDER", NOW),
        balance_payment_entry(an_order(payment_method="balance"), REVENUE, NOW),
        refund_entry(an_order(paid_micros=PRICE), "user not found", NOW),
        adjustment_entry("req-1", BUYER, "USDT", -1_000_000, "goodwill taken back", NOW),
    ]


@pytest.mark.parametrize("entry", every_rule(), ids=lambda entry: entry.entry_id)
def test_every_posting_rule_makes_an_entry_that_sums_to_zero_in_one_currency(entry):
    assert entry is not None
    assert sum(line.amount_micros for line in entry.lines) == 0
    assert {ledger.currency_of(line.account) for line in entry.lines} == {entry.currency} == {"USDT"}
    assert all(line.amount_micros != 0 for line in entry.lines)


def test_entry_ids_name_their_cause_so_a_replay_makes_the_same_id():
    ids = [entry.entry_id for entry in every_rule()]
    assert ids == ["pay:tx-exact", "pay:tx-over", "pay:tx-top-up", "pay:tx-short", "pay:tx-stray",
                   "balance:ORD1", "refund:ORD1", "adjust:req-1"]
    assert [entry.entry_id for entry in every_rule()] == ids


def test_an_exact_payment_moves_the_transfer_from_clearing_to_revenue():
    entry = payment_entry("tx", ADDRESS, PRICE, "USDT", price=PRICE, owner_id=BUYER, order_id="ORD1",
                          settles_to=REVENUE, now=NOW)
    assert lines_of(entry) == {CLEARING: -PRICE, REVENUE: PRICE}
    assert (entry.purpose, entry.order_id, entry.transaction_id, entry.memo) == (Purpose.PAYMENT, "ORD1", "tx", "")


def test_an_overpayment_pays_the_price_and_credits_exactly_the_excess_to_the_buyer():
    entry = payment_entry("tx", ADDRESS, PRICE + 7_000_000, "USDT", price=PRICE, owner_id=BUYER,
                          order_id="ORD1", settles_to=REVENUE, now=NOW)
    assert lines_of(entry) == {CLEARING: -(PRICE + 7_000_000), REVENUE: PRICE, WALLET: 7_000_000}
    assert entry.memo == "overpaid"


def test_an_overpaid_top_up_merges_its_price_and_excess_into_one_wallet_line():
    entry = payment_entry("tx", ADDRESS, 25_000_000, "USDT", price=20_000_000, owner_id=BUYER, order_id="TOPUP",
                          settles_to=WALLET, now=NOW)
    assert entry.lines == (Line(CLEARING, -25_000_000), Line(WALLET, 25_000_000))


def test_a_credit_puts_the_whole_transfer_in_the_buyers_wallet_and_suspense_keeps_a_stray_one():
    credit = credit_entry("tx", ADDRESS, 14_001_000, "USDT", BUYER, "ORD1", "UNDERPAID", NOW)
    stray = suspense_entry("tx2", ADDRESS, 3_500_000, "USDT", "NO_ORDER", NOW)
    assert lines_of(credit) == {CLEARING: -14_001_000, WALLET: 14_001_000}
    assert (credit.purpose, credit.memo, credit.order_id) == (Purpose.CREDIT, "UNDERPAID", "ORD1")
    assert lines_of(stray) == {CLEARING: -3_500_000, ledger.suspense("USDT"): 3_500_000}
    assert (stray.purpose, stray.order_id) == (Purpose.SUSPENSE, None)


def test_a_transfer_of_nothing_makes_no_entry():
    """Zero-value transfers (address poisoning) reach every TRON address; an entry needs lines that move money."""
    assert credit_entry("tx", ADDRESS, 0, "USDT", BUYER, "ORD1", "UNDERPAID", NOW) is None
    assert suspense_entry("tx", ADDRESS, 0, "USDT", "NO_ORDER", NOW) is None


def test_paying_from_the_balance_moves_the_price_from_the_wallet_to_the_products_account():
    entry = balance_payment_entry(an_order(payment_method="balance"), REVENUE, NOW)
    assert lines_of(entry) == {WALLET: -PRICE, REVENUE: PRICE}
    assert entry.debited_wallets == [Line(WALLET, -PRICE)]


def test_a_refund_gives_back_what_was_paid_and_nothing_when_nothing_was_paid():
    refund = refund_entry(an_order(paid_micros=PRICE), "x" * 300, NOW)
    assert lines_of(refund) == {ledger.refunds("USDT"): -PRICE, WALLET: PRICE}
    assert (refund.purpose, len(refund.memo)) == (Purpose.REFUND, 200)
    assert refund_entry(an_order(paid_micros=None), "prepaid by a code", NOW) is None
    assert refund_entry(an_order(paid_micros=0), "prepaid by a code", NOW) is None


def test_a_refund_of_an_overpaid_order_gives_back_its_price_only():
    """The excess went to the wallet when the order was paid; refunding it again would pay it twice."""
    refund = refund_entry(an_order(paid_micros=PRICE + 7_000_000), "user not found", NOW)
    assert lines_of(refund) == {ledger.refunds("USDT"): -PRICE, WALLET: PRICE}


def test_an_adjustment_credits_or_debits_the_wallet_against_adjustments():
    credit = adjustment_entry("r1", BUYER, "USDT", 2_000_000, "goodwill", NOW)
    debit = adjustment_entry("r2", BUYER, "USDT", -2_000_000, "mistake", NOW)
    assert lines_of(credit) == {ledger.adjustments("USDT"): -2_000_000, WALLET: 2_000_000}
    assert lines_of(debit) == {ledger.adjustments("USDT"): 2_000_000, WALLET: -2_000_000}
    assert credit.debited_wallets == [] and debit.debited_wallets == [Line(WALLET, -2_000_000)]


@pytest.mark.parametrize("lines,why", [
    ((Line(CLEARING, -2), Line(REVENUE, 1)), "does not sum to zero"),
    ((Line(CLEARING, -1),), "at least two lines"),
    ((Line(CLEARING, -1), Line(CLEARING, 1)), "names an account twice"),
    ((Line(CLEARING, 0), Line(REVENUE, 0)), "is empty"),
    ((Line(CLEARING, -1), Line("revenue:PREMIUM_GIFT:TRX", 1)), "not in USDT"),
    ((Line(CLEARING, -1), Line("pocket:PREMIUM_GIFT:USDT", 1)), "malformed"),
    ((Line(CLEARING, -1), Line("wallet", 1)), "malformed"),
])
def test_a_bad_entry_is_refused_when_it_is_made(lines, why):
    with pytest.raises(Unbalanced, match=why):
        JournalEntry("bad", Purpose.ADJUSTMENT, "USDT", lines, NOW)


def test_accounts_read_back_their_kind_and_currency():
    assert ledger.kind_of(WALLET) == ledger.AccountKind.WALLET and ledger.is_wallet(WALLET)
    assert ledger.currency_of(WALLET) == "USDT" and WALLET == "wallet:user:1001:USDT"
    assert not ledger.is_wallet(REVENUE) and ledger.kind_of(CLEARING) == ledger.AccountKind.CLEARING


# ---------------------------------------------------------------------------------------------- the fake's promises
def test_the_in_memory_ledger_writes_an_entry_once_and_never_takes_a_wallet_below_zero():
    """The fake keeps the adapter's conditions, or the unit tests built on it prove nothing."""
    books = InMemoryLedger()
    credit = adjustment_entry("r1", BUYER, "USDT", 5_000_000, "goodwill", NOW)
    assert books.post(credit).value == "APPLIED" and books.post(credit).value == "DUPLICATE"
    assert books.balance(WALLET) == 5_000_000 and books.snapshot(WALLET).version == 1

    with pytest.raises(ledger.InsufficientFunds) as short:
        books.post(adjustment_entry("r2", BUYER, "USDT", -5_000_001, "too much", NOW))

    assert (short.value.account, short.value.needed_micros) == (WALLET, 5_000_001)
    assert books.balance(WALLET) == 5_000_000 and list(books.entries) == ["adjust:r1"]
    assert [line.amount_micros for line in books.history(WALLET, 10).items] == [5_000_000]
