"""The way in and out: /start, help, the main menu, /cancel, and the hint for text nobody expected."""
from __future__ import annotations

from chalicelib.bot import views
from chalicelib.bot.turn import AWAIT_RECIPIENT, Turn
from chalicelib.i18n import escape, text


class MenuFlow:
    def __init__(self, store_url: str | None = None) -> None:
        self._store_url = store_url    # the Mini App storefront, opened from a web_app button

    def _main_menu(self, lang: str) -> dict:
        markup = views.main_menu(lang)
        if self._store_url:
            markup["inline_keyboard"].insert(0, [{"text": text(lang, "button.open_store"),
                                                  "web_app": {"url": self._store_url}}])
        return markup

    def start(self, turn: Turn, _: str) -> None:
        turn.set_step(None)
        user = turn.incoming.user
        name = escape(user.display_name if user else "")
        turn.send(turn.t("start.greeting", name=name) + "\n\n" + turn.t("menu.title"), self._main_menu(turn.lang))

    def help(self, turn: Turn, _: str) -> None:
        turn.show(turn.t("help.text"), views.menu_only(turn.lang))

    def menu(self, turn: Turn, _: str) -> None:
        """Back to the main menu from any screen, leaving any step."""
        if turn.state.step == AWAIT_RECIPIENT:
            turn.send(turn.t("cancel.done"), {"remove_keyboard": True})
        turn.set_step(None)
        turn.show(turn.t("menu.title"), self._main_menu(turn.lang))

    def cancel(self, turn: Turn, _: str) -> None:
        step = turn.state.step
        turn.set_step(None)
        if step is None:
            turn.send(turn.t("cancel.nothing"), views.main_menu(turn.lang))
            return
        if step == AWAIT_RECIPIENT:
            turn.send(turn.t("cancel.done"), {"remove_keyboard": True})
            turn.send(turn.t("menu.title"), views.main_menu(turn.lang))
        else:
            turn.send(turn.t("cancel.done") + "\n\n" + turn.t("menu.title"), views.main_menu(turn.lang))

    def unknown(self, turn: Turn, _: str) -> None:
        turn.send(turn.t("unknown.hint"))
