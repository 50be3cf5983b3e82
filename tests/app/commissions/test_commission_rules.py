"""app.commissions: the most specific valid rule wins (seller + category > seller > category >
platform default; the nearest category; then the newest valid_from), valid from (included) until
(excluded), percentage and/or fixed per line or per order, rounded to the currency's unit, and the
seller's own rate when no rule applies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.catalog.models import Category, Product
from app.commissions import services
from app.commissions.models import CommissionRule
from app.core.errors import ValidationError
from app.core.tenancy import tenant_scope
from app.extensions import db
from tests.builders.commissions import days, rule


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    seller, seller2 = factory.seller(tenant), factory.seller(tenant)
    product = factory.product(seller)
    with app.app_context(), tenant_scope(tenant.id):
        child = db.session.get(Product, product.id).category
        parent = Category(name="Parent", slug=f"parent-{tenant.id}")
        db.session.add(parent)
        db.session.flush()
        child.parent_id = parent.id
        db.session.commit()
        ids = (child.id, parent.id)
    return tenant, seller, seller2, ids


def _applied(app, tenant, seller_id, category_id, currency="USD", at=None):
    with app.app_context(), tenant_scope(tenant.id):
        return services.commission_book([seller_id], currency, at).applied(seller_id, category_id)


def test_the_most_specific_rule_wins(app, shop):
    tenant, seller, seller2, (child, parent) = shop
    t = tenant.id
    # no rule: the seller's own rate
    fallback = _applied(app, tenant, seller.id, child)
    assert (fallback.rule_id, fallback.rate, fallback.level) == (
        None,
        Decimal("0.1000"),
        services.FALLBACK,
    )

    platform = rule(app, t, "platform", rate="0.05")
    assert _applied(app, tenant, seller.id, child).rule_id == platform
    on_parent = rule(app, t, "parent category", rate="0.06", category_id=parent)
    assert _applied(app, tenant, seller.id, child).rule_id == on_parent  # covers descendants
    on_child = rule(app, t, "child category", rate="0.07", category_id=child)
    assert _applied(app, tenant, seller.id, child).rule_id == on_child  # nearest category
    assert _applied(app, tenant, seller.id, parent).rule_id == on_parent
    assert _applied(app, tenant, seller.id, None).rule_id == platform  # no category
    on_seller = rule(app, t, "seller", rate="0.08", seller_id=seller.id)
    assert _applied(app, tenant, seller.id, child).rule_id == on_seller
    both = rule(app, t, "seller+parent", rate="0.09", seller_id=seller.id, category_id=parent)
    applied = _applied(app, tenant, seller.id, child)
    assert (applied.rule_id, applied.rate, applied.level) == (
        both,
        Decimal("0.0900"),
        "seller + category",
    )
    # the other seller gets none of the first seller's rules
    assert _applied(app, tenant, seller2.id, child).rule_id == on_child
    assert _applied(app, tenant, seller2.id, None).rule_id == platform


def test_validity_dates_and_ties(app, shop):
    tenant, seller, _, (child, _) = shop
    t = tenant.id
    rule(app, t, "expired", rate="0.20", seller_id=seller.id, valid_until=days(-1))
    rule(app, t, "future", rate="0.30", seller_id=seller.id, valid_from=days(1))
    always = rule(app, t, "always", rate="0.11", seller_id=seller.id)
    assert _applied(app, tenant, seller.id, child).rule_id == always
    newer = rule(app, t, "newer", rate="0.12", seller_id=seller.id, valid_from=days(-2))
    rule(app, t, "older", rate="0.13", seller_id=seller.id, valid_from=days(-10))
    assert _applied(app, tenant, seller.id, child).rule_id == newer  # newest valid_from
    # at another moment, another rule: from is included, until excluded
    with app.app_context(), tenant_scope(t):
        future = db.session.get(CommissionRule, newer)
        start = future.valid_from
    assert _applied(app, tenant, seller.id, child, at=days(2)).rate == Decimal("0.3000")
    assert _applied(app, tenant, seller.id, child, at=start).rule_id == newer
    with app.app_context(), tenant_scope(t):
        row = db.session.get(CommissionRule, always)
        row.valid_until = start
        db.session.commit()
    assert _applied(app, tenant, seller.id, child, at=days(-3)).rate == Decimal("0.1300")


def test_percentage_and_fixed_per_line_and_per_order(app, shop):
    tenant, seller, _, (child, _) = shop
    rule(
        app,
        tenant.id,
        "fees",
        rate="0.0500",
        fixed_amount="0.30",
        currency="USD",
        category_id=child,
    )
    applied = _applied(app, tenant, seller.id, child)
    assert applied.line_amount(Decimal("19.99"), "USD") == Decimal("1.30")  # 0.9995 -> 1.00 + 0.30
    assert applied.fixed_per_order == 0
    per_order = rule(
        app,
        tenant.id,
        "per order",
        fixed_amount="1.00",
        fixed_per="order",
        currency="USD",
        seller_id=seller.id,
    )
    applied = _applied(app, tenant, seller.id, None)
    assert applied.rule_id == per_order and applied.rate == 0
    assert applied.line_amount(Decimal("50.00"), "USD") == Decimal("0.00")
    assert applied.fixed_per_order == Decimal("1.00")
    # a rule in another currency does not apply to a USD sale
    euro = rule(
        app, tenant.id, "euro", rate="0.5", currency="EUR", seller_id=seller.id, category_id=child
    )
    assert _applied(app, tenant, seller.id, child).rule_id != euro
    assert _applied(app, tenant, seller.id, child, currency="EUR").rule_id == euro


def test_a_zero_decimal_currency_is_charged_in_whole_units(app, shop):
    tenant, seller, _, (child, _) = shop
    rule(
        app, tenant.id, "yen", rate="0.1000", fixed_amount="50", currency="JPY", seller_id=seller.id
    )
    with app.app_context(), tenant_scope(tenant.id):
        seen = services.preview(seller.id, child, Decimal("1235"), "JPY")
    # 10 % of 1235 is 123.5 -> 124 (half-up to the yen), + 50 per line
    assert (seen.percentage_part, seen.fixed_line_part, seen.total_for_one_line_order) == (
        Decimal("124"),
        Decimal("50"),
        Decimal("174"),
    )
    assert seen.applied.level == "seller"
    with app.app_context(), tenant_scope(tenant.id):
        usd = services.preview(seller.id, child, Decimal("19.99"), "USD")
    assert usd.applied.rule_id is None and usd.percentage_part == Decimal("2.00")


@pytest.mark.parametrize(
    "fields, field",
    [
        ({}, "rate"),
        ({"rate": Decimal("1.5")}, "rate"),
        ({"fixed_amount": Decimal("1.00")}, "currency"),
        ({"fixed_amount": Decimal("-1"), "currency": "USD"}, "fixed_amount"),
        ({"rate": Decimal("0.1"), "fixed_per": "week"}, "fixed_per"),
        ({"rate": Decimal("0.1"), "valid_from": days(2), "valid_until": days(1)}, "valid_until"),
        ({"rate": Decimal("0.1"), "currency": "EURO"}, "currency"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(ctx, fields, field):
    with pytest.raises(ValidationError) as exc:
        services.prepare_rule(CommissionRule(name="bad", **fields))
    assert field in exc.value.details
