"""The fulfillment worker: chunks and continuation messages, crashes injected at the two points between a
chunk's write, its progress save and the next chunk, duplicates, clashes, and the repair job resuming."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from chalicelib.domain.codes import CodeState, RedeemCode, derive_code, format_code
from chalicelib.domain.products.code_pack_fulfilment import FulfillmentPolicy
from chalicelib.domain.orders import START_FULFILMENT
from tests.codes_support import codes  # noqa: F401 - the fixture


class InjectedCrash(Exception):
    pass


def crash_once(stage: str, at_start: int):
    """A step hook that fails the worker once, at `stage` of the chunk starting at `at_start`."""
    fired: list[int] = []

    def hook(current: str, order, start: int, end: int) -> None:
        if current == stage and start == at_start and not fired:
            fired.append(start)
            raise InjectedCrash(f"crash after {stage} of [{start}, {end})")

    hook.fired = fired  # type: ignore[attr-defined]
    return hook


@pytest.fixture
def small_chunks(container):
    container.fulfillment.policy = FulfillmentPolicy(chunk_size=7, lease_seconds=600)
    return container


def assert_exact(codes, token, order_id: str, total: int) -> None:
    stored = codes.stored_codes(order_id)
    assert sorted(int(item["seq"]["N"]) for item in stored) == list(range(total))
    assert len({item["code"]["S"] for item in stored}) == total
    rows = codes.csv_rows(token, order_id)
    assert len(rows) == total and len({row["code"] for row in rows}) == total
    view = codes.order_view(token, order_id)
    assert (view["fulfillment_status"], view["delivered_count"], view["total_count"]) == ("completed", total, total)


def test_a_large_order_is_written_a_chunk_per_message(codes, small_chunks, calls):
    distributor, token = codes.create_distributor()
    order = codes.buy(token, quantity=2, fulfil=False)   # 20 codes: chunks of 7, 7 and 6
    progress = []
    small_chunks.fulfillment.step_hook = lambda stage, o, start, end: progress.append((stage, start, end))
    assert codes.fulfil() == 3   # the paid message and two continuation messages
    assert progress == [("written", 0, 7), ("saved", 0, 7), ("written", 7, 14), ("saved", 7, 14),
                        ("written", 14, 20), ("saved", 14, 20)]
    assert_exact(codes, token, order["order_id"], 20)
    assert len(calls("sendDocument")) == 1


def test_progress_is_visible_while_processing(codes, small_chunks):
    distributor, token = codes.create_distributor()
    order = codes.buy(token, quantity=2, fulfil=False)
    small_chunks.fulfillment.fulfil(order["order_id"])   # the first message only
    view = codes.order_view(token, order["order_id"])
    assert (view["status"], view["fulfillment_status"], view["delivered_count"], view["total_count"]) == \
        ("DELIVERING", "processing", 7, 20)


@pytest.mark.parametrize("stage", ["written", "saved"])
def test_a_crash_mid_order_is_resumed_by_the_repair_job_with_exact_codes(codes, small_chunks, clock, calls, stage):
    """"written": between a chunk's write and its progress save; "saved": between chunks (progress saved,
    no continuation message sent yet)."""
    distributor, token = codes.create_distributor()
    hook = crash_once(stage, at_start=7)
    small_chunks.fulfillment.step_hook = hook
    order = codes.buy(token, quantity=2)
    assert hook.fired == [7]
    view = codes.order_view(token, order["order_id"])
    assert view["fulfillment_status"] == "processing"
    assert view["delivered_count"] == (7 if stage == "written" else 14)
    assert len(codes.stored_codes(order["order_id"])) == 14   # the crashed chunk's codes are written

    # SQS would redeliver the failed message after its visibility timeout; the repair job is quicker.
    clock.advance(minutes=16)
    report = small_chunks.upkeep.repair_orders()
    assert order["order_id"] in report.order_ids
    codes.fulfil()
    assert_exact(codes, token, order["order_id"], 20)
    assert len(calls("sendDocument")) == 1
    summary = json.loads(codes.get(token, "/distributors/me/summary").body)
    assert (summary["codes_total"], summary["codes_active"]) == (20, 20)


def test_a_duplicate_message_never_writes_twice_and_completion_counts_once(codes, small_chunks, calls):
    distributor, token = codes.create_distributor()
    order = codes.buy(token, quantity=2, fulfil=False)
    paid = small_chunks.orders.get(order["order_id"])
    small_chunks.queue.enqueue(paid.order_id, paid.kind)        # a duplicate of the paid message
    small_chunks.queue.enqueue(paid.order_id, paid.kind)        # and another
    codes.fulfil()
    assert_exact(codes, token, order["order_id"], 20)
    small_chunks.fulfillment.fulfil(order["order_id"])   # a late redelivery after completion
    summary = json.loads(codes.get(token, "/distributors/me/summary").body)
    assert summary["codes_total"] == 20
    assert len(calls("sendDocument")) == 1


def test_a_chunk_held_by_another_worker_is_left_to_it(codes, small_chunks, clock):
    distributor, token = codes.create_distributor()
    order = codes.buy(token, quantity=2, fulfil=False)
    order_id = order["order_id"]
    assert small_chunks.guards.claim(f"fulfil#{order_id}#0", 600, clock.now())   # someone else is on chunk 0
    small_chunks.orders.apply(small_chunks.orders.get(order_id), START_FULFILMENT, clock.now())
    small_chunks.fulfillment.fulfil(order_id)
    assert codes.stored_codes(order_id) == []
    clock.advance(minutes=11)   # that worker died: its lease ran out
    small_chunks.fulfillment.fulfil(order_id)
    assert len(codes.stored_codes(order_id)) == 7


def test_a_clash_with_another_orders_code_is_detected_and_resolved(codes, container):
    distributor, token = codes.create_distributor()
    order = codes.buy(token, fulfil=False)
    order_id = order["order_id"]
    secret = container.settings.code_secret_key.get_secret_value().encode()
    taken = derive_code(secret, order_id, 3)   # what sequence number 3 would get first
    moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
    stranger = RedeemCode(code=taken, order_id="OTHERORDER", seq=41, distributor_id="OTHER", product_id="premium_3m",
                          month_count=3, max_uses=1, used_count=1, state=CodeState.ACTIVE,
                          expires_at=datetime(2027, 1, 1, tzinfo=timezone.utc), created_at=moment)
    container.code_store.put_new([stranger])

    codes.fulfil()

    assert_exact(codes, token, order_id, 10)
    assert container.code_store.get(taken) == stranger            # the other order's code is untouched
    rows = codes.codes_of(token, order_id)
    assert format_code(taken) not in rows
    assert rows[3] == format_code(derive_code(secret, order_id, 3, attempt=1))


def test_an_order_without_code_terms_fails_with_an_error(codes, container, clock):
    distributor, token = codes.create_distributor()
    order = codes.buy(token, fulfil=False)
    container.orders.update_progress(order["order_id"], code_max_uses=None)   # a broken record
    codes.fulfil()
    view = codes.order_view(token, order["order_id"])
    assert (view["status"], view["fulfillment_status"]) == ("FAILED", "failed")
    assert "code terms" in view["fulfillment_error"]


def test_the_http_csv_comes_in_parts_with_a_next_link(codes, small_chunks):
    distributor, token = codes.create_distributor()
    order = codes.buy(token, quantity=2)
    path = f"/distributors/me/orders/{order['order_id']}/codes.csv"
    first = codes.get(token, f"{path}?rows=8")
    assert first.headers["Content-Type"].startswith("text/csv") and first.headers["X-Next-Cursor"] == "8"
    assert first.headers["Link"] == f'<{path}?cursor=8&rows=8>; rel="next"'
    lines = first.body.decode().splitlines()
    assert lines[0] == "code,months,max_uses,used_count,expires_at,status" and len(lines) == 9
    last = codes.get(token, f"{path}?cursor=16&rows=8")
    assert "X-Next-Cursor" not in last.headers and len(last.body.decode().splitlines()) == 4   # no header row
    whole = [line for part in ("?rows=8", "?cursor=8&rows=8", "?cursor=16&rows=8")
             for line in codes.get(token, path + part).body.decode().splitlines()[1 if part == "?rows=8" else 0:]]
    assert whole == [",".join(row.values()) for row in codes.csv_rows(token, order["order_id"])]
    assert codes.get(token, f"{path}?cursor=21").status_code == 400


def test_a_deployed_stage_fulfils_a_code_pack_without_the_tron_settings(codes, sandbox, clock, monkeypatch):
    """The code pack worker's function is given no TRON node or key: its orders must not need them."""
    import httpx

    from chalicelib.config import load_settings
    from chalicelib.container import Container, set_container
    from tests.support import TEST_ENV

    for name in ("TRON_NODE_URL", "TRON_SHOP_ADDRESS", "TRON_PRIVATE_KEY", "TRON_PRIVATE_KEY_SSM_PARAMETER"):
        monkeypatch.delenv(name, raising=False)
    distributor, token = codes.create_distributor()
    order = codes.buy(token, fulfil=False)
    set_container(Container(load_settings({**TEST_ENV, "STAGE": "prod"}), clock=clock, sleep=lambda seconds: None,
                            telegram_transport=httpx.WSGITransport(app=sandbox)))
    assert codes.fulfil() == 1
    assert_exact(codes, token, order["order_id"], 10)
