"""What the basket pricing use cases take (built by the faces from what they validated)."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.pricing_contract import Destination


@dataclass(frozen=True)
class BasketItem:
    variant_id: int
    quantity: int


@dataclass(frozen=True)
class CouponQuestion:
    """What a coupon takes off these lines (delivered to `destination`, when given)."""

    code: str
    lines: tuple[BasketItem, ...]
    destination: Destination | None = None


@dataclass(frozen=True)
class ShippingQuestion:
    """The shipping quotes of these lines at `destination`, with these coupons; per seller id, the
    method chosen (default: the cheapest)."""

    lines: tuple[BasketItem, ...]
    destination: Destination
    coupon_codes: tuple[str, ...] = ()
    shipping_method_ids: dict[int, int] = field(default_factory=dict)
