"""The language picker and the user's choice, saved at once and used for this very reply."""
from __future__ import annotations

from chalicelib.bot import views
from chalicelib.bot.turn import Turn
from chalicelib.domain.ports.people import UserStore
from chalicelib.i18n import LANGUAGES


class LanguageFlow:
    def __init__(self, directory: UserStore) -> None:
        self._directory = directory

    def picker(self, turn: Turn, _: str) -> None:
        turn.show(turn.t("language.choose"), views.language_picker(turn.lang))

    def choose(self, turn: Turn, code: str) -> None:
        if code not in LANGUAGES:
            raise ValueError(code)
        self._directory.set_language(turn.user_id, code)
        turn.state.language = turn.lang = code
        turn.answer(turn.t("language.set"))
        turn.show(turn.t("language.set") + "\n\n" + turn.t("menu.title"), views.main_menu(code))
