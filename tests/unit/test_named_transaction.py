"""A transaction cancelled by a concurrent one on the same item is sent again; a failed condition is
reported by name, whatever position pynamodb gave the write."""
from __future__ import annotations

import pytest
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from chalicelib.adapters.dynamodb.models import LedgerItem
from chalicelib.adapters.dynamodb.transactions import CONFLICT_TRIES, NamedTransaction


def cancelled(*codes: str | None) -> TransactWriteError:
    reasons = [CancellationReason(code=code) if code else None for code in codes]
    cause = VerboseClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}},
                               "TransactWriteItems", cancellation_reasons=reasons)
    return TransactWriteError("cancelled", cause=cause)


class Scripted(NamedTransaction):
    def __init__(self, *answers: Exception | None) -> None:
        self.pauses: list[float] = []
        super().__init__(sleep=self.pauses.append)
        self._answers = list(answers)
        self.sent = 0
        self.update("balance", LedgerItem("acct#a", "balance"), [LedgerItem.balance.add(1)])
        self.put("entry", LedgerItem("entry#e", "entry"))

    def _send(self) -> None:
        self.sent += 1
        answer = self._answers.pop(0)
        if answer is not None:
            raise answer


def test_a_conflict_is_sent_again_after_a_pause_until_it_commits():
    transaction = Scripted(cancelled(None, "TransactionConflict"), cancelled("TransactionConflict", None), None)

    assert transaction.commit() == set()
    assert transaction.sent == 3 and len(transaction.pauses) == 2


def test_conflicts_give_up_after_the_last_try():
    transaction = Scripted(*[cancelled(None, "TransactionConflict")] * CONFLICT_TRIES)

    with pytest.raises(TransactWriteError):
        transaction.commit()
    assert transaction.sent == CONFLICT_TRIES


def test_failed_conditions_are_named_by_write_not_by_position():
    # pynamodb sends puts before updates: position 0 is the entry, position 1 the balance
    transaction = Scripted(cancelled("ConditionalCheckFailed", None))

    assert transaction.commit() == {"entry"}
    assert transaction.sent == 1
