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

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.pricing.contract import Destination
from app.shipping.models import ShippingMethod, ShippingZone

ZERO = Decimal("0")


@dataclass(frozen=True)
class MethodOption:
    method_id: int
    name: str
    carrier: str
    rate_type: str
    cost: Decimal           # after the free-over threshold
    base_cost: Decimal      # before it
    free_over: Decimal | None
    min_days: int | None
    max_days: int | None
    position: int


def load_methods(destination: Destination) -> list[ShippingMethod]:
    """Active methods of active zones covering the destination (all sellers and platform-wide)."""
    rows = db.session.scalars(
        select(ShippingMethod).join(ShippingZone, ShippingMethod.zone_id == ShippingZone.id)
        .where(ShippingMethod.is_active.is_(True), ShippingZone.is_active.is_(True))
        .options(selectinload(ShippingMethod.brackets), selectinload(ShippingMethod.zone))
        .order_by(ShippingMethod.position, ShippingMethod.id)
    ).all()
    return [m for m in rows if m.zone.covers(destination.country, destination.region)]


def base_cost(method: ShippingMethod, goods_amount: Decimal, weight_kg: Decimal) -> Decimal | None:
    """The method's cost for a parcel before free-over; None when its brackets do not cover it."""
    if method.rate_type == "flat":
        return Decimal(method.flat_rate) if method.flat_rate is not None else ZERO
    measure = weight_kg if method.rate_type == "weight" else goods_amount
    for bracket in method.brackets:
        if bracket.min_value <= measure and (bracket.max_value is None or measure < bracket.max_value):
            return Decimal(bracket.rate)
    return None


def options_for(methods: list[ShippingMethod], seller_id: int | None, goods_amount: Decimal,
                weight_kg: Decimal) -> list[MethodOption]:
    """The methods offered to one seller's parcel, cheapest first."""
    own = [m for m in methods if seller_id is not None and m.seller_id == seller_id]
    candidates = own or [m for m in methods if m.seller_id is None]
    options = []
    for m in candidates:
        cost = base_cost(m, goods_amount, weight_kg)
        if cost is None:
            continue
        free = m.free_over is not None and goods_amount >= m.free_over
        options.append(MethodOption(m.id, m.name, m.carrier_code, m.rate_type, ZERO if free else cost, cost,
                                    m.free_over, m.min_days, m.max_days, m.position))
    options.sort(key=lambda o: (o.cost, o.position, o.method_id))
    return options


def choose(options: list[MethodOption], chosen_id: int | None) -> MethodOption | None:
    if chosen_id is not None:
        for option in options:
            if option.method_id == chosen_id:
                return option
    return options[0] if options else None
