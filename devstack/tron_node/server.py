"""The fake node over HTTP: java-tron's `/wallet/*` paths the shop's adapter calls, and `/_node/*` controls
for tests and the local stack (fund an account, inject a fault, mine held transactions, read what happened)."""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any, Callable

import flask
from werkzeug.serving import make_server

from devstack.tron_node.state import TOTAL_ENERGY_LIMIT, TOTAL_ENERGY_WEIGHT, NodeState, energy_for_sun


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def create_node_app(state: NodeState | None = None, now: Callable[[], datetime] = _utc_now) -> flask.Flask:
    node = state or NodeState(now)
    app = flask.Flask("tron_node")
    app.config["node"] = node

    def body() -> dict[str, Any]:
        data = flask.request.get_json(silent=True, force=True)
        return data if isinstance(data, dict) else {}

    @app.post("/wallet/getnowblock")
    def now_block():
        number = node.head_number()
        return {"blockID": node.block_id(number),
                "block_header": {"raw_data": {"number": number, "timestamp": node.head_ms()}}}

    @app.post("/wallet/broadcasttransaction")
    def broadcast():
        status, answer = node.broadcast(body())
        return flask.jsonify(answer), status

    @app.post("/wallet/gettransactioninfobyid")
    def transaction_info():
        return node.transaction_info(str(body().get("value", "")))

    @app.post("/wallet/gettransactionbyid")
    def transaction():
        return node.transaction(str(body().get("value", "")))

    @app.post("/wallet/getaccount")
    def account():
        with node.lock:
            found = node.accounts.get(str(body().get("address", "")))
            if found is None:
                return {}
            answer: dict[str, Any] = {"address": found.address, "balance": found.balance_sun}
            if found.staked_energy_sun:
                answer["frozenV2"] = [{}, {"type": "ENERGY", "amount": found.staked_energy_sun}]
            if found.delegated_out:
                answer["account_resource"] = {
                    "delegated_frozenV2_balance_for_energy": sum(found.delegated_out.values())}
            return answer

    @app.post("/wallet/getaccountresource")
    def account_resource():
        with node.lock:
            found = node.accounts.get(str(body().get("address", "")))
            if found is None:
                return {}
            own = found.staked_energy_sun - sum(found.delegated_out.values()) + found.acquired_energy_sun
            return {"EnergyLimit": energy_for_sun(own), "TotalEnergyLimit": TOTAL_ENERGY_LIMIT,
                    "TotalEnergyWeight": TOTAL_ENERGY_WEIGHT, "freeNetLimit": 600}

    @app.post("/wallet/getcandelegatedmaxsize")
    def delegatable():
        with node.lock:
            found = node.accounts.get(str(body().get("owner_address", "")))
            return {"max_size": node.delegatable(found)} if found and node.delegatable(found) > 0 else {}

    @app.post("/wallet/triggerconstantcontract")
    def constant_call():
        request = body()
        if request.get("function_selector") != "balanceOf(address)":
            return {"result": {"code": "CONTRACT_VALIDATE_ERROR", "message": "only balanceOf is emulated"}}
        with node.lock:
            found = node.accounts.get(str(request.get("owner_address", "")))
            balance = found.tokens.get(str(request.get("contract_address", "")), 0) if found else 0
        return {"result": {"result": True}, "constant_result": [format(balance, "064x")]}

    @app.post("/wallet/getdelegatedresourcev2")
    def delegated():
        request = body()
        with node.lock:
            found = node.accounts.get(str(request.get("fromAddress", "")))
            balance = found.delegated_out.get(str(request.get("toAddress", "")), 0) if found else 0
        if not balance:
            return {}
        return {"delegatedResource": [{"from": request.get("fromAddress"), "to": request.get("toAddress"),
                                       "frozen_balance_for_energy": balance}]}

    # ------------------------------------------------------------------ controls
    @app.post("/_node/accounts")
    def fund():
        request = body()
        found = node.fund(str(request["address"]), request.get("balance_sun"), public_key=request.get("public_key"),
                          staked_energy_sun=request.get("staked_energy_sun"))
        return {"address": found.address, "balance_sun": found.balance_sun}

    @app.post("/_node/faults")
    def fault():
        request = body()
        node.inject(str(request["kind"]), int(request.get("times", 1)))
        return {"faults": [vars(fault) for fault in node.faults]}

    @app.post("/_node/mine")
    def mine():
        return {"landed": node.mine()}

    @app.get("/_node/state")
    def state_view():
        with node.lock:
            return {"head_ms": node.head_ms(), "broadcasts": node.broadcasts, "landed": list(node.landed),
                    "held": list(node.held), "dropped": sorted(node.dropped),
                    "accounts": {address: {"balance_sun": account.balance_sun,
                                           "staked_energy_sun": account.staked_energy_sun,
                                           "delegated_out": account.delegated_out,
                                           "acquired_energy_sun": account.acquired_energy_sun,
                                           "tokens": account.tokens}
                                 for address, account in node.accounts.items()}}

    return app


class NodeServer:
    """The fake node served over real HTTP from a daemon thread."""

    def __init__(self, host: str, port: int, app: flask.Flask) -> None:
        self.app = app
        self.state: NodeState = app.config["node"]
        self._server = make_server(host, port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="tron-node", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_node(host: str, port: int, state: NodeState | None = None) -> NodeServer:
    return NodeServer(host, port, create_node_app(state))
