from datetime import datetime, timezone

import pytest

from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.signatures import build_init_data, sign_payload, validate_init_data, verify_signature_header

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
BODY = b'{"a":1}'


def stamp() -> int:
    return int(NOW.timestamp())


def test_a_signature_made_with_any_current_secret_passes():
    header = sign_payload("old", stamp(), BODY)
    verify_signature_header(header, BODY, ("new", "old"), NOW, 300)


def test_several_v1_values_may_appear():
    good = sign_payload("secret", stamp(), BODY).split(",")[1]
    verify_signature_header(f"t={stamp()},v1=deadbeef,{good}", BODY, ("secret",), NOW, 300)


@pytest.mark.parametrize("header,code", [
    (None, "SIGNATURE_MISSING"),
    ("garbage", "SIGNATURE_INVALID"),
    ("t=abc,v1=00", "SIGNATURE_INVALID"),
])
def test_malformed_signatures_are_refused(header, code):
    with pytest.raises(Unauthenticated) as refused:
        verify_signature_header(header, BODY, ("secret",), NOW, 300)
    assert refused.value.code == code


def test_a_changed_body_or_stale_time_is_refused():
    header = sign_payload("secret", stamp(), BODY)
    with pytest.raises(Unauthenticated):
        verify_signature_header(header, b'{"a":2}', ("secret",), NOW, 300)
    stale = sign_payload("secret", stamp() - 301, BODY)
    with pytest.raises(Unauthenticated) as refused:
        verify_signature_header(stale, BODY, ("secret",), NOW, 300)
    assert refused.value.code == "SIGNATURE_STALE"


def test_init_data_round_trips_and_rejects_tampering():
    data = build_init_data("1:TOKEN", {"id": 42, "first_name": "Ann"}, stamp())
    assert validate_init_data(data, "1:TOKEN", NOW, 86400).user_id == 42
    with pytest.raises(Unauthenticated):
        validate_init_data(data, "1:OTHER", NOW, 86400)
    with pytest.raises(Unauthenticated):
        validate_init_data(data.replace("Ann", "Bob"), "1:TOKEN", NOW, 86400)


def test_old_init_data_is_refused():
    data = build_init_data("1:TOKEN", {"id": 42}, stamp() - 86401)
    with pytest.raises(Unauthenticated) as refused:
        validate_init_data(data, "1:TOKEN", NOW, 86400)
    assert refused.value.code == "INIT_DATA_EXPIRED"


@pytest.mark.parametrize("header", [
    "t=" + "9" * 5000 + ",v1=" + "a" * 64,         # more digits than int() converts
    "t=²,v1=" + "a" * 64,                           # a digit to str.isdigit, not to int()
    "t=١٢٣,v1=" + "a" * 64,                         # Arabic-Indic digits
    f"t={int(NOW.timestamp())},v1=" + "é" * 64,     # compare_digest refuses non-ASCII text
    f"t={int(NOW.timestamp())},v1=ñ",
    f"t={int(NOW.timestamp())},v1=💥,v1=",
])
def test_odd_signature_headers_are_refused_not_crashed(header):
    with pytest.raises(Unauthenticated) as refused:
        verify_signature_header(header, BODY, ("secret",), NOW, 300)
    assert refused.value.code == "SIGNATURE_INVALID"


@pytest.mark.parametrize("init_data", [
    "auth_date=1&hash=é",
    "hash=" + "é" * 64,
    "user=%7B%7D&hash=%F0%9F%92%A5",
    build_init_data("1:TOKEN", {"id": 42}, 0, {"auth_date": "²"}),
    build_init_data("1:TOKEN", {"id": 42}, 0, {"auth_date": "9" * 5000}),
])
def test_odd_init_data_is_refused_not_crashed(init_data):
    with pytest.raises(Unauthenticated) as refused:
        validate_init_data(init_data, "1:TOKEN", NOW, 86400)
    assert refused.value.code == "INIT_DATA_INVALID"


def test_init_data_fields_of_the_wrong_type_are_dropped():
    data = build_init_data("1:TOKEN", {"id": 42, "first_name": 5, "username": ["x"], "language_code": {"a": 1}},
                           int(NOW.timestamp()))
    user = validate_init_data(data, "1:TOKEN", NOW, 86400)
    assert (user.user_id, user.first_name, user.username, user.language_code) == (42, "", None, None)


def test_a_user_id_beyond_telegrams_range_is_refused():
    data = build_init_data("1:TOKEN", {"id": 2**53}, int(NOW.timestamp()))
    with pytest.raises(Unauthenticated):
        validate_init_data(data, "1:TOKEN", NOW, 86400)
