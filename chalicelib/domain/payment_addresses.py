"""The USDT-TRC20 addresses buyers pay to, in the live setting "payment_addresses": the live ones (new orders'
unique amounts are spread over them) and the retired ones (no new order goes there, but a transfer to one is
still ours: an order that was given it can be paid late, and a stray sum lands in suspense, not in "not our
address"). Until an owner saves the list from the panel, the deployment's PAYMENT_ADDRESSES is the list
(docs/decisions.md, "Payment addresses are a live setting").

Changes are made by an owner, checked as a whole (base58check, the validator buyers' addresses get; never the
automatic swap address; at least one live address), written through the catalog desk's versioned, audited
path and taken up by the payment webhook and the unique amounts within the settings cache time."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.live_settings import LiveSettings
from chalicelib.domain.ports.panel import VersionedSettingsStore
from chalicelib.domain.tron import is_valid_tron_address

if TYPE_CHECKING:   # an admin route's caller; the distributors load with their own routes
    from chalicelib.domain.distributors import AdminActor

SETTING = "payment_addresses"
MAX_LIVE = 20


@dataclass(frozen=True)
class AddressBook:
    live: tuple[str, ...]
    retired: tuple[str, ...] = ()

    @property
    def known(self) -> frozenset[str]:
        """Every address a transfer to is ours: the live ones and the retired ones."""
        return frozenset(self.live) | frozenset(self.retired)

    def as_setting(self) -> dict[str, list[str]]:
        return {"live": list(self.live), "retired": list(self.retired)}


def parse_book(stored: Any, seed: tuple[str, ...]) -> AddressBook:
    if isinstance(stored, dict) and stored.get("live"):
        return AddressBook(tuple(stored["live"]), tuple(stored.get("retired") or ()))
    return AddressBook(tuple(seed))


class PaymentAddresses:
    """The addresses as the payment method and the webhook read them, through the settings cache."""

    def __init__(self, settings: LiveSettings, seed: tuple[str, ...]) -> None:
        self._settings = settings
        self.seed = seed

    def book(self) -> AddressBook:
        return self._settings.get(SETTING, lambda stored: parse_book(stored, self.seed))

    def live(self) -> tuple[str, ...]:
        return self.book().live

    def known(self) -> frozenset[str]:
        return self.book().known


class AddressDesk:
    """An owner's changes to the list: add, replace (the old one retires in the new one's place), retire."""

    def __init__(self, store: VersionedSettingsStore, addresses: PaymentAddresses, writer: Any,
                 reserved: frozenset[str] = frozenset()) -> None:
        self._store = store
        self._addresses = addresses
        self._writer = writer          # CatalogDesk: the versioned, audited write
        self._reserved = reserved      # the automatic swap address: a transfer there is a swap, never a payment

    def current(self) -> tuple[AddressBook, str]:
        stored, version = self._store.versioned(SETTING)
        return parse_book(stored, self._addresses.seed), version

    def add(self, actor: AdminActor, address: str, version: str) -> AddressBook:
        book, _ = self.current()
        new = self._checked("address", address, book)
        if len(book.live) >= MAX_LIVE:
            raise ValidationFailed(f"address: at most {MAX_LIVE} live addresses", code="ADDRESSES_FULL",
                                   field="address")
        return self._save(actor, AddressBook((*book.live, new), _without(book.retired, new)), book, version)

    def replace(self, actor: AdminActor, old: str, address: str, version: str) -> AddressBook:
        book, _ = self.current()
        _live_one("old", old, book)
        new = self._checked("address", address, book)
        live = tuple(new if given == old else given for given in book.live)
        return self._save(actor, AddressBook(live, (*_without(book.retired, new), old)), book, version)

    def retire(self, actor: AdminActor, address: str, version: str) -> AddressBook:
        book, _ = self.current()
        _live_one("address", address, book)
        if len(book.live) == 1:
            raise Conflict("address: the last live address cannot be retired; add another one first",
                           code="LAST_ADDRESS", field="address")
        return self._save(actor, AddressBook(_without(book.live, address), (*book.retired, address)), book, version)

    def _checked(self, field: str, address: str, book: AddressBook) -> str:
        address = address.strip()
        if not is_valid_tron_address(address):
            raise ValidationFailed(f"{field}: is not a valid TRON address (base58check, starting with T)",
                                   code="ADDRESS_INVALID", field=field)
        if address in self._reserved:
            raise ValidationFailed(f"{field}: is the automatic swap address", code="ADDRESS_RESERVED", field=field)
        if address in book.live:
            raise Conflict(f"{field}: {address} is live already", code="ADDRESS_IN_USE", field=field)
        return address

    def _save(self, actor: AdminActor, book: AddressBook, before: AddressBook, version: str) -> AddressBook:
        self._writer.write(actor, SETTING, book.as_setting(), version, shown_before=before.as_setting())
        return book


def _live_one(field: str, address: str, book: AddressBook) -> None:
    if address not in book.live:
        raise ValidationFailed(f"{field}: {address} is not a live payment address", code="ADDRESS_NOT_LIVE",
                               field=field)


def _without(addresses: tuple[str, ...], address: str) -> tuple[str, ...]:
    return tuple(given for given in addresses if given != address)
