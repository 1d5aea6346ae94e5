"""Callback data: a short verb, then its arguments, joined by ":" (at most 64 bytes, checked by
`views.button`). The wire values never change: buttons already sent keep working."""
from __future__ import annotations

SEPARATOR = ":"

MENU = "menu"                   # menu
BUY = "buy"                     # buy
MONTHS = "mo"                   # mo:<months>
RECIPIENT = "to"                # to:<months>:<FOR_ME | FOR_OTHER>
CONFIRM = "ok"                  # ok:<months>:<recipient user id>:<stamp>
CHECK = "chk"                   # chk:<order id>
CANCEL_ORDER = "cx"             # cx:<order id>
ORDERS = "ol"                   # ol:<page>
ORDER = "od"                    # od:<order id>:<page>
REDEEM = "rd"                   # rd
HELP = "help"                   # help
LANGUAGE = "lang"               # lang
SET_LANGUAGE = "lg"             # lg:<language code>

FOR_ME = "me"                   # the recipient arguments of RECIPIENT
FOR_OTHER = "other"


def data(verb: str, *args: object) -> str:
    """The callback data of a button: `data(ORDER, "ABC", 2)` is "od:ABC:2"."""
    return SEPARATOR.join((verb, *(str(arg) for arg in args)))


def split(callback_data: str) -> tuple[str, str]:
    """("od", "ABC:2") for "od:ABC:2": the verb, and the rest for its flow to read."""
    verb, _, rest = callback_data.partition(SEPARATOR)
    return verb, rest
