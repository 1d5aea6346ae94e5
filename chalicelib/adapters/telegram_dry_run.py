"""A Telegram gateway that buys nothing: for a local stack talking to a real bot (GIFTS_DRY_RUN).

Every Bot API call goes through to the wrapped client except those that spend the bot's Stars: each of
those is logged, counted, kept in `recorded` and answered as Telegram answers a success (`True`), so the
order completes and nothing is bought. The Star balance is answered as enough for any gift, or an order
would wait for Stars that a dry run never spends. The domain does not know: the container picks this
gateway instead of the client when the setting is on (chalicelib/container.py).
"""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.domain.ports.telegram import TelegramGateway
from chalicelib.observability import count, logger

# The Bot API methods that spend Stars or give away something bought with them.
SPENDS_STARS = frozenset({"giftPremiumSubscription", "sendGift", "upgradeGift", "transferGift",
                          "transferBusinessAccountStars"})
DRY_RUN_BALANCE = 1_000_000_000


class DryRunGifts:
    def __init__(self, telegram: TelegramGateway, *, log: Any = logger,
                 counter: Callable[[str], None] = count) -> None:
        self._telegram = telegram
        self._log = log
        self._count = counter
        self.recorded: list[tuple[str, dict[str, Any]]] = []

    def call(self, method: str, params: dict[str, Any], *, files: dict | None = None) -> Any:
        if method in SPENDS_STARS:
            self.recorded.append((method, dict(params)))
            self._log.warning("dry run: not sent to Telegram, no Stars spent",
                              extra={"method": method, "params": {key: value for key, value in params.items()
                                                                  if key != "text"}})
            self._count("GiftsDryRun")
            return True
        if method == "getMyStarBalance":
            return {"amount": DRY_RUN_BALANCE, "nanostar_amount": 0}
        return self._telegram.call(method, params, files=files)
