"""A redemption whose transaction DynamoDB applied but never answered (a timeout, a connection closed, or a
retry refused as in progress): the buyer's use is taken once and they are told so, never CODE_BUSY. Real
threads against the emulator server; the fault is a client that applies the transaction, then raises."""
from __future__ import annotations

import threading
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from chalicelib.adapters.dynamodb import models
from chalicelib.adapters.dynamodb.codes import DynamoCodeStore
from tests.integration import test_codes_race, test_hot_code

emulated = test_codes_race.emulated   # the fixture: a container on a fresh emulator server
race = test_codes_race.race


def timed_out() -> Exception:
    return ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")


def still_in_progress() -> Exception:
    return ClientError({"Error": {"Code": "TransactionInProgressException", "Message": "in progress"}},
                       "TransactWriteItems")


def conflicting(items: list) -> Exception:
    reasons = [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (len(items) - 1)
    return ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                        "CancellationReasons": reasons}, "TransactWriteItems")


class AppliesThenFails:
    """The emulator's client, except for the redemption transactions of each buyer: the first one that applies
    is answered with `first_error()`; with `then_conflict`, every later one of that buyer is cancelled unapplied
    as conflicting (a hot item, or DynamoDB still committing the first)."""

    def __init__(self, client: Any, first_error: Callable[[], Exception], then_conflict: bool = False) -> None:
        self._client = client
        self._first_error = first_error
        self._then_conflict = then_conflict
        self._applied: set[str] = set()
        self._lock = threading.Lock()
        self.faults = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, TransactItems: list, **kwargs: Any) -> Any:  # noqa: N803 - botocore's name
        buyer = next((entry["Put"]["Item"]["user_id"]["N"] for entry in TransactItems
                      if "Put" in entry and entry["Put"]["TableName"] == models.RedemptionItem.Meta.table_name), None)
        if buyer is not None and self._then_conflict and buyer in self._applied:
            raise conflicting(TransactItems)
        answer = self._client.transact_write_items(TransactItems=TransactItems, **kwargs)
        if buyer is None:
            return answer
        with self._lock:
            first = buyer not in self._applied
            self._applied.add(buyer)
        if first:
            self.faults += 1
            raise self._first_error()
        return answer


def with_faulty_code_store(container: Any, faulty: AppliesThenFails) -> AppliesThenFails:
    """The container's redemption service over a code store whose client is `faulty` (no pauses between rounds)."""
    container._sleep = lambda seconds: None
    container.__dict__["code_store"] = DynamoCodeStore(client_factory=lambda: faulty, sleep=container._sleep)
    return faulty


def taken_by(container: Any, distributor_id: str) -> set[int]:
    return {redemption.user_id for redemption in
            container.redemption_store.list_by_distributor(distributor_id, 500, None).items}


@pytest.mark.parametrize("error", [timed_out, still_in_progress], ids=["timed out", "retry in progress"])
def test_a_race_where_every_first_transaction_applies_unanswered_takes_each_use_once(emulated, error):
    faulty = with_faulty_code_store(emulated, AppliesThenFails(models.connection().client, error))
    record = test_codes_race.a_code(emulated, "T1MEDC0DE0000001", 10)
    buyers = [70_000 + index for index in range(30)]

    results = race(emulated, [(buyer, record.code) for buyer in buyers])

    accepted = {buyer for buyer, result in zip(buyers, results) if result == "ACCEPTED"}
    assert faulty.faults == 10 and len(accepted) == 10, sorted(set(results))
    assert results.count("CODE_USED_UP") == 20 and "CODE_BUSY" not in results
    assert taken_by(emulated, "RACER") == accepted                      # told ACCEPTED exactly when taken
    assert emulated.code_store.get(record.code).used_count == 10
    assert emulated.distributor_desk._figures.totals("RACER").get("redemptions") == 10
    assert all(emulated.orders.get(r.gift_order_id) is not None
               for r in emulated.redemption_store.list_by_distributor("RACER", 50, None).items)


def test_a_hot_code_burst_with_unanswered_transactions_gets_exactly_the_uses_left(emulated):
    faulty = with_faulty_code_store(emulated, AppliesThenFails(models.connection().client, timed_out))
    record = test_hot_code.a_hot_code(emulated, "T1MEDH0TC0DE0002", 10_000, left_per_counter=2)   # 32 left
    buyers = [80_000 + index for index in range(80)]   # at least the burst's threads

    results = test_hot_code.burst(emulated, [(buyer, record.code) for buyer in buyers])

    accepted = {buyer for buyer, result in zip(buyers, results) if result == "ACCEPTED"}
    assert len(accepted) == 32 and faulty.faults == 32, sorted(set(results))
    assert "CODE_BUSY" not in results and results.count("CODE_USED_UP") == 48
    assert taken_by(emulated, "HOT") == accepted
    assert test_hot_code.counted(emulated, record.code) == 10_000


def test_a_use_taken_unanswered_whose_retries_all_conflict_is_accepted_not_busy(emulated):
    faulty = with_faulty_code_store(emulated, AppliesThenFails(models.connection().client, still_in_progress,
                                                               then_conflict=True))
    record = test_codes_race.a_code(emulated, "T1MEDC0DE0000003", 10)

    result = emulated.redemptions.redeem(90_000, record.code, None)

    assert result.status == "ACCEPTED" and faulty.faults == 1
    assert emulated.code_store.get(record.code).used_count == 1
    assert emulated.orders.get(result.redemption_id) is not None
