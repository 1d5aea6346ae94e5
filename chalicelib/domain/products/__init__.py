"""Products as plug-ins. Each order kind is one module here that declares its catalog entries, how a
buyer's choice is validated and priced, which queue carries a paid order, which notices its states send
and (with a `Fulfiller`) what fulfilment does. The worker, the bot, the buyer API, expiry and repair look
a product up by kind in the `ProductRegistry`; nothing outside a product's module branches on a kind.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Protocol

from pydantic import BaseModel, ConfigDict

from chalicelib.domain import ledger
from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.domain.orders import Order
from chalicelib.domain.queues import DELIVERY_QUEUE


BUYERS = "buyers"                    # who may order a product from its catalog entries
DISTRIBUTORS = "distributors"
NOBODY = "nobody"                    # made by the shop itself (a gift prepaid by a redeemed code)


@dataclass(frozen=True)
class Offer:
    """One catalog entry: what is sold under `product_id`, at what price now."""

    product_id: str
    kind: str
    price_micros: int
    currency: str = "USDT"
    facts: Mapping[str, Any] = field(default_factory=dict)   # e.g. {"month_count": 3}


@dataclass(frozen=True)
class OrderDraft:
    """A priced order before a payment method opens it."""

    kind: str
    owner_id: str
    product_id: str
    base_micros: int
    currency: str = "USDT"
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Buyer:
    user_id: int
    language: str | None = None


@dataclass(frozen=True)
class NoticeRules:
    """Which order events a product's buyer hears about in a new message; `edits_payment_message`: the
    message that showed the order is edited to each new status; `tells_recipient`: a gift's recipient
    hears about its delivery; `texts`: the product's own wording (message keys `event.<texts>.<event>`),
    where it has one; the shop's neutral wording otherwise."""

    announced: frozenset[str] = frozenset()
    edits_payment_message: bool = False
    tells_recipient: bool = False
    texts: str | None = None


class NoChoice(BaseModel):
    """A product whose buyer chooses nothing beyond the catalog entry."""

    model_config = ConfigDict(extra="forbid")


class Product:
    """The declaration every product module subclasses. Class attributes are the defaults."""

    kind: ClassVar[str]
    queue: ClassVar[str] = DELIVERY_QUEUE
    audience: ClassVar[str] = BUYERS
    resumable: ClassVar[bool] = False          # stuck DELIVERING: queue again (True) or flag for review
    notices: ClassVar[NoticeRules] = NoticeRules()
    # Placing an order from the catalog builds every product; a product that sells rarely (TRON's, the top-up)
    # declares its choice with defer_build=True, so its validator is built on its first order instead.
    choice: ClassVar[type[BaseModel]] = NoChoice
    payment_methods: ClassVar[frozenset[str] | None] = None   # the methods that may pay it (None: every one)

    def offers(self) -> list[Offer]:
        return []

    def draft(self, buyer: Buyer, offer: Offer, choice: BaseModel) -> OrderDraft:
        raise NotFound(f"product_id {offer.product_id!r} cannot be ordered", code="PRODUCT_NOT_FOUND",
                       field="product_id")

    def default_settings(self) -> dict[str, Any]:
        """The live settings (by id) this product starts with in a new environment."""
        return {}

    def facts(self, order: Order) -> dict[str, Any]:
        """What answers about an order of this kind show besides the common fields."""
        return {}

    def settles_to(self, owner_id: str, currency: str) -> str:
        """The ledger account an order's price goes to when it is paid: the product's revenue."""
        return ledger.revenue(self.kind, currency)

    def check_method(self, method: str) -> None:
        if self.payment_methods is not None and method not in self.payment_methods:
            offered = ", ".join(sorted(self.payment_methods))
            raise ValidationFailed(f"payment_method must be one of: {offered} for this product",
                                   code="PAYMENT_METHOD_NOT_ACCEPTED", field="payment_method")


class Fulfiller(Protocol):
    def fulfil(self, order_id: str) -> Order | None:
        """Carry a paid order on; at most once per order, whatever is retried or raced."""


class ProductRegistry:
    """Every product by kind. An entry is a product, or a function that builds it on the first lookup of its
    kind (`built_on_lookup`): serving one order builds and imports that order's product only. What lists every
    product (the catalog, the queues, the default settings) builds them all."""

    def __init__(self, products: tuple[Product, ...] = (), *,
                 built_on_lookup: Mapping[str, Callable[[], Product]] | None = None) -> None:
        self._builders: dict[str, Callable[[], Product]] = {}
        self._by_kind: dict[str, Product] = {}
        for product in products:
            self.register(product)
        for kind, build in (built_on_lookup or {}).items():
            self.register_built_on_lookup(kind, build)

    def register(self, product: Product) -> None:
        self.register_built_on_lookup(product.kind, lambda: product)

    def register_built_on_lookup(self, kind: str, build: Callable[[], Product]) -> None:
        if kind in self._builders:
            raise ValueError(f"product kind {kind} is registered twice")
        self._builders[kind] = build

    def by_kind(self, kind: str) -> Product:
        product = self._by_kind.get(kind)
        if product is not None:
            return product
        build = self._builders.get(kind)
        if build is None:
            raise LookupError(f"no product is registered for kind {kind!r}")
        product = build()
        if product.kind != kind:
            raise ValueError(f"the product registered as kind {kind!r} is of kind {product.kind!r}")
        self._by_kind[kind] = product
        return product

    def built_kinds(self) -> frozenset[str]:
        """The kinds whose product has been built so far."""
        return frozenset(self._by_kind)

    def all(self) -> tuple[Product, ...]:
        return tuple(self.by_kind(kind) for kind in self._builders)

    def default_settings(self) -> dict[str, Any]:
        return {setting_id: value for product in self.all()
                for setting_id, value in product.default_settings().items()}

    def settles_to(self, kind: str, owner_id: str, currency: str) -> str:
        return self.by_kind(kind).settles_to(owner_id, currency)

    def queue_of(self, kind: str) -> str:
        return self.by_kind(kind).queue

    def queues(self) -> frozenset[str]:
        return frozenset(product.queue for product in self.all())

    def offers(self, audience: str = BUYERS) -> list[Offer]:
        return [offer for product in self.all() if product.audience == audience
                for offer in product.offers()]

    def offer(self, product_id: str, audience: str = BUYERS) -> tuple[Product, Offer]:
        for product in self.all():
            if product.audience != audience:
                continue
            for offer in product.offers():
                if offer.product_id == product_id:
                    return product, offer
        raise NotFound(f"product_id {product_id!r} is not in the catalog", code="PRODUCT_NOT_FOUND",
                       field="product_id")


class FulfilmentRouter:
    """The worker's half of the registry: the fulfiller of each kind, built on the first order of its kind.
    Each worker function meets only its own kinds and is given only their settings and secrets (the code
    pack worker has no TRON node or key), so building every fulfiller up front would fail there."""

    def __init__(self, builders: Mapping[str, Callable[[], Fulfiller]] | None = None) -> None:
        self._builders: dict[str, Callable[[], Fulfiller]] = dict(builders or {})
        self._built: dict[str, Fulfiller] = {}

    def register(self, kind: str, fulfiller: Fulfiller) -> None:
        self._builders.pop(kind, None)
        self._built[kind] = fulfiller

    def fulfil(self, kind: str, order_id: str) -> Order | None:
        fulfiller = self._built.get(kind)
        if fulfiller is None:
            builder = self._builders.get(kind)
            if builder is None:
                raise LookupError(f"no fulfiller is registered for kind {kind!r}")
            fulfiller = self._built[kind] = builder()
        return fulfiller.fulfil(order_id)
