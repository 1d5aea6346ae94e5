"""Hypothesis strategies for hostile input shared by the fuzz suite: header and query values, JSON bodies
(anything, or a valid body with fields replaced), cursors and signature headers."""
from __future__ import annotations

import base64
import json
import os
from typing import Any

from hypothesis import HealthCheck, settings, strategies as st

# Deterministic and quick enough for `make test`; TGSHOP_FUZZ_EXAMPLES=2000 digs deeper on a laptop.
EXAMPLES = int(os.environ.get("TGSHOP_FUZZ_EXAMPLES", "0")) or None
FUZZ = settings(max_examples=EXAMPLES or 120, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def fuzz(examples: int):
    """The suite's settings with `examples` runs (unless the environment asks for more)."""
    return settings(FUZZ, max_examples=EXAMPLES or examples)


# ---------------------------------------------------------------------------------------------- text
# What a header or a query value can hold after API Gateway: any text but line breaks and NUL.
_CHARACTERS = st.characters(exclude_categories=("Cs",), exclude_characters="\r\n\x00")
NASTY = ["", " ", "0", "-1", "-5", "+5", " 5", "5_0", "1e3", "3.0", "²", "٣", "１", "9" * 5000, "9" * 40,
         "é", "ñ" * 64, "\u202e", "null", "[]", "{}", "true", "%", "%zz", "a=b&c", "x" * 3000, "\t", "💥"]
text = st.one_of(st.text(_CHARACTERS, max_size=40), st.sampled_from(NASTY))


# ---------------------------------------------------------------------------------------------- JSON
# JSON text may also spell lone surrogates ("\\ud800"), which json.loads turns into str no UTF-8 can encode.
json_text = st.one_of(text, st.text(st.characters(exclude_characters="\x00"), max_size=10))
_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**63, max_value=2**64),
                     st.floats(allow_nan=True, allow_infinity=True), json_text)


def _containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(json_text, inner, max_size=3))


json_values = st.recursive(_scalars, _containers, max_leaves=8)


def json_objects(fields: tuple[str, ...]) -> st.SearchStrategy[dict]:
    """Objects with the route's own field names (so validation goes deep) and sometimes strangers."""
    known = st.dictionaries(st.sampled_from(fields), json_values, max_size=len(fields)) if fields \
        else st.just({})
    return st.builds(lambda own, extra: {**extra, **own}, known,
                     st.dictionaries(json_text, json_values, max_size=2) | st.just({}))


def mutations(template: dict) -> st.SearchStrategy[dict]:
    """A valid body with one or two of its fields replaced by anything, or left out: validation goes deep."""
    def mutate(changes: dict, dropped: list) -> dict:
        body = {**template, **changes}
        for name in dropped:
            body.pop(name, None)
        return body

    names = st.sampled_from(sorted(template))
    return st.builds(mutate, st.dictionaries(names, json_values, min_size=1, max_size=2),
                     st.lists(names, max_size=1))


def bodies(fields: tuple[str, ...], template: dict | None = None) -> st.SearchStrategy[bytes]:
    return st.one_of(
        *([mutations(template).map(lambda value: json.dumps(value).encode())] * 3 if template else []),
        json_objects(fields).map(lambda value: json.dumps(value).encode()),
        json_values.map(lambda value: json.dumps(value).encode()),
        st.binary(max_size=64),
        st.sampled_from([b"", b"{", b"[1,", b'{"a":' + b"9" * 5000 + b"}", b"\xff\xfe", b"x" * 70_000,
                         "{\"é\": \"\u2028\"}".encode(), b'{"product_id": "premium_3m"}']),
    )


# ---------------------------------------------------------------------------------------------- cursors
_KEY_NAMES = ["order_id", "owner_id", "created_at", "distributor_id", "redeemed_at", "redemption_id", "day",
              "entry_id", "p", "o", "s", "x"]
_attribute_values = st.one_of(
    st.builds(lambda kind, value: {kind: value}, st.sampled_from(["S", "N", "B", "BOOL", "NULL", "L", "M", "SS"]),
              json_values),
    json_values)


def _b64(document: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


cursors = st.one_of(
    text,
    json_values.map(_b64),
    st.dictionaries(st.sampled_from(_KEY_NAMES), _attribute_values, min_size=1, max_size=4).map(_b64),
    st.sampled_from([_b64({"order_id": {"S": "x"}}), _b64({"owner_id": {"S": "user:2"}, "order_id": {"S": ""},
                                                           "created_at": {"S": "x"}}),
                     _b64({"p": 5}), _b64({"s": "5"}), _b64({"o": [1]}), "e30", "e30=", "@@@"]),
)


# ---------------------------------------------------------------------------------------------- signatures
def signature_headers(valid: str, now: int) -> st.SearchStrategy[str | None]:
    """X-Signature: the right one for the body, or near misses and nonsense."""
    stamps = st.one_of(st.just(str(now)), st.sampled_from(["9" * 5000, "²", "٣٣", "-1", "", " 1", "1" * 20]),
                       st.integers(min_value=0, max_value=2**64).map(str), text)
    digests = st.one_of(st.text("0123456789abcdef", min_size=64, max_size=64), text,
                        st.sampled_from(["é" * 64, "ñ", "A" * 64, valid.partition("v1=")[2]]))
    forged = st.builds(lambda t, v, extra: f"t={t},v1={v}{extra}", stamps, digests,
                       st.sampled_from(["", ",v1=", ",t=1", ",,", ",v1=é"]))
    return st.one_of(st.just(valid), st.none(), text, forged)
