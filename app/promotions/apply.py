"""The promotions part of pricing: which promotions apply to a basket and what each takes off.

Stacking order (documented rule):
1. Candidates are the live automatic promotions (no code) and the promotions of the coupon codes
   given (codes are case-insensitive). Each is checked: active, date window, usage limits, customer
   role, first order, scope (lines it may discount) and minimum subtotal. A coupon that fails is
   reported in `rejected_coupons` with the reason; an automatic promotion that fails is skipped.
2. They are applied one by one in the order: priority (high first), then kind (buy_x_get_y,
   percentage, fixed_amount, free_shipping), then id.
3. A stackable promotion combines with the others. A non-stackable one applies only if none applied
   before it, and once applied it stops every later one ("not_combinable").
4. Each promotion works on what is left of a line after the earlier ones, and a line's discounts
   never exceed its subtotal (never below zero).

Scope: a seller-funded promotion only discounts its seller's lines. Product, category (a category
and its descendants) and seller conditions narrow the lines further; products and categories
together mean a line matching either. The minimum subtotal is compared with the subtotal of the
lines in scope, before discounts.

Arithmetic (rounding half-up to the cent at the line):
- percentage: `round(left * percent / 100)` per line in scope;
- fixed_amount: `min(value, left in scope)` split over the lines in scope in proportion to what is
  left of each, in cents, by largest remainder (exact: the parts add up to the amount);
- buy_x_get_y: units in scope are sorted by unit price, high first; for every full group of X + Y
  units the cheapest Y units get `value` % off (100 = free); per line `round(n * unit * value / 100)`;
- free_shipping: the shipping of the sellers in scope costs 0 (the engine applies it).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from types import SimpleNamespace

from sqlalchemy import select

from app.core import cache
from app.core.types import money_unit, quantize_money
from app.extensions import db
from app.pricing_contract import LineDiscount, LineInput, PricingRequest
from app.promotions.models import Promotion, PromotionCustomerUsage

ZERO = Decimal("0")
KIND_ORDER = {"buy_x_get_y": 0, "percentage": 1, "fixed_amount": 2, "free_shipping": 3}


def normalize_code(code: str) -> str:
    return code.strip().upper()


@dataclass
class Outcome:
    line_discounts: dict[str, list[LineDiscount]] = field(default_factory=dict)
    # promotion id -> (code, seller ids whose shipping it makes free)
    free_shipping: dict[int, tuple[str | None, frozenset[int]]] = field(default_factory=dict)
    applied: list[tuple[int, str | None]] = field(default_factory=list)  # in application order
    rejected: dict[str, str] = field(default_factory=dict)


def allocate(amount: Decimal, capacities: list[Decimal]) -> list[Decimal]:
    """Split `amount` (capped at the capacities' sum) in proportion to the capacities, in cents
    (the basket currency's unit) by largest remainder: the parts add up exactly and none exceeds
    its capacity."""
    total = sum(capacities, ZERO)
    amount = min(amount, total)
    if amount <= ZERO:
        return [ZERO for _ in capacities]
    unit = money_unit()  # a cent; a yen when the basket is in JPY
    exact = [amount * cap / total for cap in capacities]
    parts = [e.quantize(unit, rounding=ROUND_DOWN) for e in exact]
    leftover = int(((amount - sum(parts, ZERO)) / unit).to_integral_value())
    order = sorted(range(len(capacities)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order:
        if leftover <= 0:
            break
        if parts[i] + unit <= capacities[i]:
            parts[i] += unit
            leftover -= 1
    return parts


def _live_reason(p: Promotion, now: dt.datetime) -> str | None:
    if not p.is_active:
        return "inactive"
    if p.starts_at is not None and now < p.starts_at:
        return "not_started"
    if p.ends_at is not None and now >= p.ends_at:
        return "expired"
    return None


def in_scope(p: Promotion, line: LineInput, chains: dict[int, list[int]]) -> bool:
    if p.funded_by == "seller" and line.seller_id != p.seller_id:
        return False
    if p.seller_ids and line.seller_id not in p.seller_ids:
        return False
    if p.product_ids or p.category_ids:
        chain = chains.get(line.category_id, []) if line.category_id is not None else []
        if line.product_id not in (p.product_ids or []) and not set(chain) & set(
            p.category_ids or []
        ):
            return False
    return True


# The tenant's active automatic promotions are read by every priced cart and checkout: cached
# (app.core.cache.remember) as plain snapshots of their columns, under a namespace bumped after any
# commit that writes a promotion (its redemption counter included: ORM UPDATE statements count).
# Pricing only advises; the redemption at checkout re-checks every limit on the row itself.
CACHE_NAMESPACE = "promotions"
CACHE_TTL = 300
AUTOMATIC_ENTRY = (CACHE_NAMESPACE, "automatic-promotions")  # (namespace, key) for cache.batched
cache.watch(Promotion, namespace=CACHE_NAMESPACE)
_COLUMNS = tuple(attr.key for attr in Promotion.__mapper__.column_attrs)


def _python_type(key: str):
    kind = Promotion.__mapper__.column_attrs[key].columns[0].type
    kind = getattr(kind, "impl", kind)  # a TypeDecorator (UTCDateTime) stores through its impl
    try:
        return kind.python_type
    except NotImplementedError:
        return None


_DECODE = {key: kind for key in _COLUMNS if (kind := _python_type(key)) in (Decimal, dt.datetime)}


def _json_value(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _automatic(session) -> bytes:
    rows = session.scalars(
        select(Promotion)
        .where(Promotion.code.is_(None), Promotion.is_active.is_(True))
        .order_by(Promotion.id)
    ).all()
    return json.dumps(
        [{key: _json_value(getattr(p, key)) for key in _COLUMNS} for p in rows]
    ).encode()


def _snapshot(stored: dict) -> SimpleNamespace:
    for key, kind in _DECODE.items():
        value = stored.get(key)
        if value is not None:
            stored[key] = Decimal(value) if kind is Decimal else dt.datetime.fromisoformat(value)
    return SimpleNamespace(**stored)


def load_candidates(request: PricingRequest) -> tuple[list, dict[str, Promotion | None]]:
    """(automatic promotions that may be live, {given code: its promotion or None}). The automatic
    ones are snapshots with the promotion's column attributes; coupons are read from the database."""
    codes = {}
    for raw in request.coupon_codes:
        if raw and raw.strip():
            codes.setdefault(normalize_code(raw), raw)
    automatic = [
        _snapshot(d) for d in json.loads(cache.remember(*AUTOMATIC_ENTRY, _automatic, CACHE_TTL))
    ]
    by_code = {}
    if codes:
        by_code = {
            p.code: p
            for p in db.session.scalars(select(Promotion).where(Promotion.code.in_(list(codes))))
        }
    return automatic, {code: by_code.get(code) for code in codes}


def _customer_uses(promotion_ids: list[int], user_id: int | None) -> dict[int, int]:
    if user_id is None or not promotion_ids:
        return {}
    rows = db.session.execute(
        select(PromotionCustomerUsage.promotion_id, PromotionCustomerUsage.uses_count).where(
            PromotionCustomerUsage.customer_user_id == user_id,
            PromotionCustomerUsage.promotion_id.in_(promotion_ids),
        )
    ).all()
    return {r.promotion_id: r.uses_count for r in rows}


def check(
    p: Promotion,
    request: PricingRequest,
    scoped: list[LineInput],
    now: dt.datetime,
    customer_uses: dict[int, int],
) -> str | None:
    """Why `p` cannot apply to this basket, or None."""
    reason = _live_reason(p, now)
    if reason:
        return reason
    if p.usage_limit is not None and p.uses_count >= p.usage_limit:
        return "exhausted"
    if p.usage_limit_per_customer is not None:
        if request.customer_user_id is None:
            return "login_required"
        if customer_uses.get(p.id, 0) >= p.usage_limit_per_customer:
            return "customer_limit"
    if p.customer_role and p.customer_role not in request.customer_roles:
        return "customer_role"
    if p.first_order_only and not request.is_first_order:
        return "first_order"
    if not scoped:
        return "not_applicable"
    if p.min_subtotal is not None:
        subtotal = sum((quantize_money(line.unit_price * line.quantity) for line in scoped), ZERO)
        if subtotal < p.min_subtotal:
            return "min_subtotal"
    return None


def _discounts(
    p: Promotion, scoped: list[LineInput], left: dict[str, Decimal]
) -> dict[str, Decimal]:
    if p.kind == "percentage":
        return {
            line.key: min(left[line.key], quantize_money(left[line.key] * Decimal(p.value) / 100))
            for line in scoped
        }
    if p.kind == "fixed_amount":
        parts = allocate(Decimal(p.value), [left[line.key] for line in scoped])
        return {line.key: part for line, part in zip(scoped, parts, strict=True)}
    if p.kind == "buy_x_get_y":
        x, y = p.buy_quantity or 0, p.get_quantity or 0
        if x < 1 or y < 1:
            return {}
        total_units = sum(line.quantity for line in scoped)
        free_left = (total_units // (x + y)) * y
        # units sorted by price, high first: the free ones are the tail (the cheapest)
        counts: dict[str, int] = {}
        for line in reversed(sorted(scoped, key=lambda item: (-item.unit_price, item.key))):
            if free_left <= 0:
                break
            counts[line.key] = min(line.quantity, free_left)
            free_left -= counts[line.key]
        by_key = {line.key: line for line in scoped}
        return {
            key: min(left[key], quantize_money(n * by_key[key].unit_price * Decimal(p.value) / 100))
            for key, n in counts.items()
        }
    return {}


def evaluate(request: PricingRequest, chains: dict[int, list[int]], now: dt.datetime) -> Outcome:
    outcome = Outcome()
    automatic, coupons = load_candidates(request)
    for code, promotion in coupons.items():
        if promotion is None:
            outcome.rejected[code] = "unknown"
    candidates = automatic + [p for p in coupons.values() if p is not None]
    uses = _customer_uses([p.id for p in candidates], request.customer_user_id)
    left = {line.key: quantize_money(line.unit_price * line.quantity) for line in request.lines}
    eligible: list[tuple[Promotion, list[LineInput]]] = []
    for p in candidates:
        scoped = [line for line in request.lines if in_scope(p, line, chains)]
        reason = check(p, request, scoped, now, uses)
        if reason is None:
            eligible.append((p, scoped))
        elif p.code is not None:
            outcome.rejected[p.code] = reason
    eligible.sort(key=lambda item: (-item[0].priority, KIND_ORDER.get(item[0].kind, 9), item[0].id))
    blocked = False
    for p, scoped in eligible:
        if blocked or (not p.stackable and outcome.applied):
            if p.code is not None:
                outcome.rejected[p.code] = "not_combinable"
            continue
        if p.kind == "free_shipping":
            outcome.free_shipping[p.id] = (p.code, frozenset(line.seller_id for line in scoped))
        else:
            amounts = {k: v for k, v in _discounts(p, scoped, left).items() if v > ZERO}
            if not amounts:
                if p.code is not None:
                    outcome.rejected[p.code] = "not_applicable"
                continue
            for key, amount in amounts.items():
                left[key] -= amount
                outcome.line_discounts.setdefault(key, []).append(
                    LineDiscount(
                        promotion_id=p.id, code=p.code, amount=amount, funded_by=p.funded_by
                    )
                )
        outcome.applied.append((p.id, p.code))
        if not p.stackable:
            blocked = True
    return outcome
