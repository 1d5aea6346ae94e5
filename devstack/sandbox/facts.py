"""Product facts the sandbox checks calls against, read from the app so the two can never disagree.

Each fact is imported from exactly one place here: when the app moves one, only this module changes.
"""
from __future__ import annotations

from chalicelib.config import DEFAULT_USDT_CONTRACT
from chalicelib.domain.products.premium import PREMIUM_TERMS

__all__ = ["DEFAULT_USDT_CONTRACT", "premium_star_prices"]


def premium_star_prices() -> dict[int, int]:
    """What giftPremiumSubscription must be paid for each Premium duration: months -> stars."""
    return {product.month_count: product.star_count for product in PREMIUM_TERMS.values()}
