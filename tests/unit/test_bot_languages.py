"""The message catalogs: every key in every language, the same placeholders, valid Telegram HTML."""
from __future__ import annotations

import pytest

from chalicelib.i18n import LANGUAGES, catalog, escape, normalize, placeholders, text
from devstack.sandbox import parse_html_text

ENGLISH = catalog("en")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_exists_in_every_language(language):
    assert set(catalog(language)) == set(ENGLISH)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_has_the_same_placeholders_as_english(language):
    for key, template in catalog(language).items():
        assert placeholders(template) == placeholders(ENGLISH[key]), f"{language}:{key}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_valid_telegram_html_and_fits(language):
    for key, template in catalog(language).items():
        filled = template.format(**{name: "x" for name in placeholders(template)})
        parse_html_text(filled)  # raises like Telegram would on a bad tag
        assert template.strip() and len(filled) < 1000, key


@pytest.mark.parametrize("language", LANGUAGES)
def test_command_descriptions_fit_set_my_commands(language):
    for key, value in catalog(language).items():
        if key.startswith("command."):
            assert 1 <= len(value) <= 256


@pytest.mark.parametrize(("code", "expected"), [
    (None, "en"), ("", "en"), ("en-US", "en"), ("zh-hans", "zh"), ("zh_TW", "zh"), ("RU", "ru"), ("uk", "en"),
])
def test_telegram_language_codes_pick_a_catalog(code, expected):
    assert normalize(code) == expected


def test_user_text_is_escaped_and_clipped():
    assert escape("<b>Tom & Jerry</b>") == "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;"
    assert len(escape("x" * 5000)) == 64
    assert parse_html_text(text("en", "start.greeting", name=escape("<i>"))).startswith("Hello, <i>!")
