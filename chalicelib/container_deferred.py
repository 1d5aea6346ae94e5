"""Parts of the container built when they are first needed: a cold container of any kind builds, and imports,
only what its first request uses (the registries and the fulfilment router do the same for their entries)."""
from __future__ import annotations

from typing import Any, Callable


class BuiltOnFirstUse:
    """Stands for a part built when one of its attributes is first used: a cold `/start` builds nothing of
    the shop, the wallet or the TRON products it does not show."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._built: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._built is None:
            self._built = self._build()
        return getattr(self._built, name)
