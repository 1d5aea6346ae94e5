"""Callback data: a short verb, then its arguments, joined by ":" (at most 64 bytes, checked by
`views.button`). The wire values never change: buttons already sent keep working."""
from __future__ import annotations

import re

SEPARATOR = ":"
_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,19})")   # JSON's integer grammar: what the HTTP API reads

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
WALLET = "wl"                   # wl
HISTORY = "wh"                  # wh:<page>
TOP_UP = "tu"                   # tu
TOP_UP_AMOUNT = "ta"            # ta:<cents>:<stamp>
PAY_FROM_BALANCE = "pb"         # pb:<months>:<recipient user id>:<stamp>
TOP_UP_DIFFERENCE = "td"        # td:<months>:<recipient user id>:<stamp>
PAY_WITH_STARS = "ps"           # ps:<months>:<recipient user id>:<stamp>
ENERGY = "en"                   # en (flows/tron.py)
ENERGY_PACKAGE = "ep"           # ep:<product id>
ENERGY_STARS = "es"             # es:<product id>: the package, paid with Stars
EXCHANGE = "ex"                 # ex
EXCHANGE_AMOUNT = "xa"          # xa:<whole TRX>

FOR_ME = "me"                   # the recipient arguments of RECIPIENT
FOR_OTHER = "other"


def data(verb: str, *args: object) -> str:
    """The callback data of a button: `data(ORDER, "ABC", 2)` is "od:ABC:2"."""
    return SEPARATOR.join((verb, *(str(arg) for arg in args)))


def split(callback_data: str) -> tuple[str, str]:
    """("od", "ABC:2") for "od:ABC:2": the verb, and the rest for its flow to read."""
    verb, _, rest = callback_data.partition(SEPARATOR)
    return verb, rest


def integer(text: str) -> int:
    """A number argument, read as strictly as a number in a JSON body: ASCII digits, an optional minus, no
    plus, spaces, underscores or leading zeros (`int()` takes "+5", " 5", "5_0" and "٣"). ValueError else."""
    if not _INTEGER.fullmatch(text):
        raise ValueError(f"not a number: {text!r}")
    return int(text)
