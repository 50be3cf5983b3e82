"""`price(request)`: a basket priced with the current promotions, tax rules and shipping methods.

Order of work: item promotions (app.promotions.apply) -> tax per line on the discounted amount
(app.tax.calc) -> one shipping quote per seller (app.shipping.quotes), then free-shipping
promotions -> shipping tax at the destination's standard rate -> totals.

Rounding: half-up to the currency's unit at the line (`quantize_money`: cents; whole yen for JPY,
CLDR's exponent through babel, at most 2 places), once, where a figure is computed:
a line's subtotal is `round(unit_price * quantity)`, each discount and each tax component is
rounded on its line, and every total is a sum of rounded lines, so the parts add up to the whole
(rounding the basket's total tax instead can differ by a cent or more: see the tests).

Totals:
- `discount_total`: item discounts (shipping savings are in `applied_promotions` and in each
  quote's `free_shipping_promotion_id`);
- `shipping_total`: the quotes' costs after free-over and free-shipping promotions;
- `tax_total`: line tax + shipping tax;
- `total`: prices exclude tax -> sum(line totals) + shipping + shipping tax; prices include tax ->
  sum(line totals) + shipping (tax is inside both).
Reads only; writes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from app.core.errors import ValidationError
from app.core.tenancy import tenant_scope
from app.core.types import quantize_money, rounding_currency, utcnow
from app.pricing.categories import TREE_ENTRY as CATEGORY_TREE_ENTRY
from app.pricing.categories import category_chains
from app.pricing_contract import (
    AppliedPromotion,
    PricedLine,
    PricingRequest,
    PricingResult,
    ShippingQuote,
)
from app.promotions import apply as promotions
from app.shipping import quotes
from app.tax import calc as tax

ZERO = Decimal("0")


def _validate(request: PricingRequest) -> None:
    errors: dict[str, str] = {}
    keys = set()
    for i, line in enumerate(request.lines):
        if line.quantity < 1:
            errors[f"lines.{i}.quantity"] = "must be at least 1"
        if line.unit_price < 0:
            errors[f"lines.{i}.unit_price"] = "must not be negative"
        if line.key in keys:
            errors[f"lines.{i}.key"] = "duplicate line key"
        keys.add(line.key)
    if errors:
        raise ValidationError("invalid basket", details=errors)


def cached_entries(*, destination: bool) -> tuple[tuple[str, str], ...]:
    """The cached settings `price()` reads, as (namespace, key) for app.core.cache.batched: the
    tax setting, the category tree and the automatic promotions; with a destination, the tax
    rules and the shipping methods too."""
    always = (tax.INCLUSIVE_ENTRY, CATEGORY_TREE_ENTRY, promotions.AUTOMATIC_ENTRY)
    return (*always, tax.RULES_ENTRY, quotes.METHODS_ENTRY) if destination else always


def price(request: PricingRequest) -> PricingResult:
    _validate(request)
    with tenant_scope(request.tenant_id), rounding_currency(request.currency):
        return _price(request)


def _price(request: PricingRequest) -> PricingResult:
    now = request.now or utcnow()
    inclusive = tax.prices_include_tax()
    chains = category_chains(line.category_id for line in request.lines)
    outcome = promotions.evaluate(request, chains, now)
    dest = request.destination
    rules = tax.load_rules(dest) if dest is not None else []
    saved: dict[int, Decimal] = {}

    lines: list[PricedLine] = []
    for line in request.lines:
        subtotal = quantize_money(line.unit_price * line.quantity)
        discounts = tuple(outcome.line_discounts.get(line.key, ()))
        discount_total = sum((d.amount for d in discounts), ZERO)
        amount = subtotal - discount_total
        line_rules = tax.rules_for(
            rules, chains.get(line.category_id, []) if line.category_id else []
        )
        components, tax_total = tax.compute(amount, line_rules, inclusive)
        for d in discounts:
            saved[d.promotion_id] = saved.get(d.promotion_id, ZERO) + d.amount
        lines.append(
            PricedLine(
                key=line.key,
                variant_id=line.variant_id,
                seller_id=line.seller_id,
                quantity=line.quantity,
                unit_price=line.unit_price,
                subtotal=subtotal,
                discounts=discounts,
                discount_total=discount_total,
                taxable_amount=amount - tax_total if inclusive else amount,
                tax=components,
                tax_total=tax_total,
                total=amount if inclusive else amount + tax_total,
            )
        )

    shipping = _shipping(request, lines, rules, inclusive, outcome, saved)

    line_total = sum((pl.total for pl in lines), ZERO)
    shipping_total = sum((q.cost for q in shipping), ZERO)
    shipping_tax = sum((q.tax_total for q in shipping), ZERO)
    applied = tuple(
        AppliedPromotion(pid, code, saved.get(pid, ZERO)) for pid, code in outcome.applied
    )
    return PricingResult(
        currency=request.currency,
        prices_include_tax=inclusive,
        lines=tuple(lines),
        shipping=shipping,
        applied_promotions=applied,
        rejected_coupons=dict(outcome.rejected),
        subtotal=sum((pl.subtotal for pl in lines), ZERO),
        discount_total=sum((pl.discount_total for pl in lines), ZERO),
        tax_total=sum((pl.tax_total for pl in lines), ZERO) + shipping_tax,
        shipping_total=shipping_total,
        total=line_total + shipping_total + (ZERO if inclusive else shipping_tax),
    )


def _shipping(request, lines, rules, inclusive, outcome, saved) -> tuple[ShippingQuote, ...]:
    seller_ids = sorted({pl.seller_id for pl in lines})
    dest = request.destination
    if dest is None:
        return tuple(
            ShippingQuote(seller_id=s, method_id=None, method_name=None, carrier=None, cost=ZERO)
            for s in seller_ids
        )
    methods = quotes.load_methods(dest)
    standard = tax.standard_rules(rules)
    weights: dict[int, Decimal] = {}
    for line in request.lines:
        weights[line.seller_id] = (
            weights.get(line.seller_id, ZERO) + (line.weight_kg or ZERO) * line.quantity
        )
    result = []
    for seller_id in seller_ids:
        goods = sum(
            (pl.subtotal - pl.discount_total for pl in lines if pl.seller_id == seller_id), ZERO
        )
        options = quotes.options_for(methods, seller_id, goods, weights.get(seller_id, ZERO))
        option = quotes.choose(options, request.shipping_method_ids.get(seller_id))
        if option is None:
            result.append(
                ShippingQuote(
                    seller_id=seller_id, method_id=None, method_name=None, carrier=None, cost=ZERO
                )
            )
            continue
        cost, free_id = option.cost, None
        for promotion_id, (_code, sellers) in outcome.free_shipping.items():
            if seller_id in sellers:
                free_id = promotion_id
                if cost > ZERO:
                    saved[promotion_id] = saved.get(promotion_id, ZERO) + cost
                    cost = ZERO
                break
        components, tax_total = tax.compute(cost, standard, inclusive)
        result.append(
            ShippingQuote(
                seller_id=seller_id,
                method_id=option.method_id,
                method_name=option.name,
                carrier=option.carrier,
                cost=cost,
                free_shipping_promotion_id=free_id,
                tax=components,
                tax_total=tax_total,
            )
        )
    return tuple(result)
