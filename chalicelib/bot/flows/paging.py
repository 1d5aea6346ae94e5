"""Numbered pages of a list read newest first. A button carries the page number, not the store's cursor (which
would not fit in 64 bytes of callback data), so each page is read from the start: pages are few and short."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from chalicelib.domain.ports.common import Page


@dataclass(frozen=True)
class NumberedPage:
    number: int            # from 0
    items: list[Any]
    has_next: bool
    past_end: bool         # the page asked for was past the end (an old button): this is the first page


def numbered_page(read: Callable[[int, str | None], Page], page: int, per_page: int, max_page: int) -> NumberedPage:
    """Page `page` (clamped to 0..max_page) of what `read(limit, cursor)` lists."""
    page = max(0, min(page, max_page))
    wanted = per_page * (page + 1) + 1   # one more than the page shows: is there a next page?
    items: list[Any] = []
    cursor = None
    while len(items) < wanted:
        result = read(wanted - len(items), cursor)
        items.extend(result.items)
        cursor = result.cursor
        if cursor is None:
            break
    shown = items[per_page * page:per_page * (page + 1)]
    if not shown and page > 0:
        return NumberedPage(0, items[:per_page], len(items) > per_page, past_end=True)
    return NumberedPage(page, shown, len(items) > per_page * (page + 1), past_end=False)
