"""What checkout takes (built by the faces from what they validated)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.core.inputs import UNSET, Unset
from app.customers.inputs import AddressInput


@dataclass(frozen=True)
class ShippingChoice:
    """The shipping method chosen for one seller's parcel."""

    seller_id: int
    method_id: int


@dataclass(frozen=True)
class PaymentChoice:
    """Start paying at checkout: the method and the gateway's details as sent (a test card, a
    Stripe PaymentMethod id; none for bank transfer and cash on delivery)."""

    method: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckoutInput:
    """A checkout: ship to `address_id` (one of the customer's saved addresses) or to
    `shipping_address`; a guest gives its `email`. UNSET: not sent (`notes` sent as None is a
    value), which the Idempotency-Key's fingerprint tells apart."""

    email: str | Unset = UNSET
    address_id: int | Unset = UNSET
    shipping_address: AddressInput | Unset = UNSET
    coupon_codes: tuple[str, ...] = ()
    shipping_methods: tuple[ShippingChoice, ...] = ()
    notes: str | None | Unset = UNSET
    payment: PaymentChoice | Unset = UNSET

    def fingerprint_fields(self) -> dict[str, Any]:
        """What the Idempotency-Key's request hash is of: exactly the dict the API's schema loaded
        before checkout took this input (keys stored then still replay): a field not sent is
        absent (not None), within the address too; coupon codes and shipping methods are always
        there (as lists), and so are the payment's details when a payment is."""
        out: dict[str, Any] = {
            "coupon_codes": list(self.coupon_codes),
            "shipping_methods": [
                {"seller_id": m.seller_id, "method_id": m.method_id} for m in self.shipping_methods
            ],
        }
        if self.email is not UNSET:
            out["email"] = self.email
        if self.address_id is not UNSET:
            out["address_id"] = self.address_id
        if self.shipping_address is not UNSET:
            out["shipping_address"] = self.shipping_address.given()
        if self.notes is not UNSET:
            out["notes"] = self.notes
        if self.payment is not UNSET:
            out["payment"] = {"method": self.payment.method, "details": dict(self.payment.details)}
        return out
