"""A hot code: one code of many uses redeemed by many buyers at once, its uses counted on counters of their
own (see chalicelib/adapters/dynamodb/code_shards.py). Real threads against the emulator server."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bench.dynamo_counter import DynamoCounter
from chalicelib.adapters.dynamodb import models
from chalicelib.adapters.dynamodb.code_shards import counter_key
from chalicelib.domain.codes import USE_SHARDS, CodeState, RedeemCode, shard_quota, use_shards_for
from chalicelib.domain.errors import DomainError
from tests.integration import test_codes_race

emulated = test_codes_race.emulated   # the fixture: a container on a fresh emulator server
race = test_codes_race.race

USES = 10_000
BUYERS = 1_000
THREADS = 64


def burst(container, attempts) -> list[str]:
    """Every attempt as soon as one of THREADS real threads is free (all of them start together)."""
    from concurrent.futures import ThreadPoolExecutor
    import threading

    start = threading.Barrier(THREADS)

    def attempt(args) -> str:
        index, (user_id, code) = args
        if index < THREADS:
            start.wait()
        try:
            return container.redemptions.redeem(user_id, code, None).status
        except DomainError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(attempt, enumerate(attempts)))


def a_hot_code(container, code: str, max_uses: int, left_per_counter: int | None = None) -> RedeemCode:
    """A code as fulfilment writes it; with `left_per_counter`, each counter already used up to that."""
    now = container.clock.now()
    record = RedeemCode(code=code, order_id="HOTORDER", seq=0, distributor_id="HOT", product_id="premium_3m",
                        month_count=3, max_uses=max_uses, used_count=0, state=CodeState.ACTIVE,
                        expires_at=now + timedelta(days=30), created_at=now, use_shards=use_shards_for(max_uses))
    container.code_store.put_new([record])
    if left_per_counter is not None:
        client = models.connection().client
        for shard in range(record.use_shards):
            used = shard_quota(max_uses, record.use_shards, shard) - left_per_counter
            client.put_item(TableName=models.CodeItem.Meta.table_name, Item={
                **counter_key(code, shard), "used_count": {"N": str(used)}, "state": {"S": "ACTIVE"}})
    return record


def counted(container, code: str) -> int:
    return container.code_store.get_many([code])[code].used_count


def test_a_code_of_many_uses_is_counted_on_its_own_counters():
    assert use_shards_for(99) == 0 and use_shards_for(100) == USE_SHARDS
    quotas = [shard_quota(USES, USE_SHARDS, shard) for shard in range(USE_SHARDS)]
    assert sum(quotas) == USES and max(quotas) - min(quotas) <= 1
    assert sum(shard_quota(101, USE_SHARDS, shard) for shard in range(USE_SHARDS)) == 101


def test_a_burst_of_buyers_on_a_code_with_fewer_uses_left_gets_exactly_the_uses_left(emulated):
    left_per_counter = 25                                   # 400 uses left of 10,000
    record = a_hot_code(emulated, "H0TC0DE000000001", USES, left_per_counter)
    left = left_per_counter * USE_SHARDS
    results = burst(emulated, [(20_000 + index, record.code) for index in range(BUYERS)])

    assert results.count("ACCEPTED") == min(BUYERS, left), sorted(set(results))
    assert results.count("CODE_USED_UP") == BUYERS - left
    assert "CODE_BUSY" not in results
    after = emulated.code_store.get(record.code)
    assert counted(emulated, record.code) == USES and after.depleted_shards == frozenset(range(USE_SHARDS))
    totals = emulated.distributor_desk._figures.totals("HOT")
    assert (totals.get("redemptions"), totals.get("codes_depleted")) == (left, 1)


def test_a_burst_of_buyers_on_a_ten_thousand_use_code_all_succeed_on_every_counter(emulated):
    record = a_hot_code(emulated, "H0TC0DE000000002", USES)
    results = burst(emulated, [(30_000 + index, record.code) for index in range(BUYERS // 4)])

    assert results.count("ACCEPTED") == BUYERS // 4, sorted(set(results))
    assert counted(emulated, record.code) == BUYERS // 4
    redemptions = emulated.redemption_store.list_by_distributor("HOT", 300, None).items
    assert len({item.use_shard for item in redemptions}) == USE_SHARDS   # spread over every counter


def test_a_redemption_of_a_hot_code_makes_the_calls_of_a_plain_one(emulated):
    hot = a_hot_code(emulated, "H0TC0DE000000003", USES)
    plain = a_hot_code(emulated, "PA1NC0DE00000003", 10)
    emulated.redemptions.redeem(40_000, plain.code, None)   # the price read (cached for 30 s) happens here
    calls = []
    for user_id, code in ((40_001, hot.code), (40_002, plain.code)):
        with DynamoCounter() as counter:
            assert emulated.redemptions.redeem(user_id, code, None).status == "ACCEPTED"
        calls.append(dict(counter.calls))
    assert calls[0] == calls[1]


def test_the_last_uses_give_back_and_deactivation_of_a_hot_code(emulated):
    record = a_hot_code(emulated, "H0TC0DE000000004", 100, left_per_counter=1)   # 16 uses left
    results = race(emulated, [(50_000 + index, record.code) for index in range(20)])
    assert results.count("ACCEPTED") == USE_SHARDS and counted(emulated, record.code) == 100
    code = emulated.code_store.get(record.code)
    assert code.depleted and code.used_count == 100

    taken = emulated.redemption_store.list_by_distributor("HOT", 50, None).items[0]
    gift = emulated.orders.get(taken.gift_order_id)
    emulated.redemptions.failed(replace(gift, failure_reason="gift refused"))
    code = emulated.code_store.get(record.code)
    assert taken.use_shard not in code.depleted_shards and not code.depleted
    assert counted(emulated, record.code) == 99

    assert race(emulated, [(60_000, record.code)]) == ["ACCEPTED"]            # the use given back is found
    emulated.code_store.deactivate(emulated.code_store.get(record.code), True,
                                   _no_tally(record), emulated.clock.now())
    assert race(emulated, [(60_001, record.code)]) == ["CODE_INACTIVE"]


def _no_tally(record: RedeemCode):
    from chalicelib.domain.codes import Tally

    return Tally(record.distributor_id, "2026-11-25", 0, {})


def test_last_uses_of_different_counters_read_together_all_apply_and_only_the_codes_last_needs_a_fresh_read(
        container):
    from botocore.exceptions import ClientError

    from chalicelib.adapters.dynamodb.code_shards import take_use

    record = a_hot_code(container, "H0TC0DE000000005", 100, left_per_counter=1)
    as_read_once = container.code_store.get(record.code)
    client = models.connection().client

    def last_use(code: RedeemCode, shard: int) -> str:
        try:
            client.transact_write_items(TransactItems=take_use(code, shard, last=True))
            return "applied"
        except ClientError as error:
            return error.response["Error"]["Code"]

    assert [last_use(as_read_once, shard) for shard in range(USE_SHARDS - 1)] == ["applied"] * (USE_SHARDS - 1)
    assert last_use(as_read_once, USE_SHARDS - 1) == "TransactionCanceledException"   # it would empty the code
    assert not container.code_store.get(record.code).depleted
    assert last_use(container.code_store.get(record.code), USE_SHARDS - 1) == "applied"
    code = container.code_store.get(record.code)
    assert code.depleted and code.used_count == 100 == counted(container, record.code)
