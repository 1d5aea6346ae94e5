"""Reconciliation's payout half: for one UTC day, the payouts table against the ledger (docs/decisions.md).

It proves that
1. each payout that LANDED that day has exactly the entries its landing books (`payouts.payout_entries`): the
   amount from the right inventory to the right account (the product's payouts, or the receiver's delegated
   energy) and, when `fee_sun` > 0, the TRX it burned;
2. each payout that REVERTED that day has only its burned fee's entry (when it burned any), nothing else;
3. each payout entry of the day (`payout:` or `payout-fee:`) belongs to a payout that settled on chain that day
   and books it: nothing is booked for a payout that did not land.
A payout is written LANDED or REVERTED in the transaction that writes its entries, with `landed_at` equal to
their `posted_at`, so both sides fall on the same day. What it reads is the day's settled payouts, from the
sparse `payout-day` index; an entry naming any other payout is itself the difference, so nothing else is read.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from chalicelib.domain.ledger import PostedEntry, Purpose
from chalicelib.domain.payouts import settled_entries
from chalicelib.domain.ports.payouts import Payout
from chalicelib.domain.reconciliation_report import Mismatch

ENTRY_PREFIXES = ("payout:", "payout-fee:")
FEE_PREFIX = "payout-fee:"


def payout_id_of(entry_id: str) -> str | None:
    """The payout an entry id books for (`payout:<id>`, `payout-fee:<id>`), None for any other entry."""
    for prefix in ENTRY_PREFIXES:
        if entry_id.startswith(prefix):
            return entry_id[len(prefix):]
    return None


def _lines(entry: PostedEntry) -> dict[str, int]:
    lines: dict[str, int] = {}
    for line in entry.lines:
        lines[line.account] = lines.get(line.account, 0) + line.amount_micros
    return dict(sorted(lines.items()))


def check_payouts(entries: dict[str, PostedEntry], settled: Iterable[Payout],
                  differ: Callable[..., None]) -> int:
    """Report each difference between the day's settled payouts and its payout entries through `differ(kind,
    expected, actual, **about)`; how many payouts were checked."""
    expected: dict[str, tuple[Payout, PostedEntry]] = {}
    count = 0
    for payout in settled:
        count += 1
        for entry in settled_entries(payout):
            expected[entry.entry_id] = (payout, entry)
    for entry_id, (payout, wanted) in sorted(expected.items()):
        about: dict[str, Any] = {"payout_id": payout.payout_id, "entry_id": entry_id, "order_id": payout.order_id}
        found = entries.get(entry_id)
        if found is None:
            kind = Mismatch.PAYOUT_FEE_WITHOUT_ENTRY if entry_id.startswith(FEE_PREFIX) \
                else Mismatch.PAYOUT_WITHOUT_ENTRY
            differ(kind, wanted.moved_micros, None, **about)
        elif _lines(found).keys() != _lines(wanted).keys() or found.currency != wanted.currency:
            differ(Mismatch.PAYOUT_ACCOUNT, sorted(_lines(wanted)), sorted(_lines(found)), **about)
        elif _lines(found) != _lines(wanted):
            differ(Mismatch.PAYOUT_AMOUNT, _lines(wanted), _lines(found), **about)
    for entry in entries.values():
        payout_id = payout_id_of(entry.entry_id)
        if (payout_id is not None or entry.purpose == Purpose.PAYOUT) and entry.entry_id not in expected:
            differ(Mismatch.ENTRY_WITHOUT_PAYOUT, None, entry.moved_micros, payout_id=payout_id,
                   entry_id=entry.entry_id, order_id=entry.order_id)
    return count
