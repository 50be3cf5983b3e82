"""Shipping operations for the storefront: the methods serving a destination, and quotes per
seller for a basket (one shipment per seller). Costs follow `app.shipping.quotes`; `calculate`
prices the basket with `app.pricing.engine.price` so that item discounts, free-over thresholds,
free-shipping promotions and shipping tax are the same as in the cart and at checkout."""

from __future__ import annotations

import re
from decimal import Decimal

from app.core.errors import NotFound, ValidationError
from app.pricing import basket
from app.pricing.engine import price
from app.pricing_contract import Destination
from app.shipping import carriers, quotes
from app.shipping.models import RATE_TYPES, ShippingMethod, ShippingRateBracket, ShippingZone

ZERO = Decimal("0")


def _method_dict(m: quotes.Method) -> dict:
    return {
        "id": m.id,
        "name": m.name,
        "carrier": m.carrier_code,
        "rate_type": m.rate_type,
        "zone": m.zone_name,
        "seller_id": m.seller_id,
        "flat_rate": m.flat_rate,
        "free_over": m.free_over,
        "min_days": m.min_days,
        "max_days": m.max_days,
        "brackets": [
            {"min_value": b.min_value, "max_value": b.max_value, "rate": b.rate} for b in m.brackets
        ],
    }


def list_methods(*, country: str, region: str | None = None, seller_id: int | None = None) -> dict:
    """Active methods serving the destination: platform-wide ones and sellers' own (only those of
    `seller_id`, with the platform ones when that seller has none there, when it is given)."""
    methods = quotes.load_methods(
        Destination(country=country.upper(), region=(region or "").upper() or None)
    )
    if seller_id is not None:
        own = [m for m in methods if m.seller_id == seller_id]
        methods = own or [m for m in methods if m.seller_id is None]
    return {"items": [_method_dict(m) for m in methods]}


def calculate(user, data: dict) -> dict:
    request = basket.request_for(
        user,
        data["lines"],
        destination=data["destination"],
        coupon_codes=data.get("coupon_codes", ()),
        shipping_method_ids={int(k): v for k, v in (data.get("shipping_method_ids") or {}).items()},
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
            {
                "seller_id": quote.seller_id,
                "goods_amount": goods,
                "weight_kg": weights[quote.seller_id],
                "method_id": quote.method_id,
                "method_name": quote.method_name,
                "carrier": quote.carrier,
                "cost": quote.cost,
                "tax_total": quote.tax_total,
                "free_shipping_promotion_id": quote.free_shipping_promotion_id,
                "options": [
                    {
                        "method_id": o.method_id,
                        "name": o.name,
                        "carrier": o.carrier,
                        "rate_type": o.rate_type,
                        "cost": o.cost,
                        "base_cost": o.base_cost,
                        "free_over": o.free_over,
                        "min_days": o.min_days,
                        "max_days": o.max_days,
                    }
                    for o in options
                ],
            }
        )
    return {
        "currency": result.currency,
        "prices_include_tax": result.prices_include_tax,
        "sellers": sellers,
        "shipping_total": result.shipping_total,
    }


# --- checks of what the admin edits ---------------------------------------------------------------

_AREA = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


def _raise(errors: dict[str, list[str]], what: str) -> None:
    if errors:
        text = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in errors.items())
        raise ValidationError(f"invalid {what}: {text}", details=errors)


def prepare_zone(zone: ShippingZone) -> None:
    items = [
        raw.strip().upper()
        for raw in (zone.areas or "").replace(";", ",").replace("\n", ",").split(",")
        if raw.strip()
    ]
    bad = [item for item in items if not _AREA.match(item)]
    errors = {}
    if not items:
        errors["areas"] = ["at least one country (FR) or region (US-CA)"]
    elif bad:
        errors["areas"] = [f"not a country or region code: {', '.join(bad)}"]
    _raise(errors, "shipping zone")
    zone.areas = ", ".join(dict.fromkeys(items))


def prepare_method(method: ShippingMethod) -> None:
    errors: dict[str, list[str]] = {}
    if method.rate_type not in RATE_TYPES:
        errors["rate_type"] = [f"one of {', '.join(RATE_TYPES)}"]
    if method.rate_type == "flat" and method.flat_rate is None:
        errors["flat_rate"] = ["a flat-rate method needs its rate"]
    for name in ("flat_rate", "free_over"):
        if getattr(method, name) is not None and getattr(method, name) < 0:
            errors.setdefault(name, []).append("must not be negative")
    try:
        carriers.get(method.carrier_code or "")
    except NotFound:
        errors["carrier_code"] = [f"one of {', '.join(carriers.codes())}"]
    if (
        method.min_days is not None
        and method.max_days is not None
        and method.max_days < method.min_days
    ):
        errors["max_days"] = ["must not be below min_days"]
    _raise(errors, "shipping method")


def prepare_bracket(bracket: ShippingRateBracket) -> None:
    errors: dict[str, list[str]] = {}
    if bracket.min_value is None or bracket.min_value < 0:
        errors["min_value"] = ["zero or more"]
    elif bracket.max_value is not None and bracket.max_value <= bracket.min_value:
        errors["max_value"] = ["above min_value, or empty for no upper bound"]
    if bracket.rate is None or bracket.rate < 0:
        errors["rate"] = ["zero or more"]
    _raise(errors, "rate bracket")
