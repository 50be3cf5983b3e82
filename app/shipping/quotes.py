"""Shipping quotes: which methods serve a destination for one seller's parcel, and what they cost.

One shipment per seller: the basket is split by seller and each group is quoted on its own.
- Methods offered to a seller: the active methods of active zones covering the destination that
  belong to that seller; if the seller has none there, the platform-wide ones (no seller).
- Cost: flat -> `flat_rate`; weight -> the bracket `min <= total kg < max`; price -> the bracket
  `min <= goods amount < max`. A method whose brackets do not cover the parcel is not offered.
- Free-over: when the seller's goods amount (after item discounts, as displayed) is at or over
  `free_over`, the cost is 0.
- The chosen method (request.shipping_method_ids[seller]) is used when it is offered; otherwise the
  cheapest offered method (ties: position, then id).
All amounts are already cents (rates are MONEY columns): no rounding happens here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.core import cache
from app.pricing_contract import Destination
from app.sellers.models import SellerProfile
from app.shipping.models import (
    ShippingMethod,
    ShippingRateBracket,
    ShippingZone,
    areas_cover,
    parse_areas,
)

ZERO = Decimal("0")


@dataclass(frozen=True)
class MethodOption:
    method_id: int
    name: str
    carrier: str
    rate_type: str
    cost: Decimal  # after the free-over threshold
    base_cost: Decimal  # before it
    free_over: Decimal | None
    min_days: int | None
    max_days: int | None
    position: int


@dataclass(frozen=True)
class Bracket:
    min_value: Decimal
    max_value: Decimal | None
    rate: Decimal


@dataclass(frozen=True)
class Method:
    """An active method of an active zone, as quoting reads it (a cached snapshot, not a row)."""

    id: int
    name: str
    carrier_code: str
    rate_type: str
    flat_rate: Decimal | None
    free_over: Decimal | None
    min_days: int | None
    max_days: int | None
    position: int
    seller_id: int | None
    zone_name: str
    areas: tuple[tuple[str, str | None], ...]
    brackets: tuple[Bracket, ...]

    def covers(self, country: str, region: str | None) -> bool:
        return areas_cover(self.areas, country, region)


# Every priced cart with a destination and every checkout quotes shipping: the tenant's active
# methods are cached (app.core.cache.remember) under a namespace bumped after any commit that
# writes a zone, a method, a bracket or a seller (a seller's deletion removes its methods).
CACHE_NAMESPACE = "shipping_methods"
CACHE_TTL = 600
METHODS_ENTRY = (CACHE_NAMESPACE, "active-shipping-methods")  # (namespace, key) for cache.batched
cache.watch(
    ShippingZone, ShippingMethod, ShippingRateBracket, SellerProfile, namespace=CACHE_NAMESPACE
)


def _dec(value) -> str | None:
    return None if value is None else str(value)


def _active_methods(session) -> bytes:
    rows = session.scalars(
        select(ShippingMethod)
        .join(ShippingZone, ShippingMethod.zone_id == ShippingZone.id)
        .where(ShippingMethod.is_active.is_(True), ShippingZone.is_active.is_(True))
        .options(selectinload(ShippingMethod.brackets), selectinload(ShippingMethod.zone))
        .order_by(ShippingMethod.position, ShippingMethod.id)
    ).all()
    return json.dumps(
        [
            {
                "id": m.id,
                "name": m.name,
                "carrier_code": m.carrier_code,
                "rate_type": m.rate_type,
                "flat_rate": _dec(m.flat_rate),
                "free_over": _dec(m.free_over),
                "min_days": m.min_days,
                "max_days": m.max_days,
                "position": m.position,
                "seller_id": m.seller_id,
                "zone_name": m.zone.name,
                "areas": parse_areas(m.zone.areas),
                "brackets": [
                    [_dec(b.min_value), _dec(b.max_value), _dec(b.rate)] for b in m.brackets
                ],
            }
            for m in rows
        ]
    ).encode()


def _method(d: dict) -> Method:
    money = {k: None if d[k] is None else Decimal(d[k]) for k in ("flat_rate", "free_over")}
    return Method(
        **{
            **d,
            **money,
            "areas": tuple((c, r) for c, r in d["areas"]),
            "brackets": tuple(
                Bracket(Decimal(lo), None if hi is None else Decimal(hi), Decimal(rate))
                for lo, hi, rate in d["brackets"]
            ),
        }
    )


def load_methods(destination: Destination) -> list[Method]:
    """Active methods of active zones covering the destination (all sellers and platform-wide),
    by position then id."""
    stored = json.loads(cache.remember(*METHODS_ENTRY, _active_methods, CACHE_TTL))
    methods = [_method(d) for d in stored]
    return [m for m in methods if m.covers(destination.country, destination.region)]


def base_cost(method: Method, goods_amount: Decimal, weight_kg: Decimal) -> Decimal | None:
    """The method's cost for a parcel before free-over; None when its brackets do not cover it."""
    if method.rate_type == "flat":
        return Decimal(method.flat_rate) if method.flat_rate is not None else ZERO
    measure = weight_kg if method.rate_type == "weight" else goods_amount
    for bracket in method.brackets:
        if bracket.min_value <= measure and (
            bracket.max_value is None or measure < bracket.max_value
        ):
            return Decimal(bracket.rate)
    return None


def options_for(
    methods: list[Method], seller_id: int | None, goods_amount: Decimal, weight_kg: Decimal
) -> list[MethodOption]:
    """The methods offered to one seller's parcel, cheapest first."""
    own = [m for m in methods if seller_id is not None and m.seller_id == seller_id]
    candidates = own or [m for m in methods if m.seller_id is None]
    options = []
    for m in candidates:
        cost = base_cost(m, goods_amount, weight_kg)
        if cost is None:
            continue
        free = m.free_over is not None and goods_amount >= m.free_over
        options.append(
            MethodOption(
                m.id,
                m.name,
                m.carrier_code,
                m.rate_type,
                ZERO if free else cost,
                cost,
                m.free_over,
                m.min_days,
                m.max_days,
                m.position,
            )
        )
    options.sort(key=lambda o: (o.cost, o.position, o.method_id))
    return options


def choose(options: list[MethodOption], chosen_id: int | None) -> MethodOption | None:
    if chosen_id is not None:
        for option in options:
            if option.method_id == chosen_id:
                return option
    return options[0] if options else None
