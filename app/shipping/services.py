"""Shipping operations for the storefront: the methods serving a destination, and quotes per
seller for a basket (one shipment per seller). Costs follow `app.shipping.quotes`; `calculate`
prices the basket with `app.pricing.engine.price` so that item discounts, free-over thresholds,
free-shipping promotions and shipping tax are the same as in the cart and at checkout."""

from __future__ import annotations

from decimal import Decimal

from app.pricing import basket
from app.pricing.contract import Destination
from app.pricing.engine import price
from app.shipping import quotes
from app.shipping.models import ShippingMethod

ZERO = Decimal("0")


def _method_dict(m: ShippingMethod) -> dict:
    return {
        "id": m.id, "name": m.name, "carrier": m.carrier_code, "rate_type": m.rate_type, "zone": m.zone.name,
        "seller_id": m.seller_id, "flat_rate": m.flat_rate, "free_over": m.free_over,
        "min_days": m.min_days, "max_days": m.max_days,
        "brackets": [{"min_value": b.min_value, "max_value": b.max_value, "rate": b.rate} for b in m.brackets],
    }


def list_methods(*, country: str, region: str | None = None, seller_id: int | None = None) -> dict:
    """Active methods serving the destination: platform-wide ones and sellers' own (only those of
    `seller_id`, with the platform ones when that seller has none there, when it is given)."""
    methods = quotes.load_methods(Destination(country=country.upper(), region=(region or "").upper() or None))
    if seller_id is not None:
        own = [m for m in methods if m.seller_id == seller_id]
        methods = own or [m for m in methods if m.seller_id is None]
    return {"items": [_method_dict(m) for m in methods]}


def calculate(user, data: dict) -> dict:
    request = basket.request_for(user, data["lines"], destination=data["destination"],
                                 coupon_codes=data.get("coupon_codes", ()),
                                 shipping_method_ids={int(k): v for k, v in
                                                      (data.get("shipping_method_ids") or {}).items()})
    result = price(request)
    methods = quotes.load_methods(request.destination)
    weights: dict[int, Decimal] = {}
    for line in request.lines:
        weights[line.seller_id] = weights.get(line.seller_id, ZERO) + (line.weight_kg or ZERO) * line.quantity
    sellers = []
    for quote in result.shipping:
        goods = sum((pl.subtotal - pl.discount_total for pl in result.lines if pl.seller_id == quote.seller_id), ZERO)
        options = quotes.options_for(methods, quote.seller_id, goods, weights[quote.seller_id])
        sellers.append({
            "seller_id": quote.seller_id, "goods_amount": goods, "weight_kg": weights[quote.seller_id],
            "method_id": quote.method_id, "method_name": quote.method_name, "carrier": quote.carrier,
            "cost": quote.cost, "tax_total": quote.tax_total,
            "free_shipping_promotion_id": quote.free_shipping_promotion_id,
            "options": [{"method_id": o.method_id, "name": o.name, "carrier": o.carrier, "rate_type": o.rate_type,
                         "cost": o.cost, "base_cost": o.base_cost, "free_over": o.free_over,
                         "min_days": o.min_days, "max_days": o.max_days} for o in options],
        })
    return {"currency": result.currency, "prices_include_tax": result.prices_include_tax, "sellers": sellers,
            "shipping_total": result.shipping_total}
