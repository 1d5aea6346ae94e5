"""Message catalogs: one JSON file per language, flat keys, `str.format` placeholders.

Catalog texts are trusted Telegram HTML; every value put into them that a user wrote (names, usernames,
codes) must go through `escape` first. Files are read on first use, once per container.
"""
from __future__ import annotations

import html
import json
import string
from functools import lru_cache
from pathlib import Path
from typing import Callable

LANGUAGES = ("en", "zh", "ru")
DEFAULT_LANGUAGE = "en"
# Shown in the language picker in their own script, whatever the current language.
LANGUAGE_NAMES = {"en": "English", "zh": "中文", "ru": "Русский"}
_DIRECTORY = Path(__file__).resolve().parent
# Texts an operator changed in the panel (chalicelib/domain/bot_texts.py), looked up before the catalog.
_override: Callable[[str, str], str | None] | None = None


@lru_cache(maxsize=len(LANGUAGES))
def catalog(language: str) -> dict[str, str]:
    if language not in LANGUAGES:
        raise KeyError(f"no catalog for language {language!r}")
    return json.loads((_DIRECTORY / f"{language}.json").read_text(encoding="utf-8"))


def normalize(language: str | None) -> str:
    """A supported language for a stored choice or a Telegram `language_code` ("zh-hans", "ru", "en-US")."""
    if not language:
        return DEFAULT_LANGUAGE
    base = language.strip().lower().replace("_", "-").split("-", 1)[0]
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def text(language: str | None, key: str, **values: object) -> str:
    """The message `key` in `language` (English when the key is missing there), filled with `values`."""
    language = normalize(language)
    template = (_override(language, key) if _override is not None else None) or catalog(language).get(key)
    if template is None:
        template = catalog(DEFAULT_LANGUAGE)[key]
    return template.format(**values) if values else template


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def escape(value: object, limit: int = 64) -> str:
    """User-provided text made safe for Telegram HTML, clipped to `limit` characters before escaping."""
    raw = str(value)
    if len(raw) > limit:
        raw = raw[:limit - 1] + "…"
    return html.escape(raw, quote=False)


def use_overrides(lookup: Callable[[str, str], str | None] | None) -> None:
    """Install (or, with None, remove) where operators' texts are looked up: (language, key) -> text or None."""
    global _override
    _override = lookup
