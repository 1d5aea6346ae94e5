"""Many users redeeming one multi-use code at once, in real threads against the emulator server (moto's
threaded server on a free port, DynamoDB requests applied one at a time as DynamoDB applies each request
atomically): exactly `max_uses` succeed, and the counters agree."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.codes import CodeState, RedeemCode
from chalicelib.domain.errors import DomainError
from devstack.localenv import free_ports
from tests.support import TEST_ENV, FakeClock

PREFIX = "tgshop-race"
THREADS = 50
MAX_USES = 10


@pytest.fixture
def emulated():
    """A Container bound to a fresh emulator server; the previous model binding is restored afterwards."""
    import boto3
    import httpx

    from chalicelib.adapters.dynamodb import models
    from chalicelib.config import load_settings
    from chalicelib.container import Container
    from devstack.emulator import AtomicMotoServer
    from devstack.infra import create_resources, seed_defaults
    from devstack.sandbox import create_sandbox_app

    previous = getattr(models, "_binding", None)
    port = free_ports(1)[0]
    server = AtomicMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        import urllib.request

        # moto's state is per process: start from nothing whatever ran before.
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()
        create_resources(boto3.client("dynamodb", region_name="us-east-1", endpoint_url=url),
                         boto3.client("sqs", region_name="us-east-1", endpoint_url=url), PREFIX)
        clock = FakeClock(datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc))
        container = Container(load_settings({**TEST_ENV, "RESOURCE_PREFIX": PREFIX, "AWS_ENDPOINT_URL": url}),
                              telegram_transport=httpx.WSGITransport(app=create_sandbox_app()), clock=clock)
        seed_defaults(container)
        yield container
    finally:
        server.stop()
        if previous is not None:
            models.bind(*previous)


def a_code(container, code: str, max_uses: int) -> RedeemCode:
    now = container.clock.now()
    record = RedeemCode(code=code, order_id="RACEORDER", seq=0, distributor_id="RACER", product_id="premium_3m",
                        month_count=3, max_uses=max_uses, used_count=0, state=CodeState.ACTIVE,
                        expires_at=now + timedelta(days=30), created_at=now)
    container.code_store.put_new([record])
    return record


def race(container, attempts) -> list[str]:
    barrier = threading.Barrier(len(attempts))

    def attempt(args) -> str:
        user_id, code = args
        barrier.wait()
        try:
            return container.redemptions.redeem(user_id, code, None).status
        except DomainError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(attempt, attempts))


def test_fifty_users_racing_for_one_multi_use_code_get_exactly_its_uses(emulated):
    record = a_code(emulated, "RACE0000000000AA", MAX_USES)
    results = race(emulated, [(9000 + index, record.code) for index in range(THREADS)])

    assert results.count("ACCEPTED") == MAX_USES, results
    assert results.count("CODE_USED_UP") == THREADS - MAX_USES, results
    assert emulated.code_store.get(record.code).used_count == MAX_USES
    redemptions = emulated.redemption_store.list_by_distributor("RACER", 200, None).items
    assert len(redemptions) == MAX_USES and len({item.user_id for item in redemptions}) == MAX_USES
    assert all(emulated.orders.get(item.gift_order_id).status == "PAID" for item in redemptions)
    totals = emulated.distributor_desk._figures.totals("RACER")
    assert (totals.get("redemptions"), totals.get("codes_depleted"), totals.get("redeem_attempts")) == \
        (MAX_USES, 1, THREADS)


def test_one_user_redeeming_twice_at_once_gets_one_redemption(emulated):
    record = a_code(emulated, "RACE0000000000BB", MAX_USES)
    results = race(emulated, [(9100, record.code)] * 10)

    assert emulated.code_store.get(record.code).used_count == 1
    assert set(results) <= {"ACCEPTED", "ALREADY_REDEEMED"} and "ACCEPTED" in results
    assert len(emulated.redemption_store.list_by_distributor("RACER", 200, None).items) == 1


# ---------------------------------------------------------------------------------------------- guessing limits
def guessing(container, attempts) -> tuple[list[str], list[str]]:
    """Race wrong codes (user, ip) in real threads; returns the answers and the codes that were looked up."""
    looked_up: list[str] = []
    lock = threading.Lock()
    store = container.code_store
    original = store.get

    def counted_get(code):
        with lock:
            looked_up.append(code)
        return original(code)

    store.get = counted_get
    barrier = threading.Barrier(len(attempts))

    def attempt(args) -> str:
        index, (user_id, ip) = args
        barrier.wait()
        try:
            return container.redemptions.redeem(user_id, f"{index:016d}", ip).status
        except DomainError as error:
            return error.code

    try:
        with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
            answers = list(pool.map(attempt, enumerate(attempts)))
    finally:
        del store.get
    return answers, looked_up


def test_forty_wrong_codes_at_once_from_one_user_look_up_at_most_the_burst(emulated):
    burst = emulated.settings.redeem_user_burst
    answers, looked_up = guessing(emulated, [(9200, None)] * 40)

    assert set(answers) <= {"CODE_NOT_FOUND", "TOO_MANY_ATTEMPTS"}, answers
    assert 0 < len(looked_up) <= burst, (len(looked_up), answers)
    assert answers.count("CODE_NOT_FOUND") == len(looked_up)
    # The bucket is empty now: the next guess is refused before any look-up.
    assert guessing(emulated, [(9200, None)]) == (["TOO_MANY_ATTEMPTS"], [])


def test_forty_wrong_codes_at_once_from_one_address_look_up_at_most_its_burst(emulated):
    burst = emulated.settings.redeem_ip_burst
    answers, looked_up = guessing(emulated, [(9300 + index, "203.0.113.9") for index in range(40)])

    assert set(answers) <= {"CODE_NOT_FOUND", "TOO_MANY_ATTEMPTS"}, answers
    assert 0 < len(looked_up) <= burst, (len(looked_up), answers)
    assert answers.count("CODE_NOT_FOUND") == len(looked_up)
