"""A TRON full node's HTTP API (java-tron `/wallet/*`, as TronGrid serves it), the shop's side of it.

Transactions are built and their ids computed here (encoding.py), tied to the node's newest block, with a
lifetime the shop chooses; only the signed transaction goes to the node. A request that never connected is
`ChainUnreachable`; one that may have been acted on (timeout after sending, 5xx, an unreadable answer) is
`ChainOutcomeUnknown`: the caller looks the id up instead of guessing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import httpx

from chalicelib.adapters.tron import encoding
from chalicelib.adapters.tron.keys import ShopKey
from chalicelib.domain.tron import address_to_bytes
from chalicelib.domain.ports.tron import (AccountState, BroadcastResult, ChainOutcomeUnknown, ChainRejected,
                                         ChainUnreachable, PayoutAction, PayoutOrder, SignedTransaction,
                                         TransactionInfo)

# Broadcast answers that say the node did not take the transaction this time but may later.
USDT_CONTRACT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
DEFAULT_FEE_LIMIT_SUN = 30_000_000      # a USDT transfer burns about 14 TRX without energy; never more than 30
_BUSY_CODES = frozenset({"SERVER_BUSY", "NOT_ENOUGH_EFFECTIVE_CONNECTION", "NO_CONNECTION", "BLOCK_UNSOLIDIFIED"})


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _from_millis(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


def _decoded(message: str) -> str:
    try:   # java-tron hex-encodes the message of a refused broadcast
        return bytes.fromhex(message).decode("utf-8", "replace")
    except ValueError:
        return message


class TronNodeClient:
    def __init__(self, base_url: str, shop_address: str, key: Callable[[], ShopKey], *, api_key: str | None = None,
                 timeout_seconds: float = 10.0, lifetime: timedelta = timedelta(minutes=5),
                 usdt_contract: str = USDT_CONTRACT, fee_limit_sun: int = DEFAULT_FEE_LIMIT_SUN,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._base_url = base_url.rstrip("/")
        self._shop_address = shop_address
        self._key = key                       # read from SSM on first signature, never before
        self._headers = {"TRON-PRO-API-KEY": api_key} if api_key else {}
        self._timeout = httpx.Timeout(timeout_seconds, connect=min(3.0, timeout_seconds))
        self._lifetime = lifetime
        self._usdt_contract = usdt_contract
        self._fee_limit_sun = fee_limit_sun
        self._transport = transport
        self._client: httpx.Client | None = None

    @property
    def shop_address(self) -> str:
        return self._shop_address

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if self._client is None:
            self._client = httpx.Client(timeout=self._timeout, transport=self._transport, headers=self._headers)
        try:
            response = self._client.post(f"{self._base_url}/{path}", json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise ChainUnreachable(f"{path}: {error}") from None
        except httpx.HTTPError as error:
            raise ChainOutcomeUnknown(f"{path}: {error}") from None
        if response.status_code >= 400:
            raise ChainOutcomeUnknown(f"{path}: HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise ChainOutcomeUnknown(f"{path}: the answer is not JSON") from None
        return answer if isinstance(answer, dict) else {}

    def _now_block(self) -> tuple[str, datetime]:
        block = self._post("wallet/getnowblock", {"visible": True})
        try:
            return block["blockID"], _from_millis(int(block["block_header"]["raw_data"]["timestamp"]))
        except (KeyError, TypeError, ValueError):
            raise ChainOutcomeUnknown("wallet/getnowblock: no block in the answer") from None

    def head_time(self) -> datetime:
        return self._now_block()[1]

    def sign(self, payout: PayoutOrder, variant: int = 0) -> SignedTransaction:
        block_id, head = self._now_block()
        expires_at = head + self._lifetime
        fee_limit = self._fee_limit_sun if payout.action == PayoutAction.TOKEN_TRANSFER else 0
        # The variant moves the timestamp by milliseconds: two payouts of one instruction in one block differ
        raw_data = encoding.raw_data(self._contract(payout), block_id, _millis(head) + variant, _millis(expires_at),
                                     fee_limit)
        tx_id = encoding.transaction_id(raw_data)
        payload = {"txID": tx_id, "raw_data": raw_data, "raw_data_hex": encoding.encode_raw_data(raw_data).hex(),
                   "signature": [self._key().sign(tx_id)], "visible": True}
        return SignedTransaction(tx_id, payload, expires_at)

    def _contract(self, payout: PayoutOrder) -> dict[str, Any]:
        owner = self._shop_address
        if payout.action == PayoutAction.TRANSFER:
            return encoding.contract("TransferContract", {"owner_address": owner, "to_address": payout.to_address,
                                                          "amount": payout.amount_sun})
        if payout.action == PayoutAction.TOKEN_TRANSFER:
            return encoding.contract("TriggerSmartContract", {
                "owner_address": owner, "contract_address": self._usdt_contract,
                "data": encoding.trc20_transfer_data(payout.to_address, payout.amount_sun)})
        kind = "DelegateResourceContract" if payout.action == PayoutAction.DELEGATE else "UnDelegateResourceContract"
        return encoding.contract(kind, {"owner_address": owner, "receiver_address": payout.to_address,
                                        "balance": payout.amount_sun, "resource": "ENERGY"})

    def broadcast(self, transaction: SignedTransaction) -> BroadcastResult:
        answer = self._post("wallet/broadcasttransaction", transaction.payload)
        if answer.get("result") is True:
            return BroadcastResult.ACCEPTED
        code = str(answer.get("code", "OTHER_ERROR"))
        if code == "DUP_TRANSACTION_ERROR":
            return BroadcastResult.DUPLICATE
        if code == "TRANSACTION_EXPIRATION_ERROR":
            return BroadcastResult.EXPIRED
        if code in _BUSY_CODES:
            raise ChainUnreachable(f"broadcast refused for now: {code}")
        raise ChainRejected(code, _decoded(str(answer.get("message", ""))))

    def lookup(self, tx_id: str) -> TransactionInfo | None:
        info = self._post("wallet/gettransactioninfobyid", {"value": tx_id})
        if not info.get("id") or "blockNumber" not in info:
            return None
        result = str(info.get("receipt", {}).get("result") or info.get("result") or "SUCCESS")
        return TransactionInfo(tx_id, result == "SUCCESS", int(info.get("fee", 0)),
                               _from_millis(int(info.get("blockTimeStamp", 0))), result)

    def account(self, address: str) -> AccountState:
        account = self._post("wallet/getaccount", {"address": address, "visible": True})
        if not account.get("address"):
            return AccountState(address, activated=False, balance_sun=0)
        resources = self._post("wallet/getaccountresource", {"address": address, "visible": True})
        delegatable = self._post("wallet/getcandelegatedmaxsize", {"owner_address": address, "type": 1,
                                                                   "visible": True})
        argument = address_to_bytes(address)[1:].rjust(32, b"\0").hex()
        balance_of = self._post("wallet/triggerconstantcontract", {
            "owner_address": address, "contract_address": self._usdt_contract,
            "function_selector": "balanceOf(address)", "parameter": argument, "visible": True})
        usdt = int((balance_of.get("constant_result") or ["0"])[0] or "0", 16)
        weight = int(resources.get("TotalEnergyWeight", 0))
        per_trx = int(resources.get("TotalEnergyLimit", 0)) * 1_000_000 // weight if weight else 0
        return AccountState(address, activated=True, balance_sun=int(account.get("balance", 0)),
                            energy_limit=int(resources.get("EnergyLimit", 0)),
                            energy_used=int(resources.get("EnergyUsed", 0)),
                            delegatable_energy_sun=int(delegatable.get("max_size", 0)),
                            energy_per_trx_micros=per_trx, usdt_micros=usdt)
