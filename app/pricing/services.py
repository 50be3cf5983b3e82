"""Pricing use cases of the storefront that price a basket they are sent (not a cart): what a
coupon takes off it (/promotions/apply-coupon/) and its shipping quotes (/shipping/calculate/).

Both price the basket with `engine.price`, so item discounts, free-over thresholds, free-shipping
promotions and tax are the same as in the cart and at checkout. They compose promotions, shipping
and tax, so they live here, above those three (which pricing composes), not in any one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.core.errors import Conflict, ValidationError
from app.core.views import view_of
from app.extensions import db
from app.pricing import basket
from app.pricing.engine import price
from app.pricing.errors import PricingError
from app.pricing.inputs import CouponQuestion, ShippingQuestion
from app.promotions.apply import normalize_code
from app.promotions.errors import PromotionError
from app.promotions.models import Promotion
from app.security.actor import Actor
from app.shipping import quotes

ZERO = Decimal("0")
# why a coupon was refused -> a 409 promotion_exhausted rather than a 422
_LIMIT_REASONS = {"exhausted", "customer_limit"}


@dataclass(frozen=True)
class CouponLine:
    variant_id: int
    discount: Decimal  # what this coupon takes off the line


@dataclass(frozen=True)
class CouponResult:
    """What a coupon takes off a basket, and the basket's totals with it (the pricing result's
    subtotal, shipping, tax and total)."""

    code: str
    promotion_id: int
    name: str
    kind: str
    discount_total: Decimal  # this coupon's, over lines and shipping
    lines: tuple[CouponLine, ...]
    free_shipping: bool
    subtotal: Decimal
    basket_discount_total: Decimal  # item discounts of every promotion
    shipping_total: Decimal
    tax_total: Decimal
    total: Decimal


@dataclass(frozen=True)
class SellerShipping:
    """One seller's parcel: its goods and weight, the chosen (or cheapest) method's quote (the
    engine's ShippingQuote) and every option offered."""

    seller_id: int
    goods_amount: Decimal
    weight_kg: Decimal
    method_id: int | None
    method_name: str | None
    carrier: str | None
    cost: Decimal
    tax_total: Decimal
    free_shipping_promotion_id: int | None
    options: tuple[quotes.MethodOption, ...]


@dataclass(frozen=True)
class ShippingCalculation:
    currency: str
    prices_include_tax: bool
    sellers: tuple[SellerShipping, ...]
    shipping_total: Decimal


def apply_coupon(actor: Actor | None, data: CouponQuestion) -> CouponResult:
    """What a coupon takes off a basket, with the automatic promotions applied too. A coupon that
    cannot apply is a 422 `coupon_not_applicable` (or 409 `promotion_exhausted` when its usage
    limit is reached, 409 `coupon_not_combinable` when a non-stackable promotion excludes it),
    with the reason in details."""
    code = normalize_code(data.code)
    request = basket.request_for(
        actor, data.lines, destination=data.destination, coupon_codes=(code,)
    )
    result = price(request)
    reason = result.rejected_coupons.get(code)
    if reason in _LIMIT_REASONS:
        raise Conflict(
            "this coupon has no use left",
            code=PromotionError.PROMOTION_EXHAUSTED,
            details={"code": reason},
        )
    if reason == "not_combinable":
        raise Conflict(
            "this coupon does not combine with a promotion already applied",
            code=PricingError.COUPON_NOT_COMBINABLE,
            details={"code": reason},
        )
    if reason is not None:
        raise ValidationError(
            "this coupon does not apply to this basket",
            code=PricingError.COUPON_NOT_APPLICABLE,
            details={"code": reason},
        )
    (applied,) = [a for a in result.applied_promotions if a.code == code]
    promotion = db.session.get(Promotion, applied.promotion_id)
    return view_of(
        CouponResult,
        result,
        code=code,
        promotion_id=promotion.id,
        name=promotion.name,
        kind=promotion.kind,
        discount_total=applied.discount_total,  # this coupon's; the basket's is below
        lines=tuple(
            view_of(
                CouponLine,
                pl,
                discount=sum(
                    (d.amount for d in pl.discounts if d.promotion_id == promotion.id), Decimal("0")
                ),
            )
            for pl in result.lines
        ),
        free_shipping=promotion.kind == "free_shipping",
        basket_discount_total=result.discount_total,
    )


def calculate_shipping(actor: Actor | None, data: ShippingQuestion) -> ShippingCalculation:
    """Shipping quotes of a basket, one shipment per seller (costs: `app.shipping.quotes`): the
    chosen (or cheapest) method and every option offered, after free-over thresholds and
    free-shipping promotions."""
    request = basket.request_for(
        actor,
        data.lines,
        destination=data.destination,
        coupon_codes=data.coupon_codes,
        shipping_method_ids=data.shipping_method_ids,
    )
    result = price(request)
    methods = quotes.load_methods(request.destination)
    weights: dict[int, Decimal] = {}
    for line in request.lines:
        weights[line.seller_id] = (
            weights.get(line.seller_id, ZERO) + (line.weight_kg or ZERO) * line.quantity
        )
    sellers = []
    for quote in result.shipping:
        goods = sum(
            (
                pl.subtotal - pl.discount_total
                for pl in result.lines
                if pl.seller_id == quote.seller_id
            ),
            ZERO,
        )
        options = quotes.options_for(methods, quote.seller_id, goods, weights[quote.seller_id])
        sellers.append(
            view_of(
                SellerShipping,
                quote,
                goods_amount=goods,
                weight_kg=weights[quote.seller_id],
                options=tuple(options),
            )
        )
    return view_of(ShippingCalculation, result, sellers=tuple(sellers))
