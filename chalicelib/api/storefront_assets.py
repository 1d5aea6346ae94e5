"""The storefront's files (chalicelib/storefront/): read once per container on first use, each asset linked
from the page with its content hash, so an asset can be cached for a year and a deploy still shows at once."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from chalicelib.domain.errors import NotFound

DIRECTORY = Path(__file__).resolve().parent.parent / "storefront"
TYPES = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
TELEGRAM_API = "https://api.telegram.org"
TELEGRAM_WEB_APP_JS = "https://telegram.org/js/telegram-web-app.js"
FOREVER = "public, max-age=31536000, immutable"


@lru_cache(maxsize=len(TYPES) + 1)
def _read(name: str) -> tuple[str, str]:
    body = (DIRECTORY / name).read_text(encoding="utf-8")
    return body, hashlib.sha256(body.encode()).hexdigest()[:12]


def web_app_script(telegram_api_base_url: str) -> str:
    """Telegram's script; against the sandbox (any other Bot API base) its stand-in, served there."""
    base = telegram_api_base_url.rstrip("/")
    return TELEGRAM_WEB_APP_JS if base == TELEGRAM_API else f"{base}/_sandbox/telegram-web-app.js"


def page(telegram_api_base_url: str) -> str:
    body, _ = _read("index.html")
    links = {f"{{{{{name}}}}}": f"store/assets/{name}?v={_read(name)[1]}" for name in TYPES}
    links["{{telegram-web-app.js}}"] = web_app_script(telegram_api_base_url)
    for placeholder, url in links.items():
        body = body.replace(placeholder, url)
    return body


def asset(name: str, query: Mapping[str, str]) -> tuple[str, str, str]:
    """(body, content type, cache control); only the current version is cached for good."""
    if name not in TYPES:
        raise NotFound(f"no storefront asset {name!r}", code="NOT_FOUND")
    body, digest = _read(name)
    return body, TYPES[name], FOREVER if query.get("v") == digest else "no-cache"
