"""A fake TRON full node for the local stack and the tests: the HTTP API the shop's adapter calls, with
accounts, balances, staked energy and delegations, transaction lookup and injected faults (a timeout after
the node took a transaction or before, a transaction held back or dropped, a busy node). `state` holds the
chain, `server` serves it; `local` sets it up for the shop's fixed local key."""
from __future__ import annotations

from devstack.tron_node.server import NodeServer, create_node_app, serve_node
from devstack.tron_node.state import NodeState, energy_for_sun

__all__ = ["NodeServer", "NodeState", "create_node_app", "energy_for_sun", "serve_node"]
