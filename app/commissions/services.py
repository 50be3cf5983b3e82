"""Which commission applies to a sale, and how much it is.

Precedence (the most specific rule valid at the moment wins):
  1. seller + category   2. seller   3. category   4. platform default (neither)
A category rule covers the category's descendants; among rules of one level the one naming the
nearest category (the line's own before its parent's) wins, then the newest `valid_from` (a rule
without one counts as the oldest), then the newest rule (highest id). A rule is valid from
`valid_from` (included; empty: always was) until `valid_until` (excluded; empty: no end). A rule
with a currency applies only to orders in that currency. When no rule applies, the seller's own
`commission_rate` (its profile) is the rate, as before rules existed.

The amount of a line: rate x base (the line's taxable amount + the discounts the platform funds,
as checkout computes it), rounded half-up to the currency's unit (whole yen for JPY), plus the
rule's fixed amount when it is per line (once per order line, whatever its quantity). A fixed
amount per order is charged once per sub-order for each distinct rule applied to at least one of
its lines (app.checkout freezes it on the sub-order). Commission is not capped by the sale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select

from app.catalog.models import Category
from app.commissions.models import FIXED_PER, PER_LINE, PER_ORDER, CommissionRule
from app.core.errors import ValidationError
from app.core.types import quantize_money, utcnow
from app.extensions import db
from app.sellers.models import SellerProfile

ZERO = Decimal("0")
# a rule's level: the higher, the more specific
LEVELS = {
    (True, True): (4, "seller + category"),
    (True, False): (3, "seller"),
    (False, True): (2, "category"),
    (False, False): (1, "platform default"),
}
FALLBACK = "seller's commission rate"


@dataclass(frozen=True)
class AppliedCommission:
    """What applies to one seller's sale in one category: the rule (None: the seller's own rate)."""

    rule_id: int | None
    rule_name: str | None
    level: str
    rate: Decimal
    fixed_amount: Decimal
    fixed_per: str

    @property
    def fixed_per_line(self) -> Decimal:
        return self.fixed_amount if self.fixed_per == PER_LINE else ZERO

    @property
    def fixed_per_order(self) -> Decimal:
        return self.fixed_amount if self.fixed_per == PER_ORDER else ZERO

    def line_amount(self, base: Decimal, currency: str | None) -> Decimal:
        """The commission on one order line whose base is `base`."""
        return quantize_money(self.rate * base, currency) + quantize_money(
            self.fixed_per_line, currency
        )


def _valid_at(at: dt.datetime):
    return (
        or_(CommissionRule.valid_from.is_(None), CommissionRule.valid_from <= at),
        or_(CommissionRule.valid_until.is_(None), CommissionRule.valid_until > at),
    )


class CommissionBook:
    """The rules valid at one moment for some sellers in one currency, loaded once (a checkout
    asks it for every line)."""

    def __init__(self, seller_ids: Iterable[int], currency: str | None, at: dt.datetime):
        self.seller_ids = sorted(set(seller_ids))
        stmt = select(CommissionRule).where(
            *_valid_at(at),
            or_(CommissionRule.seller_id.is_(None), CommissionRule.seller_id.in_(self.seller_ids)),
        )
        if currency:
            stmt = stmt.where(
                or_(CommissionRule.currency.is_(None), CommissionRule.currency == currency.upper())
            )
        else:
            stmt = stmt.where(CommissionRule.currency.is_(None))
        self.rules = list(db.session.scalars(stmt))
        self.seller_rates = dict(
            db.session.execute(
                select(SellerProfile.id, SellerProfile.commission_rate).where(
                    SellerProfile.id.in_(self.seller_ids)
                )
            ).all()
        )
        self._parents: dict[int, int | None] = {}

    def _chain(self, category_id: int | None) -> list[int]:
        """The category and its ancestors, nearest first."""
        chain: list[int] = []
        current = category_id
        while current is not None and current not in chain:
            if current not in self._parents:
                self._parents[current] = db.session.scalar(
                    select(Category.parent_id).where(Category.id == current)
                )
            chain.append(current)
            current = self._parents[current]
        return chain

    def applied(self, seller_id: int, category_id: int | None) -> AppliedCommission:
        chain = self._chain(category_id)
        best, best_key = None, None
        for rule in self.rules:
            if rule.seller_id is not None and rule.seller_id != seller_id:
                continue
            if rule.category_id is not None and rule.category_id not in chain:
                continue
            level, _ = LEVELS[(rule.seller_id is not None, rule.category_id is not None)]
            nearness = -chain.index(rule.category_id) if rule.category_id is not None else 0
            since = rule.valid_from or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
            key = (level, nearness, since, rule.id)
            if best_key is None or key > best_key:
                best, best_key = rule, key
        if best is None:
            return AppliedCommission(
                None, None, FALLBACK, Decimal(self.seller_rates[seller_id]), ZERO, PER_LINE
            )
        return AppliedCommission(
            rule_id=best.id,
            rule_name=best.name,
            level=LEVELS[(best.seller_id is not None, best.category_id is not None)][1],
            rate=Decimal(best.rate or ZERO),
            fixed_amount=Decimal(best.fixed_amount or ZERO),
            fixed_per=best.fixed_per,
        )


def commission_book(
    seller_ids: Iterable[int], currency: str | None, at: dt.datetime | None = None
) -> CommissionBook:
    return CommissionBook(seller_ids, currency, at or utcnow())


# --- the admin's preview -------------------------------------------------------------------------


@dataclass(frozen=True)
class CommissionPreview:
    applied: AppliedCommission
    amount: Decimal
    currency: str
    percentage_part: Decimal
    fixed_line_part: Decimal
    fixed_order_part: Decimal
    total_for_one_line_order: Decimal


def preview(
    seller_id: int,
    category_id: int | None,
    amount: Decimal,
    currency: str,
    at: dt.datetime | None = None,
) -> CommissionPreview:
    """What a sale of `amount` (the commission base) by the seller in the category would be
    charged now (or `at`): the rule that applies and each part of the commission."""
    if db.session.get(SellerProfile, seller_id) is None:
        raise ValidationError("no such seller", details={"seller": ["no such seller"]})
    applied = commission_book([seller_id], currency, at).applied(seller_id, category_id)
    percentage = quantize_money(applied.rate * amount, currency)
    per_line = quantize_money(applied.fixed_per_line, currency)
    per_order = quantize_money(applied.fixed_per_order, currency)
    return CommissionPreview(
        applied=applied,
        amount=quantize_money(amount, currency),
        currency=currency,
        percentage_part=percentage,
        fixed_line_part=per_line,
        fixed_order_part=per_order,
        total_for_one_line_order=percentage + per_line + per_order,
    )


# --- checks on save (the admin's forms) ---------------------------------------------------------


def prepare_rule(rule: CommissionRule) -> None:
    """A rule about to be saved: a rate between 0 and 1 and/or a fixed amount (not negative; with
    its currency), per line or per order, valid_until after valid_from (ValidationError naming the
    fields otherwise)."""
    errors: dict[str, str] = {}
    if rule.rate is None and rule.fixed_amount is None:
        errors["rate"] = "a rate, a fixed amount, or both"
    if rule.rate is not None and not (ZERO <= rule.rate <= 1):
        errors["rate"] = "between 0 and 1 (0.1000 = 10 %)"
    if rule.fixed_amount is not None and rule.fixed_amount < 0:
        errors["fixed_amount"] = "not negative"
    if rule.currency:
        rule.currency = rule.currency.strip().upper()
        if not (len(rule.currency) == 3 and rule.currency.isalpha()):
            errors["currency"] = "an ISO 4217 code such as EUR"
    else:
        rule.currency = None
        if rule.fixed_amount:
            errors["currency"] = "required with a fixed amount (the amount is in it)"
    rule.fixed_per = rule.fixed_per or PER_LINE
    if rule.fixed_per not in FIXED_PER:
        errors["fixed_per"] = f"one of {', '.join(FIXED_PER)}"
    if rule.valid_from and rule.valid_until and rule.valid_until <= rule.valid_from:
        errors["valid_until"] = "after valid_from"
    if errors:
        raise ValidationError(
            "invalid commission rule: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
            details={k: [v] for k, v in errors.items()},
        )
