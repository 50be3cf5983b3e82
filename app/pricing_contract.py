"""The pricing contract: plain, immutable values in and out (no ORM objects cross it).

A layer of its own, just below promotions, shipping and tax (the domains `app.pricing` composes;
pyproject.toml, [tool.importlinter]): its line, destination, discount and tax types are theirs as
much as pricing's, so none of them imports pricing for a type.

Money is Decimal in the tenant's currency. Rounding: every monetary figure is rounded half-up to
the currency's minor unit (`app.core.types.quantize_money`) at the line, once, where it is computed;
totals are sums of rounded lines, so the parts always add up to the whole.

Who calls what:
- cart reads and checkout call `app.pricing.engine.price(request)`; it reads promotions, tax rules
  and shipping methods of the current tenant and returns the priced basket. It writes nothing.
- checkout, inside its own transaction, then calls
  `app.promotions.services.redeem(result.applied_promotions, order_id=..., customer_user_id=...)`,
  which consumes the usage limits with conditional updates (raises `Conflict` code
  "promotion_exhausted" when a limit was reached meanwhile) and records the redemptions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class LineInput:
    """One basket line as the cart or checkout knows it."""

    key: str  # the caller's id for the line (cart item id); echoed back
    variant_id: int
    product_id: int
    seller_id: int
    category_id: int | None  # the product's category (its ancestors are looked up by pricing)
    quantity: int
    unit_price: Decimal  # the variant's current price, as the tenant displays it
    weight_kg: Decimal | None = None


@dataclass(frozen=True)
class Destination:
    country: str  # ISO 3166-1 alpha-2, upper case
    region: str | None = None  # state / province code, if any
    postal_code: str | None = None


@dataclass(frozen=True)
class PricingRequest:
    tenant_id: int
    currency: str
    lines: tuple[LineInput, ...]
    destination: Destination | None = None  # None: no tax or shipping can be computed yet
    coupon_codes: tuple[str, ...] = ()
    customer_user_id: int | None = None  # None for a guest
    customer_roles: frozenset[str] = frozenset()  # e.g. {"Customer", "Premium Customer"}
    is_first_order: bool = False
    shipping_method_ids: dict[int, int] = field(
        default_factory=dict
    )  # seller_id -> chosen method id
    now: dt.datetime | None = None  # defaults to utcnow; fixed in tests


@dataclass(frozen=True)
class LineDiscount:
    promotion_id: int
    code: str | None  # the coupon code, None for an automatic promotion
    amount: Decimal  # > 0, already rounded; the sum over a line never exceeds its subtotal
    funded_by: str  # "platform" or "seller"


@dataclass(frozen=True)
class TaxComponent:
    rule_id: int
    name: str  # e.g. "VAT FR 20%"
    rate: Decimal  # 0.2000 for 20 %
    amount: Decimal


@dataclass(frozen=True)
class PricedLine:
    key: str
    variant_id: int
    seller_id: int
    quantity: int
    unit_price: Decimal
    subtotal: Decimal  # unit_price * quantity, rounded
    discounts: tuple[LineDiscount, ...]
    discount_total: Decimal
    taxable_amount: Decimal  # subtotal - discount_total (net of tax when prices include tax)
    tax: tuple[TaxComponent, ...]
    tax_total: Decimal
    total: Decimal  # what the buyer pays for the line: exclusive -> taxable + tax;
    # inclusive -> subtotal - discount_total (tax is inside it)


@dataclass(frozen=True)
class ShippingQuote:
    seller_id: int
    method_id: int | None  # None when no method serves the destination
    method_name: str | None
    carrier: str | None  # adapter code, e.g. "manual"
    cost: Decimal  # after free-over thresholds and free-shipping promotions
    free_shipping_promotion_id: int | None = None
    tax: tuple[TaxComponent, ...] = ()
    tax_total: Decimal = Decimal("0")


@dataclass(frozen=True)
class AppliedPromotion:
    promotion_id: int
    code: str | None
    discount_total: Decimal  # over lines and shipping


@dataclass(frozen=True)
class PricingResult:
    currency: str
    prices_include_tax: bool
    lines: tuple[PricedLine, ...]
    shipping: tuple[ShippingQuote, ...]  # one per seller present in the basket
    applied_promotions: tuple[AppliedPromotion, ...]
    rejected_coupons: dict[str, str]  # code -> why ("unknown", "expired", "min_subtotal", ...)
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    shipping_total: Decimal
    total: Decimal  # what the buyer pays

    def seller_ids(self) -> list[int]:
        return sorted({line.seller_id for line in self.lines})
