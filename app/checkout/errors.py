"""The error codes of checkout (a reused Idempotency-Key is payments' own code)."""

from __future__ import annotations

from app.core.errors import ErrorCode


class CheckoutError(ErrorCode):
    CART_EMPTY = "cart_empty", 409, "the cart is empty"
    ITEM_UNAVAILABLE = (
        "item_unavailable",
        409,
        "some items of the cart are no longer sold; remove them",
    )
    NO_SHIPPING_METHOD = (
        "no_shipping_method",
        409,
        "no shipping method serves the address for some sellers' items",
    )
    PRICING_MISMATCH = "pricing_mismatch", 409, "the order's totals do not add up (internal check)"
