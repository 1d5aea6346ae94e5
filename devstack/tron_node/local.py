"""The local chain's starting point: the shop's hot wallet (the fixed local key) funded and staked, and a
few buyer addresses that exist, so `make run` and the tests pay out at once."""
from __future__ import annotations

from chalicelib.adapters.tron.keys import ShopKey
from chalicelib.config import DEFAULT_USDT_CONTRACT
from chalicelib.domain.tron import tron_address_from_account_bytes
from chalicelib.tron_config import LOCAL_PRIVATE_KEY, LOCAL_SHOP_ADDRESS
from devstack.tron_node.server import NodeServer, serve_node
from devstack.tron_node.state import NodeState

SHOP_TRX_SUN = 100_000 * 1_000_000
SHOP_USDT_MICROS = 20_000 * 1_000_000
SHOP_STAKED_SUN = 1_000_000 * 1_000_000          # ten million energy at ten a TRX
BUYER_ADDRESSES = tuple(tron_address_from_account_bytes(f"local-buyer-wallet-{n}".encode()) for n in range(1, 4))


def fund_shop(state: NodeState, *, balance_sun: int = SHOP_TRX_SUN, staked_sun: int = SHOP_STAKED_SUN,
              usdt_micros: int = SHOP_USDT_MICROS, usdt_contract: str = DEFAULT_USDT_CONTRACT) -> None:
    state.fund(LOCAL_SHOP_ADDRESS, balance_sun, public_key=ShopKey(LOCAL_PRIVATE_KEY).public_key_hex,
               staked_energy_sun=staked_sun, tokens={usdt_contract: usdt_micros})
    for address in BUYER_ADDRESSES:
        state.fund(address, 1_000_000)


def serve_local_node(host: str, port: int) -> NodeServer:
    """The local stack's chain on real time, over HTTP, with the shop funded."""
    from datetime import datetime, timezone

    state = NodeState(lambda: datetime.now(timezone.utc))
    fund_shop(state)
    return serve_node(host, port, state)
