"""A distributor's figures spread over several partition keys (chalicelib/adapters/dynamodb/lowlevel.py), so a hot
code's redemptions do not all write one partition; the portal sums every partition and stays exact. Real
threads against the emulator server."""
from __future__ import annotations

from bench.dynamo_counter import DynamoCounter
from chalicelib.adapters.dynamodb import models
from chalicelib.adapters.dynamodb.lowlevel import FIGURES_PARTITIONS
from chalicelib.domain.codes import STATS_SHARDS, day_of
from tests.integration import test_codes_race, test_hot_code

emulated = test_codes_race.emulated   # the fixture: a container on a fresh emulator server


def stat_items(distributor_id: str) -> list[dict]:
    items = models.connection().client.scan(TableName=models.DistributorStatItem.Meta.table_name)["Items"]
    return [item for item in items if item["distributor_id"]["S"].split("#")[0] == distributor_id]


def test_a_burst_on_a_hot_code_and_a_plain_one_counts_exactly_over_every_partition(emulated):
    hot = test_hot_code.a_hot_code(emulated, "SPREADH0TC0DE001", 10_000)
    plain = test_hot_code.a_hot_code(emulated, "SPREADC0DE000002", 10)
    attempts = [(100_000 + index, plain.code if index % 4 == 0 else hot.code) for index in range(160)]

    results = test_hot_code.burst(emulated, attempts)

    hot_taken = sum(result == "ACCEPTED" for (_, code), result in zip(attempts, results) if code == hot.code)
    assert hot_taken == 120 and results.count("ACCEPTED") == 130 and results.count("CODE_USED_UP") == 30
    totals = emulated.distributor_desk._figures.totals("HOT")
    assert (totals.get("redemptions"), totals.get("redeem_attempts"), totals.get("codes_depleted")) == (130, 160, 1)
    today = day_of(emulated.clock.now())
    days = emulated.distributor_desk._figures.days("HOT", today, today)
    assert days[today].get("redemptions") == 130 and days[today].get("redeem_attempts") == 160
    partitions = {item["distributor_id"]["S"] for item in stat_items("HOT")}
    assert partitions == {"HOT"} | {f"HOT#{n}" for n in range(1, FIGURES_PARTITIONS)}
    hot_shards = {redemption.stats_shard for redemption in
                  emulated.redemption_store.list_by_distributor("HOT", 200, None).items
                  if redemption.code == hot.code}
    assert len(hot_shards) == STATS_SHARDS   # a figures shard per use counter: their transactions never meet


def test_counters_written_before_the_spread_are_summed_with_the_new_ones(emulated):
    client = models.connection().client
    today = day_of(emulated.clock.now())
    for period in ("total#5", f"day#{today}#5"):   # all shards were once under the plain distributor id
        client.put_item(TableName=models.DistributorStatItem.Meta.table_name, Item={
            "distributor_id": {"S": "HOT"}, "period": {"S": period}, "redemptions": {"N": "7"},
            "redeem_attempts": {"N": "9"}})
    code = test_hot_code.a_hot_code(emulated, "SPREADH0TC0DE003", 10_000)
    for user_id in range(110_000, 110_012):
        assert emulated.redemptions.redeem(user_id, code.code, None).status == "ACCEPTED"

    with DynamoCounter() as counter:
        totals = emulated.distributor_desk._figures.totals("HOT")
        days = emulated.distributor_desk._figures.days("HOT", today, today)
    assert (totals.get("redemptions"), totals.get("redeem_attempts")) == (19, 21)
    assert (days[today].get("redemptions"), days[today].get("redeem_attempts")) == (19, 21)
    assert counter.calls["Query"] == 2 * FIGURES_PARTITIONS and counter.total_calls == 2 * FIGURES_PARTITIONS
