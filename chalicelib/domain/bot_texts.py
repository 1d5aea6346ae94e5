"""The bot's menu texts an operator rewrites per language from the panel, without a deploy.

Only the greeting, the main menu's title and buttons and the help text can be changed; everything else stays in
the catalogs (chalicelib/i18n). A change keeps the original's placeholders (a greeting without `{name}` is
fine, one with `{price}` is refused), uses only Telegram's simple formatting tags (b, i, u, s, code) with no
attributes, names the version it was made from, is audited, and is read by the bot within the settings cache
time. An empty text goes back to the catalog's."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.live_settings import LiveSettings
from chalicelib.domain.ports.panel import VersionedSettingsStore
from chalicelib.i18n import LANGUAGES, catalog, placeholders

if TYPE_CHECKING:   # an admin route's caller; the distributors load with their own routes
    from chalicelib.domain.distributors import AdminActor

SETTING = "bot_texts"
EDITABLE = ("start.greeting", "menu.title", "help.text", "button.buy", "button.wallet", "button.orders",
            "button.redeem", "button.help", "button.language")
MAX_LENGTH = {"start.greeting": 1000, "menu.title": 300, "help.text": 3000}
BUTTON_LENGTH = 40
ALLOWED_TAGS = frozenset({"b", "i", "u", "s", "code"})
SAMPLE_VALUES = {"name": "Ann"}
_TAGS = re.compile(r"</?(?:b|i|u|s|code)>")


class _TagCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problem: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in ALLOWED_TAGS or attrs:
            allowed = ", ".join(sorted(ALLOWED_TAGS))
            self.problem = self.problem or f"<{tag}> is not allowed (only {allowed}, no attributes)"
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problem = self.problem or f"</{tag}> closes nothing open"


def checked(language: str, key: str, template: str) -> str:
    field = f"{language}.{key}"
    if language not in LANGUAGES or key not in EDITABLE:
        raise ValidationFailed(f"{field}: not a text the panel can change", code="TEXT_NOT_EDITABLE", field=field)
    template = template.strip().replace("\r\n", "\n")
    limit = MAX_LENGTH.get(key, BUTTON_LENGTH)
    if len(template) > limit or (key.startswith("button.") and "\n" in template):
        raise ValidationFailed(f"{field}: at most {limit} characters" + (" on one line" if limit == BUTTON_LENGTH
                                                                          else ""), code="TEXT_INVALID", field=field)
    try:
        used = placeholders(template)
    except ValueError:
        raise ValidationFailed(f"{field}: a brace that is not a placeholder; write {{{{ or }}}}", code="TEXT_INVALID",
                               field=field) from None
    allowed = placeholders(catalog(language).get(key) or catalog("en")[key])
    if not used <= allowed:
        raise ValidationFailed(f"{field}: only {', '.join(sorted(allowed)) or 'no'} placeholders here",
                               code="TEXT_INVALID", field=field)
    parser = _TagCheck()
    parser.feed(template)
    parser.close()
    if parser.problem or parser.open:
        raise ValidationFailed(f"{field}: {parser.problem or f'<{parser.open[-1]}> is never closed'}",
                               code="TEXT_INVALID", field=field)
    return template


class BotTexts:
    def __init__(self, live: LiveSettings, store: VersionedSettingsStore, audit: Any) -> None:
        self._live = live
        self._store = store
        self._audit = audit

    def lookup(self, language: str, key: str) -> str | None:
        """The operator's text for the key in the language, or None (the catalog's). Cached with the settings."""
        if key not in EDITABLE:
            return None
        return self._live.get(SETTING, _parse).get(language, {}).get(key)

    def current(self) -> tuple[dict[str, dict[str, str]], str]:
        """Per language, every editable text as the bot shows it now (overrides filled in), and the version."""
        stored, version = self._store.versioned(SETTING)
        overrides = _parse(stored)
        return {language: {key: overrides.get(language, {}).get(key) or catalog(language).get(key)
                           or catalog("en")[key] for key in EDITABLE} for language in LANGUAGES}, version

    def change(self, actor: AdminActor, language: str, texts: dict[str, str], version: str) -> dict[str, str]:
        """Set the language's texts; a text equal to the catalog's, or empty, is not kept as an override."""
        stored, current = self._store.versioned(SETTING)
        overrides = _parse(stored)
        mine = {}
        for key, template in texts.items():
            value = checked(language, key, template)
            if value and value != catalog(language).get(key):
                mine[key] = value
        value = {**overrides, language: mine}
        if version != current or not self._store.replace(SETTING, value, version):
            raise Conflict("the bot's texts were changed by someone else meanwhile; reload the page",
                           code="SETTING_CHANGED", field="version")
        self._live.forget()
        self._audit.record_action(actor, "settings.change", f"setting:{SETTING}:{language}",
                                  before=overrides.get(language, {}), after=mine)
        return mine


def preview(template: str) -> str:
    """The text with sample values and without its formatting tags, as plain text for the panel to show."""
    filled = template.format(**{name: SAMPLE_VALUES.get(name, name) for name in placeholders(template)})
    return _TAGS.sub("", filled)


def _parse(stored: Any) -> dict[str, dict[str, str]]:
    if not isinstance(stored, dict):
        return {}
    return {language: {key: text for key, text in (texts or {}).items() if key in EDITABLE and isinstance(text, str)}
            for language, texts in stored.items() if language in LANGUAGES and isinstance(texts, dict)}
