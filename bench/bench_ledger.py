"""Ledger benchmarks (issue 10): reconciling a day reads that day's entries and the touched accounts' lines
since the day began, never the days before; and what one day of 100,000 entries costs to prove."""
from __future__ import annotations

import inspect
import os
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from bench.dynamo_counter import DynamoCounter
from bench.harness import Emulator, SettableClock, Stack, md_table, progress, quiet

DAY_ENTRIES = int(os.environ.get("BENCH_LEDGER_ENTRIES", "100000"))
HISTORY_ENTRIES = int(os.environ.get("BENCH_LEDGER_HISTORY", "50000"))
WALLETS = int(os.environ.get("BENCH_LEDGER_WALLETS", "200"))
EMULATOR_READ_TIMEOUT_SECONDS = 600
DAY = datetime(2026, 11, 24, tzinfo=timezone.utc)


def run() -> str:
    with Emulator() as emulator, quiet(), partition_reads():
        with Stack(emulator, prefix="tgshop-bench-ledger", clock=SettableClock(DAY + timedelta(days=1, hours=1))) \
                as stack:
            return reconciliation_section(stack)


@contextmanager
def partition_reads() -> Iterator[None]:
    """The emulator answers every Query by sorting the whole table and walking it, which makes a day of 100,000
    entries take hours where DynamoDB reads one partition. Within this block a table query starts from the
    queried partition (an index query from the unsorted items, which it sorts itself); what it returns, its
    pages and its limits are the emulator's own."""
    from moto.dynamodb.models.table import Table

    original = Table.query
    signature = inspect.signature(original)
    one_at_a_time = threading.Lock()

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs).arguments
        if not self.range_key_attr:
            return original(self, *args, **kwargs)
        if bound.get("index_name"):
            candidates = [item for partition in self.items.values() for item in partition.values()]
        else:
            candidates = list((self.items.get(bound["hash_key"]) or {}).values())
        with one_at_a_time:
            self.all_items = lambda: candidates
            try:
                return original(self, *args, **kwargs)
            finally:
                del self.all_items

    Table.query = query
    try:
        yield
    finally:
        Table.query = original


