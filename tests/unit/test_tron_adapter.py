"""The TRON adapter without AWS: transaction ids computed locally match the protocol's (vectors computed with
TRON's own protobuf definitions), signatures recover to the shop's key, the key never shows, and the node's
answers map to the outcomes the payout protocol relies on."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from coincurve import PublicKey

from chalicelib.adapters.tron import encoding
from chalicelib.adapters.tron.keys import ShopKey
from chalicelib.adapters.tron.node import TronNodeClient
from chalicelib.domain.ports.tron import (BroadcastResult, ChainOutcomeUnknown, ChainRejected, ChainUnreachable,
                                         PayoutAction, PayoutOrder)
from chalicelib.domain.tron import address_from_bytes, address_to_bytes
from chalicelib.observability import secret_masker
from chalicelib.domain.errors import ConfigurationError
from chalicelib.tron_config import LOCAL_PRIVATE_KEY, LOCAL_SHOP_ADDRESS, load_tron_settings
from devstack.tron_node import NodeState, create_node_app
from devstack.tron_node.local import BUYER_ADDRESSES, fund_shop

OWNER, RECEIVER = "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
BLOCK_ID = "0000000000001a2b0011223344556677" + "0" * 32
NOW = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)


def raw(kind: str, value: dict) -> dict:
    return encoding.raw_data(encoding.contract(kind, value), BLOCK_ID, 1764000000000, 1764000060000)


@pytest.mark.parametrize(("kind", "value", "expected"), [
    ("TransferContract", {"owner_address": OWNER, "to_address": RECEIVER, "amount": 1234567},
     "73c20a8180d4bdcfa5674648db48cd614420aa3096fda8a07ba8358d40efbbd3"),
    ("DelegateResourceContract", {"owner_address": OWNER, "receiver_address": RECEIVER, "balance": 250000000,
                                  "resource": "ENERGY", "lock": True, "lock_period": 86400},
     "6c872f6d63dbabc80352da555f9a8da593fd0314cbfd56480e166bfbc07b9590"),
    ("UnDelegateResourceContract", {"owner_address": OWNER, "receiver_address": RECEIVER, "balance": 250000000,
                                    "resource": "ENERGY"},
     "77320e58605d12b3c7e365e84a4bc9505f078fe835d77079241c14def8e69f60"),
])
def test_transaction_ids_match_the_protocol_serialisation(kind, value, expected):
    assert encoding.transaction_id(raw(kind, value)) == expected


def test_an_address_survives_the_round_trip_and_a_bad_one_is_refused():
    assert address_from_bytes(address_to_bytes(RECEIVER)) == RECEIVER
    with pytest.raises(ValueError):
        address_to_bytes(RECEIVER[:-1] + "u")


def test_a_signature_recovers_to_the_shop_key_and_the_key_never_shows(caplog):
    key = ShopKey(LOCAL_PRIVATE_KEY)
    tx_id = "73c20a8180d4bdcfa5674648db48cd614420aa3096fda8a07ba8358d40efbbd3"
    signature = bytes.fromhex(key.sign(tx_id))
    assert len(signature) == 65
    recovered = PublicKey.from_signature_and_message(signature, bytes.fromhex(tx_id), hasher=None)
    assert recovered.format(compressed=False).hex() == key.public_key_hex
    assert LOCAL_PRIVATE_KEY not in f"{key!r} {key}"
    secret_masker.register([LOCAL_PRIVATE_KEY])
    assert LOCAL_PRIVATE_KEY not in secret_masker.mask(f"signing with {LOCAL_PRIVATE_KEY}")


def test_a_deployed_stage_must_name_its_node_wallet_and_key():
    with pytest.raises(ConfigurationError) as refused:
        load_tron_settings({"STAGE": "prod"})
    assert "TRON_NODE_URL is missing" in str(refused.value) and "TRON_PRIVATE_KEY_SSM_PARAMETER" in str(refused.value)
    settings = load_tron_settings({"STAGE": "prod", "TRON_NODE_URL": "https://node.example",
                                   "TRON_SHOP_ADDRESS": RECEIVER, "TRON_PRIVATE_KEY_SSM_PARAMETER": "/shop/key"})
    assert settings.key_reader(lambda name: f"read {name}")() == "read /shop/key"
    assert load_tron_settings({"STAGE": "local"}).key_reader(lambda name: "")() == LOCAL_PRIVATE_KEY


@pytest.fixture
def node():
    state = NodeState(lambda: NOW)
    fund_shop(state)
    return state


def client_for(transport: httpx.BaseTransport) -> TronNodeClient:
    return TronNodeClient("http://node", LOCAL_SHOP_ADDRESS, lambda: ShopKey(LOCAL_PRIVATE_KEY), transport=transport,
                          lifetime=timedelta(minutes=5))


def test_a_transfer_is_built_signed_broadcast_and_found(node):
    client = client_for(httpx.WSGITransport(app=create_node_app(node)))
    signed = client.sign(PayoutOrder(PayoutAction.TRANSFER, BUYER_ADDRESSES[0], 5_000_000))
    assert signed.expires_at == NOW + timedelta(minutes=5)
    assert client.lookup(signed.tx_id) is None
    assert client.broadcast(signed) == BroadcastResult.ACCEPTED
    assert client.broadcast(signed) == BroadcastResult.DUPLICATE
    info = client.lookup(signed.tx_id)
    assert info is not None and info.succeeded and info.tx_id == signed.tx_id
    assert client.account(BUYER_ADDRESSES[0]).balance_sun == 6_000_000
    assert client.account("TLsV52sRDL79HXGGm9yzwKibb6BeruhUzy").activated is False


def test_delegating_and_taking_back_energy_moves_the_stake(node):
    client = client_for(httpx.WSGITransport(app=create_node_app(node)))
    before = client.account(LOCAL_SHOP_ADDRESS)
    for action in (PayoutAction.DELEGATE, PayoutAction.UNDELEGATE):
        signed = client.sign(PayoutOrder(action, BUYER_ADDRESSES[1], 6_500_000_000))
        assert client.broadcast(signed) == BroadcastResult.ACCEPTED
        if action == PayoutAction.DELEGATE:
            assert client.account(LOCAL_SHOP_ADDRESS).delegatable_energy_sun == \
                before.delegatable_energy_sun - 6_500_000_000
            assert node.accounts[BUYER_ADDRESSES[1]].acquired_energy_sun == 6_500_000_000
    assert client.account(LOCAL_SHOP_ADDRESS).delegatable_energy_sun == before.delegatable_energy_sun
    assert before.energy_per_trx_micros == 10_000_000


def test_the_node_refuses_what_java_tron_refuses(node):
    client = client_for(httpx.WSGITransport(app=create_node_app(node)))
    too_much = client.sign(PayoutOrder(PayoutAction.TRANSFER, BUYER_ADDRESSES[0], 10**18))
    with pytest.raises(ChainRejected) as refused:
        client.broadcast(too_much)
    assert refused.value.code == "CONTRACT_VALIDATE_ERROR" and "balance is not sufficient" in str(refused.value)
    forged = client.sign(PayoutOrder(PayoutAction.TRANSFER, BUYER_ADDRESSES[0], 1))
    forged.payload["raw_data"]["contract"][0]["parameter"]["value"]["amount"] = 2
    with pytest.raises(ChainRejected) as refused:
        client.broadcast(forged)
    assert refused.value.code == "SIGERROR"


def test_transport_failures_map_to_unreachable_or_unknown():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    def time_out(request):
        raise httpx.ReadTimeout("slow", request=request)
    with pytest.raises(ChainUnreachable):
        client_for(httpx.MockTransport(refuse)).head_time()
    with pytest.raises(ChainOutcomeUnknown):
        client_for(httpx.MockTransport(time_out)).lookup("ab" * 32)
    with pytest.raises(ChainOutcomeUnknown):
        client_for(httpx.MockTransport(lambda request: httpx.Response(502, text="bad gateway"))).head_time()
    busy = httpx.MockTransport(lambda request: httpx.Response(200, json={"code": "SERVER_BUSY"}))
    with pytest.raises(ChainUnreachable):
        client_for(busy).broadcast(type("T", (), {"payload": {}})())   # a busy node took nothing


def test_the_key_is_read_only_when_signing():
    reads = []
    client = TronNodeClient("http://node", LOCAL_SHOP_ADDRESS, lambda: reads.append(1) or ShopKey(LOCAL_PRIVATE_KEY),
                            transport=httpx.MockTransport(lambda request: httpx.Response(200, json={})))
    assert client.lookup("ab" * 32) is None and reads == []
