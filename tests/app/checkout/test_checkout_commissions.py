"""Checkout asks app.commissions for each line's rule and freezes it on the order: the rule id,
rate, fixed part and amount on the line, the per-order fixed part on the sub-order; a rule changed
or deleted afterwards changes no order. No rule: the seller's own commission_rate, as before."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.catalog.models import Product
from app.commissions.models import CommissionRule
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.orders.models import OrderLine, SubOrder
from app.tenants.models import Tenant
from tests.builders.commissions import rule
from tests.builders.orders import place, sub_of


def _category(app, product) -> int:
    with app.app_context(), tenant_scope(product.tenant_id):
        return db.session.get(Product, product.id).category_id


def _frozen(app, tenant_id, order_id):
    with app.app_context(), tenant_scope(tenant_id):
        subs = db.session.scalars(select(SubOrder).where(SubOrder.order_id == order_id)).all()
        return {
            s.seller_id: (
                s.commission_fixed,
                s.commission_amount,
                [
                    (
                        ln.commission_rule_id,
                        ln.commission_rate,
                        ln.commission_fixed,
                        ln.commission_amount,
                    )
                    for ln in s.lines
                ],
            )
            for s in subs
        }


def test_rules_are_frozen_on_lines_and_sub_orders(app, client, shop):
    t = shop.tenant.id
    line_rule = rule(
        app,
        t,
        "seller 1 in its category",
        rate="0.05",
        fixed_amount="0.30",
        currency="USD",
        seller_id=shop.seller.id,
        category_id=_category(app, shop.product),
    )
    order_rule = rule(
        app,
        t,
        "seller 2 per order",
        rate="0.02",
        fixed_amount="1.00",
        fixed_per="order",
        currency="USD",
        seller_id=shop.seller2.id,
    )
    rule(app, t, "platform default", rate="0.5")  # less specific: applies to neither
    order = place(client, shop)  # seller 1: 2 x 10.00; seller 2: 1 x 25.50 (20 % VAT, excluded)
    frozen = _frozen(app, t, order["id"])
    # seller 1: 5 % of 20.00 = 1.00 + 0.30 per line
    assert frozen[shop.seller.id] == (
        Decimal("0.00"),
        Decimal("1.30"),
        [(line_rule, Decimal("0.0500"), Decimal("0.30"), Decimal("1.30"))],
    )
    # seller 2: 2 % of 25.50 = 0.51 on the line, + 1.00 once on the sub-order
    assert frozen[shop.seller2.id] == (
        Decimal("1.00"),
        Decimal("1.51"),
        [(order_rule, Decimal("0.0200"), Decimal("0.00"), Decimal("0.51"))],
    )
    assert sub_of(order, shop.seller2.id)["commission_amount"] == "1.51"

    # the rules change, one is deleted: the order keeps what applied when it was placed
    with app.app_context(), tenant_scope(t):
        db.session.get(CommissionRule, line_rule).rate = Decimal("0.9")
        db.session.delete(db.session.get(CommissionRule, order_rule))
        db.session.commit()
    assert _frozen(app, t, order["id"]) == frozen
    again = place(client, shop)
    now = _frozen(app, t, again["id"])
    assert now[shop.seller.id][2][0][:2] == (line_rule, Decimal("0.9000"))
    assert now[shop.seller2.id][2][0][1] == Decimal("0.5000")  # the platform default now


def test_no_rule_keeps_the_sellers_own_rate(app, client, shop):
    order = place(client, shop)
    frozen = _frozen(app, shop.tenant.id, order["id"])
    assert frozen[shop.seller.id] == (
        Decimal("0.00"),
        Decimal("2.00"),
        [(None, Decimal("0.1000"), Decimal("0.00"), Decimal("2.00"))],
    )


def test_a_yen_order_is_charged_in_whole_yen(app, client, shop, factory):
    t = shop.tenant.id
    with app.app_context(), tenant_scope(t):
        db.session.get(Tenant, t).default_currency = "JPY"
        for product in (shop.product, shop.product2):
            for variant in db.session.get(Product, product.id).variants:
                variant.price, variant.currency = Decimal("1235"), "JPY"
        db.session.commit()
    rule(app, t, "yen", rate="0.1", fixed_amount="50", currency="JPY", seller_id=shop.seller.id)
    order = place(client, shop, items=[(shop.product.variant_id, 1)])
    assert order["currency"] == "JPY"
    frozen = _frozen(app, t, order["id"])
    # 10 % of 1235 = 123.5 -> 124 whole yen, + 50
    (line,) = frozen[shop.seller.id][2]
    assert line[3] == Decimal("174") and line[2] == Decimal("50")
    with app.app_context(), tenant_scope(t):
        amounts = db.session.scalars(select(OrderLine.commission_amount)).all()
    assert all(a == a.to_integral_value() for a in amounts if a is not None)