class _Collected:
    """Takes the writes `add_entry` would put in a transaction, to write many entries in batches instead: the
    same items, with each account's balance summed once at the end."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.balances: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        self.entry: Any = None

    def put(self, name: str, item: Any, condition: Any = None) -> None:
        self.items.append(item)

    def update(self, name: str, item: Any, actions: list, condition: Any = None) -> None:
        account = name.split(":", 1)[1]              # "balance:<account>" or "wallet-debit:<account>"
        totals = self.balances[(item.pk, item.sk)]
        totals[0] += next(line.amount_micros for line in self.entry.lines if line.account == account)
        totals[1] += 1


def _seed(day: datetime, count: int, tag: str) -> tuple[int, float]:
    """`count` operator adjustments spread over the UTC day, each crediting one of WALLETS wallets."""
    from chalicelib.adapters.dynamodb.ledger import add_entry
    from chalicelib.adapters.dynamodb.models import LedgerItem
    from chalicelib.domain.ledger import adjustment_entry

    started = time.perf_counter()
    collected = _Collected()
    step = timedelta(seconds=86_399 / max(count, 1))
    for index in range(count):
        entry = adjustment_entry(f"bench-{tag}-{index}", f"user:{9_000_000 + index % WALLETS}", "USDT",
                                 1_000 + index % 997, "bench", day + step * index)
        collected.entry = entry
        add_entry(collected, entry)   # type: ignore[arg-type] - it takes what a NamedTransaction takes
    existing = {(item.pk, item.sk): item for item in LedgerItem.batch_get(list(collected.balances))}
    with LedgerItem.batch_write() as batch:
        for item in collected.items:
            batch.save(item)
        for (pk, sk), (amount, lines) in collected.balances.items():
            before = existing.get((pk, sk))
            batch.save(LedgerItem(pk, sk, balance=amount + int(before.balance if before else 0),
                                  version=lines + int(before.version if before else 0)))
    return len(collected.items) + len(collected.balances), time.perf_counter() - started


def reconciliation_section(stack: Stack) -> str:
    from chalicelib.adapters.dynamodb.models import LedgerItem, PaymentItem

    for model in (LedgerItem, PaymentItem):   # the emulator's walk of the table, not DynamoDB's partition read
        model.Meta.read_timeout_seconds = EMULATOR_READ_TIMEOUT_SECONDS
        model._connection = None
    reconciliation = stack.container.reconciliation
    history_day, day, today = DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)
    progress(f"ledger: writing {HISTORY_ENTRIES:,} entries of an earlier day")
    history_items, history_seconds = _seed(history_day, HISTORY_ENTRIES, "history")
    reconciliation.reconcile(history_day.date())
    progress(f"ledger: writing {DAY_ENTRIES:,} entries of the day to prove, and some of the day after")
    day_items, day_seconds = _seed(day, DAY_ENTRIES, "day")
    after = max(DAY_ENTRIES // 100, 10)
    _seed(today, after, "after")

    progress("ledger: reconciling the day")
    started = time.perf_counter()
    with DynamoCounter(record=True) as counter:
        report = reconciliation.reconcile(day.date())
    seconds = time.perf_counter() - started
    if report.differences:
        raise AssertionError(f"the seeded day does not reconcile: {report.differences[:3]}")
    lines_of_day = 2 * DAY_ENTRIES
    touched = min(WALLETS, DAY_ENTRIES) + 8            # the wallets and the adjustments account's 8 shards
    rows = [
        ["entries of the day", f"{DAY_ENTRIES:,}"],
        ["entries of the day before (already proved)", f"{HISTORY_ENTRIES:,}"],
        ["entries of the day after (posted since)", f"{after:,}"],
        ["accounts the day touched", f"{min(WALLETS, DAY_ENTRIES) + 1:,}"],
        ["DynamoDB calls", f"{counter.total_calls:,} ({_calls(counter)})"],
        ["items read", f"{counter.items_read:,}"],
        ["of which the day's entries and its lines (2 per entry)", f"{DAY_ENTRIES + lines_of_day:,}"],
        ["items read beyond the day's entries and lines", f"{counter.items_read - DAY_ENTRIES - lines_of_day:,} "
                                                         f"(the day after's lines, balance shards and closings of "
                                                         f"{touched:,} balance partitions)"],
        ["read units (estimate)", f"{counter.read_units_estimate:,.0f}"],
        ["run time (emulator)", f"{seconds:.1f} s"],
    ]
    earlier = _reads_before(counter, day)
    rows.append(["reads whose key range reaches before the day (entries, payments, lines)", f"{earlier}"])
    if earlier:
        raise AssertionError(f"{earlier} reads reach before the proved day")
    return "\n".join([
        f"### Reconciling one day of {DAY_ENTRIES:,} entries",
        "",
        f"A day of {DAY_ENTRIES:,} entries (operator adjustments over {WALLETS:,} wallets, 2 lines each) was "
        f"written with the adapter's own item shapes ({day_items:,} items in batches, {day_seconds:.0f} s on the "
        f"emulator) after an earlier day of {HISTORY_ENTRIES:,} entries ({history_items:,} items, "
        f"{history_seconds:.0f} s) that had been proved already, and before {after:,} entries of the day after. "
        "Then one `Reconciliation.reconcile(day)` ran under the DynamoDB counter (one run). The emulator sorts "
        "and walks the whole table for every Query; for this run its queries started from the queried partition "
        "instead, as DynamoDB's do (`partition_reads` in `bench/bench_ledger.py`): the calls, pages and items "
        "are the emulator's own, the run time is not DynamoDB's.",
        "",
        md_table(["", "value"], rows),
        "",
        "What is read: the day's entries through the sparse, sharded `entry-day` index (8 queries, paged), the "
        "day's booked payments through `payment-day`, and per touched account its latest closing, its lines "
        "from the last closing on (here: the day and the hours after it) and its balance twice. Every recorded "
        "Query was checked: none names an earlier day's index partition or a line range starting before the "
        "day, so the earlier day's entries and lines are never read. The cost is the day's entries and lines "
        "plus a few reads per touched account, whatever the history.",
    ])


def _calls(counter: DynamoCounter) -> str:
    return ", ".join(f"{count:,} {operation}" for operation, count in counter.calls.most_common())


def _reads_before(counter: DynamoCounter, day: datetime) -> int:
    """Recorded queries whose key condition could return an item of an earlier day: an index partition of
    another day, or an account's lines from before the day began."""
    first_line = f"line#{day.strftime('%Y-%m-%d')}"
    reaching = 0
    for operation, params in counter.recorded:
        if operation != "Query":
            continue
        values = [value.get("S", "") for value in (params.get("ExpressionAttributeValues") or {}).values()]
        if params.get("IndexName") in ("entry-day", "payment-day"):
            reaching += not all(value.startswith(day.date().isoformat()) for value in values if "#" in value)
        else:
            reaching += any(value.startswith("line#") and value < first_line for value in values)
    return reaching
