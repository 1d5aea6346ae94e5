"""The double-entry ledger: accounts, journal entries and the rules that post them.

Every money movement is one `JournalEntry` whose lines sum to zero in one currency. A line's amount is
signed: a credit is positive, a debit negative, so an account's balance is the sum of its lines (a wallet
the shop owes its holder is positive; a clearing account that took money in is negative). The store writes
an entry in the same transaction as the state change that causes it, keyed by a deterministic `entry_id`,
so a retry or a replay writes nothing new; a wallet is debited only while it holds enough (a conditional
write). The shape follows TigerBeetle's accounts and transfers: ids chosen by the caller, posted amounts,
idempotent writes, and lines of one entry that commit or fail together.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chalicelib.domain.orders import Order


class Purpose(StrEnum):
    """What an entry was for (shown in a wallet's history)."""

    PAYMENT = "payment"                  # a transfer paid an order (an overpayment's excess goes to the wallet)
    BALANCE_PAYMENT = "balance_payment"  # an order paid from the wallet
    CREDIT = "credit"                    # a transfer that paid nothing, credited to the wallet of its order's buyer
    SUSPENSE = "suspense"                # a transfer that fits no order, kept for the operator
    REFUND = "refund"                    # an order that failed for good, refunded to the wallet
    ADJUSTMENT = "adjustment"            # an operator's correction, with a reason
    RETURNED = "returned"                # a payment sent back the way it came (Stars that paid nothing)
    PAYOUT = "payout"                    # TRX or energy sent out on chain (issue 12: docs/decisions.md)
    SWAP = "swap"                        # USDT sent to the automatic exchange address, swapped back in TRX


class AccountKind(StrEnum):
    WALLET = "wallet"            # what the shop owes a buyer or a distributor; never negative
    REVENUE = "revenue"          # per product
    CLEARING = "clearing"        # per receiving address: what came in there
    SUSPENSE = "suspense"        # transfers that fit nothing, until an operator resolves them
    REFUNDS = "refunds"          # refunds given back
    ADJUSTMENTS = "adjustments"  # the other side of operators' corrections
    INVENTORY = "inventory"      # what the shop holds on chain: hot-wallet TRX, delegatable energy (negative: held)
    PAYOUTS = "payouts"          # money sent out: Stars refunded through Telegram (payouts:XTR), TRX per product
    NETWORK_FEES = "network_fees"  # TRX the chain burned for the shop's transactions
    DELEGATED = "delegated"      # per receiving address: energy lent out until it is taken back


def wallet(owner_id: str, currency: str) -> str:
    return f"{AccountKind.WALLET}:{owner_id}:{currency}"


def revenue(kind: str, currency: str) -> str:
    return f"{AccountKind.REVENUE}:{kind}:{currency}"


def clearing(address: str, currency: str) -> str:
    return f"{AccountKind.CLEARING}:{address}:{currency}"


def suspense(currency: str) -> str:
    return f"{AccountKind.SUSPENSE}:{currency}"


def refunds(currency: str) -> str:
    return f"{AccountKind.REFUNDS}:{currency}"


def adjustments(currency: str) -> str:
    return f"{AccountKind.ADJUSTMENTS}:{currency}"


def payouts(currency: str) -> str:
    return f"{AccountKind.PAYOUTS}:{currency}"


def payment_entry_id(transaction_id: str) -> str:
    """Every booked transfer's one entry, whatever it paid."""
    return f"pay:{transaction_id}"


def balance_entry_id(order_id: str) -> str:
    return f"balance:{order_id}"


def refund_entry_id(order_id: str) -> str:
    return f"refund:{order_id}"


def kind_of(account: str) -> AccountKind:
    return AccountKind(account.split(":", 1)[0])


def currency_of(account: str) -> str:
    return account.rsplit(":", 1)[1]


def is_wallet(account: str) -> bool:
    return kind_of(account) == AccountKind.WALLET


def _names_an_account_in(account: str, currency: str) -> bool:
    try:
        kind_of(account)
        return currency_of(account) == currency
    except (ValueError, IndexError):   # an unknown kind, or no currency at all
        return False


class Unbalanced(ValueError):
    """An entry whose lines do not sum to zero, mix currencies or name a malformed account."""


class InsufficientFunds(Exception):
    """A wallet holds less than an entry would take from it."""

    def __init__(self, account: str, needed_micros: int) -> None:
        super().__init__(f"{account} holds less than {needed_micros}")
        self.account = account
        self.needed_micros = needed_micros


@dataclass(frozen=True)
class Line:
    account: str
    amount_micros: int          # credit positive, debit negative


@dataclass(frozen=True)
class PostedEntry:
    """An entry as the store holds it. Read back for reconciliation without the checks `JournalEntry` makes on
    the way in, so that a damaged entry is reported instead of failing the read."""

    entry_id: str               # deterministic: the same cause always makes the same id
    purpose: Purpose
    currency: str
    lines: tuple[Line, ...]
    posted_at: datetime
    order_id: str | None = None
    transaction_id: str | None = None
    memo: str = ""

    @property
    def moved_micros(self) -> int:
        """What the entry moves: the sum of its credits (a payment's transfer, a refund, a price paid)."""
        return sum(line.amount_micros for line in self.lines if line.amount_micros > 0)


@dataclass(frozen=True)
class JournalEntry(PostedEntry):
    """An entry on its way into the books: balanced, in one currency, each account once."""

    def __post_init__(self) -> None:
        if len(self.lines) < 2:
            raise Unbalanced(f"entry {self.entry_id} needs at least two lines")
        if sum(line.amount_micros for line in self.lines) != 0:
            raise Unbalanced(f"entry {self.entry_id} does not sum to zero")
        accounts = [line.account for line in self.lines]
        if len(set(accounts)) != len(accounts):
            raise Unbalanced(f"entry {self.entry_id} names an account twice")
        for line in self.lines:
            if line.amount_micros == 0 or not _names_an_account_in(line.account, self.currency):
                raise Unbalanced(f"entry {self.entry_id}: line {line} is empty, malformed or not in {self.currency}")

    @property
    def debited_wallets(self) -> list[Line]:
        """The wallet lines that take money out: written only while the wallet holds enough."""
        return [line for line in self.lines if line.amount_micros < 0 and is_wallet(line.account)]


def _entry(entry_id: str, purpose: Purpose, currency: str, now: datetime, lines: list[tuple[str, int]],
           **about: str | None) -> JournalEntry:
    merged: dict[str, int] = {}
    for account, amount in lines:   # a top-up's price and excess both go to the buyer's wallet
        merged[account] = merged.get(account, 0) + amount
    kept = tuple(Line(account, amount) for account, amount in merged.items() if amount)
    return JournalEntry(entry_id, purpose, currency, kept, now, **about)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- posting rules
def payment_entry(transaction_id: str, address: str, paid_micros: int, currency: str, *, price: int, owner_id: str,
                  order_id: str, settles_to: str, now: datetime) -> JournalEntry:
    """A transfer pays an order: its price to `settles_to` (the product's revenue, or the buyer's wallet for
    a top-up) and whatever came in beyond the price to the buyer's wallet."""
    settled = min(paid_micros, price)
    return _entry(payment_entry_id(transaction_id), Purpose.PAYMENT, currency, now,
                  [(clearing(address, currency), -paid_micros), (settles_to, settled),
                   (wallet(owner_id, currency), paid_micros - settled)],
                  order_id=order_id, transaction_id=transaction_id,
                  memo="overpaid" if paid_micros > settled else "")


def credit_entry(transaction_id: str, address: str, paid_micros: int, currency: str, owner_id: str,
                 order_id: str | None, reason: str, now: datetime) -> JournalEntry | None:
    """A transfer that paid nothing, credited whole to the wallet of the buyer of the order it points at.
    None for a transfer of nothing: it moved no money."""
    if paid_micros <= 0:
        return None
    return _entry(payment_entry_id(transaction_id), Purpose.CREDIT, currency, now,
                  [(clearing(address, currency), -paid_micros), (wallet(owner_id, currency), paid_micros)],
                  order_id=order_id, transaction_id=transaction_id, memo=reason)


def suspense_entry(transaction_id: str, address: str, paid_micros: int, currency: str, reason: str,
                   now: datetime) -> JournalEntry | None:
    """A transfer that fits no order, kept in suspense. None for a transfer of nothing (the zero-value
    transfers of address poisoning are common on TRON): it moved no money."""
    if paid_micros <= 0:
        return None
    return _entry(payment_entry_id(transaction_id), Purpose.SUSPENSE, currency, now,
                  [(clearing(address, currency), -paid_micros), (suspense(currency), paid_micros)],
                  transaction_id=transaction_id, memo=reason)


def balance_payment_entry(order: Order, settles_to: str, now: datetime) -> JournalEntry:
    return _entry(balance_entry_id(order.order_id), Purpose.BALANCE_PAYMENT, order.currency, now,
                  [(wallet(order.owner_id, order.currency), -order.amount_micros),
                   (settles_to, order.amount_micros)], order_id=order.order_id)


def refundable_micros(order: Order) -> int:
    """What a failed order gives back: what it was paid, up to its price. An overpayment's excess went to
    the wallet when the order was paid, so refunding it again would pay it twice."""
    return min(order.paid_micros or 0, order.amount_micros)


def refund_entry(order: Order, reason: str, now: datetime) -> JournalEntry | None:
    """What a paid order that failed for good gives back (`refundable_micros`), to its buyer's wallet.
    None when nothing was paid in money (a gift prepaid by a redeemed code)."""
    paid = refundable_micros(order)
    if paid <= 0:
        return None
    return _entry(refund_entry_id(order.order_id), Purpose.REFUND, order.currency, now,
                  [(refunds(order.currency), -paid), (wallet(order.owner_id, order.currency), paid)],
                  order_id=order.order_id, memo=reason[:200])


def adjustment_entry(request_id: str, owner_id: str, currency: str, amount_micros: int, reason: str,
                     now: datetime) -> JournalEntry:
    """An operator's correction of a wallet: positive credits it, negative debits it (never below zero)."""
    return _entry(f"adjust:{request_id}", Purpose.ADJUSTMENT, currency, now,
                  [(adjustments(currency), -amount_micros), (wallet(owner_id, currency), amount_micros)],
                  memo=reason)


@dataclass(frozen=True)
class HistoryLine:
    """One line of an account's history: the entry it belongs to and what it was for."""

    entry_id: str
    purpose: Purpose
    amount_micros: int
    currency: str
    posted_at: datetime
    order_id: str | None = None
    transaction_id: str | None = None
    memo: str = ""



# ---------------------------------------------------------------------- money that goes back the way it came
def payout_refund_entry(order: Order, reason: str, now: datetime) -> JournalEntry | None:
    """A failed order whose payment goes back to the buyer the way it came (Stars: refundStarPayment), not to
    a wallet: what it was paid, up to its price, from the refunds account to the payouts account."""
    paid = refundable_micros(order)
    if paid <= 0:
        return None
    return _entry(refund_entry_id(order.order_id), Purpose.REFUND, order.currency, now,
                  [(refunds(order.currency), -paid), (payouts(order.currency), paid)],
                  order_id=order.order_id, memo=reason[:200])


def returned_entry(transaction_id: str, address: str, paid_micros: int, currency: str, reason: str,
                   now: datetime) -> JournalEntry:
    """A payment that pays nothing and goes straight back to its payer (a Stars payment for an order that can
    no longer take it): in through the clearing account, out through payouts."""
    return _entry(payment_entry_id(transaction_id), Purpose.RETURNED, currency, now,
                  [(clearing(address, currency), -paid_micros), (payouts(currency), paid_micros)],
                  transaction_id=transaction_id, memo=reason[:200])
