"""Tax arithmetic and rule selection.

Rounding rule: every tax figure is rounded half-up to the cent (`quantize_money`: the basket
currency's unit, whole yen for JPY, inside app.pricing.engine.price) per line and per
component, once, where it is computed; totals are sums of rounded figures.
- Prices exclude tax: each component is `round(taxable * rate)`; the line's tax is their sum.
- Prices include tax: the line's tax is `round(amount - amount / (1 + R))` with R the sum of the
  applicable rates; components are `round(amount * rate / (1 + R))` except the last, which takes
  what is left so that the components add up to the line's tax.
`amount` is the line after discounts (tax is computed on the discounted amount). Shipping is taxed
like a line, with the destination's standard (category-less) rules.

Rule selection is documented in `app.tax.models`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from app.core.types import quantize_money
from app.extensions import db
from app.pricing.contract import Destination, TaxComponent
from app.tax.models import TaxRule, TaxSettings

ZERO = Decimal("0")


@dataclass(frozen=True)
class RuleValue:
    id: int
    name: str
    region: str | None
    category_id: int | None
    rate: Decimal
    priority: int


def prices_include_tax() -> bool:
    """The current tenant's setting (no settings row: prices exclude tax)."""
    return bool(db.session.scalar(select(TaxSettings.prices_include_tax)))


def load_rules(destination: Destination) -> list[RuleValue]:
    """Active rules matching the destination (its country, and no region or its region)."""
    region = (destination.region or "").upper() or None
    rows = db.session.scalars(
        select(TaxRule).where(TaxRule.country == destination.country.upper(), TaxRule.is_active.is_(True))
        .order_by(TaxRule.priority.desc(), TaxRule.id)
    ).all()
    return [RuleValue(r.id, r.name, (r.region or "").upper() or None, r.category_id, Decimal(r.rate), r.priority)
            for r in rows if r.region is None or r.region == "" or r.region.upper() == region]


def _top_priority(rules: list[RuleValue]) -> list[RuleValue]:
    if not rules:
        return []
    top = max(r.priority for r in rules)
    return [r for r in rules if r.priority == top]


def standard_rules(rules: list[RuleValue]) -> list[RuleValue]:
    return _top_priority([r for r in rules if r.category_id is None])


def rules_for(rules: list[RuleValue], chain: list[int]) -> list[RuleValue]:
    """The rules of a line whose category (and ancestors, nearest first) is `chain`."""
    for category_id in chain:
        override = [r for r in rules if r.category_id == category_id]
        if override:
            return _top_priority(override)
    return standard_rules(rules)


def compute(amount: Decimal, rules: list[RuleValue], inclusive: bool) -> tuple[tuple[TaxComponent, ...], Decimal]:
    """(components, tax total) for a rounded amount (see the module docstring for the rounding)."""
    if not rules or amount <= ZERO:
        return (), ZERO
    if not inclusive:
        components = tuple(TaxComponent(r.id, r.name, r.rate, quantize_money(amount * r.rate)) for r in rules)
        return components, sum((c.amount for c in components), ZERO)
    total_rate = sum((r.rate for r in rules), ZERO)
    tax_total = quantize_money(amount - amount / (1 + total_rate))
    components: list[TaxComponent] = []
    allotted = ZERO
    for i, r in enumerate(rules):
        if i == len(rules) - 1:
            share = tax_total - allotted
        else:
            share = quantize_money(amount * r.rate / (1 + total_rate))
            allotted += share
        components.append(TaxComponent(r.id, r.name, r.rate, share))
    return tuple(components), tax_total
