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

import json
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from app.core import cache
from app.core.types import quantize_money
from app.pricing_contract import Destination, TaxComponent
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


# Every priced cart and checkout reads the tenant's tax setting and rules: they are cached per
# tenant (app.core.cache.remember) under a namespace bumped after any commit that writes them.
CACHE_NAMESPACE = "tax_rules"
CACHE_TTL = 600
# (namespace, key) of each cached entry, for cache.batched
INCLUSIVE_ENTRY = (CACHE_NAMESPACE, "tax-inclusive")
RULES_ENTRY = (CACHE_NAMESPACE, "active-tax-rules")
cache.watch(TaxSettings, TaxRule, namespace=CACHE_NAMESPACE)


def prices_include_tax() -> bool:
    """The current tenant's setting (no settings row: prices exclude tax)."""

    def load(session) -> bytes:
        return b"1" if session.scalar(select(TaxSettings.prices_include_tax)) else b"0"

    return cache.remember(*INCLUSIVE_ENTRY, load, CACHE_TTL) == b"1"


def _active_rules(session) -> bytes:
    rows = session.execute(
        select(
            TaxRule.id,
            TaxRule.name,
            TaxRule.country,
            TaxRule.region,
            TaxRule.category_id,
            TaxRule.rate,
            TaxRule.priority,
        )
        .where(TaxRule.is_active.is_(True))
        .order_by(TaxRule.priority.desc(), TaxRule.id)
    ).all()
    return json.dumps(
        [
            [
                r.id,
                r.name,
                r.country.upper(),
                (r.region or "").upper() or None,
                r.category_id,
                str(r.rate),
                r.priority,
            ]
            for r in rows
        ]
    ).encode()


def load_rules(destination: Destination) -> list[RuleValue]:
    """Active rules matching the destination (its country, and no region or its region), highest
    priority first (then by id)."""
    country, region = destination.country.upper(), (destination.region or "").upper() or None
    rules = json.loads(cache.remember(*RULES_ENTRY, _active_rules, CACHE_TTL))
    return [
        RuleValue(rule_id, name, rule_region, category_id, Decimal(rate), priority)
        for rule_id, name, rule_country, rule_region, category_id, rate, priority in rules
        if rule_country == country and (rule_region is None or rule_region == region)
    ]


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


def compute(
    amount: Decimal, rules: list[RuleValue], inclusive: bool
) -> tuple[tuple[TaxComponent, ...], Decimal]:
    """(components, tax total) for a rounded amount (see the module docstring for the rounding)."""
    if not rules or amount <= ZERO:
        return (), ZERO
    if not inclusive:
        components = tuple(
            TaxComponent(r.id, r.name, r.rate, quantize_money(amount * r.rate)) for r in rules
        )
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
