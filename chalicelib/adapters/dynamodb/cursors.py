"""Page cursors that stand for a DynamoDB `LastEvaluatedKey`, checked before they reach DynamoDB.

A cursor is url-safe base64 JSON (`shared.encode_cursor`), so anyone can write one. DynamoDB answers an
`ExclusiveStartKey` of the wrong shape with a ValidationException (a 500 to the caller), and one naming
another partition would page through someone else's items. So a cursor must hold exactly the key
attributes of the index it continues, each with its declared type and a usable value, and the partition
the query reads; anything else is a 400 naming `cursor`.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.shared import decode_cursor

MAX_KEY_BYTES = 1024        # DynamoDB's limit for a sort key value; partition keys may be longer, ours are not
_NUMBER = re.compile(r"-?[0-9]{1,38}(\.[0-9]{1,38})?")


def start_key(cursor: str | None, key_types: Mapping[str, str], partition: Mapping[str, str]) -> dict | None:
    """The `ExclusiveStartKey` a cursor stands for, or None for the first page.

    `key_types`: every key attribute of the table and of the index queried, with its type ("S" or "N");
    `partition`: the key values the query itself is bound to (a cursor may not change them)."""
    position = decode_cursor(cursor)
    if position is None:
        return None
    if set(position) != set(key_types) or not all(_usable(position[name], kind) for name, kind in key_types.items()):
        raise _refused()
    if any(position[name] != {key_types[name]: value} for name, value in partition.items()):
        raise _refused()
    return position


def _usable(value: Any, kind: str) -> bool:
    if not isinstance(value, dict) or list(value) != [kind] or not isinstance(value[kind], str):
        return False
    text = value[kind]
    if kind == "N":
        return bool(_NUMBER.fullmatch(text))
    try:
        return 0 < len(text.encode("utf-8")) <= MAX_KEY_BYTES
    except UnicodeEncodeError:  # a lone surrogate, written as "\\ud800" in the JSON
        return False


def _refused() -> ValidationFailed:
    return ValidationFailed("cursor is not one this API returned", code="INVALID_CURSOR", field="cursor")
