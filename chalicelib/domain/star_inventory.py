"""The bot's Star inventory for the operator: what buyers paid in Stars and what went back to them (the
ledger), what gifts spent and the balance now (Telegram's own word: getStarTransactions, getMyStarBalance).

Gift spending is not booked in the ledger: the Stars that gifts spend are bought by the operator outside the
shop (for gifts paid in USDT as much as in Stars), so the books would hold only one side of them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain.ledger import clearing, payouts
from chalicelib.domain.payment_methods.stars import CURRENCY, RECEIVED_AT, stars_of
from chalicelib.domain.ports.ledger import LedgerStore
from chalicelib.domain.ports.telegram import TelegramGateway

PAGE = 100           # getStarTransactions' largest page
MAX_PAGES = 50       # newest first: the report covers at most the last 5,000 Star transactions
GIFT_PURCHASE = "premium_purchase"


@dataclass(frozen=True)
class StarReport:
    balance: int                 # Telegram's: what the bot holds now
    received: int                # ledger: every Star buyers paid (clearing:telegram-stars:XTR)
    sent_back: int               # ledger: Stars refunded to buyers (payouts:XTR)
    spent_on_gifts: int          # Telegram's history: Premium gifts bought by the bot
    gifts: int
    refunded_by_telegram: int    # Telegram's history: Stars that went back to buyers
    history_complete: bool       # False when the history is longer than MAX_PAGES pages
    low_threshold: int

    @property
    def low(self) -> bool:
        return self.balance < self.low_threshold

    @property
    def refunds_unsent(self) -> int | None:
        """Stars the books say went back that Telegram never sent (a refund booked, then the send failed or
        its Lambda died): the operator sends them by hand. None when the history was not read to its end."""
        return max(self.sent_back - self.refunded_by_telegram, 0) if self.history_complete else None


def _is_gift(transaction: dict[str, Any]) -> bool:
    receiver = transaction.get("receiver")
    return isinstance(receiver, dict) and receiver.get("transaction_type") == GIFT_PURCHASE


def _is_refund(transaction: dict[str, Any]) -> bool:
    """Outgoing to a user and not a purchase for them: a refund (its id is the refunded charge's)."""
    receiver = transaction.get("receiver")
    return isinstance(receiver, dict) and receiver.get("type") == "user" \
        and receiver.get("transaction_type") not in (GIFT_PURCHASE, "gift_purchase")


class StarInventory:
    def __init__(self, ledger: LedgerStore, telegram: TelegramGateway, low_threshold: int) -> None:
        self._ledger = ledger
        self._telegram = telegram
        self._low = low_threshold

    def report(self) -> StarReport:
        spent, gifts, refunded, complete = 0, 0, 0, False
        for page in range(MAX_PAGES):
            answer = self._telegram.call("getStarTransactions", {"offset": page * PAGE, "limit": PAGE})
            transactions = answer.get("transactions") or [] if isinstance(answer, dict) else []
            for transaction in transactions:
                if _is_gift(transaction):
                    spent += int(transaction.get("amount", 0))
                    gifts += 1
                elif _is_refund(transaction):
                    refunded += int(transaction.get("amount", 0))
            if len(transactions) < PAGE:
                complete = True
                break
        balance = int(self._telegram.call("getMyStarBalance", {}).get("amount", 0))
        return StarReport(balance=balance,
                          received=stars_of(-self._ledger.balance(clearing(RECEIVED_AT, CURRENCY))),
                          sent_back=stars_of(self._ledger.balance(payouts(CURRENCY))),
                          spent_on_gifts=spent, gifts=gifts, refunded_by_telegram=refunded,
                          history_complete=complete, low_threshold=self._low)
