"""app.dashboards against figures worked out by hand from tests/builders/dashboards.py's shop.

Seller A's sub-orders in the period 2026-10-01..10 (USD unless said):
  o1  100.00 commission 10.00 delivered
  o2   50.00 commission  5.00 processing        (B's 200.00 / 30.00 paid on the same order)
  o3   80.00 commission  8.00 partially_refunded, a completed refund of 20.00 (a rejected one of 30)
  o4   60.00 cancelled, o5 40.00 pending: not sales
  o6   30.00 commission  3.00 refunded: all of it paid back
  o7   25.00 EUR commission 2.50 shipped
  o11  45.00 commission  4.50 refund_requested (the request is waiting: nothing paid back)
  o12  10.00 commission  1.00 paid, placed at 23:59:59 on the period's last day
Previous period (2026-09-21..30): 130.00 delivered and 70.00 completed (at 23:00 on the 30th).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.core.errors import PermissionDenied, ValidationError
from app.core.tenancy import tenant_scope
from app.dashboards import Period, platform_dashboard, seller_dashboard
from app.extensions import db
from app.payouts import ledger
from app.payouts.statements import Balance
from app.security import roles
from app.security.actor import Actor
from app.sellers.actors import seller_id_of
from tests.builders.dashboards import FROM, TO, two_sellers_shop

PERIOD = Period(dt.date.fromisoformat(FROM), dt.date.fromisoformat(TO))


@pytest.fixture(scope="module")
def shop(app):
    from tests.builders.factories import Factory

    return two_sellers_shop(app, Factory(app))


def _actor(user, *role_names) -> Actor:
    return Actor(
        user_id=user.id,
        tenant_id=user.tenant_id,
        role_names=frozenset(role_names),
        find_seller_id=seller_id_of,
    )


def _seller(app, shop, seller):
    with app.app_context(), tenant_scope(shop.tenant.id):
        return seller_dashboard(_actor(seller.user, roles.SELLER), PERIOD)


def _by_currency(dashboard):
    return {comparison.currency: comparison for comparison in dashboard.sales}


def test_seller_sales_net_of_refunds_and_commission(app, shop):
    usd = _by_currency(_seller(app, shop, shop.a))["USD"]
    now = usd.current
    # gross: o1 100 + o2 50 + o3 80 + o6 30 + o11 45 + o12 10 (cancelled o4, pending o5 out)
    assert now.gross == Decimal("315.00")
    assert now.orders == 6
    # refunded: o3's completed 20 (not the rejected 30) + o6's whole 30; o11's request waits
    assert now.refunded == Decimal("50.00")
    # commission on what was kept: 10 + 5 + 8 x 60/80 = 6 + 0 (o6) + 4.50 + 1 = 26.50
    assert now.commission == Decimal("26.50")
    assert now.net == Decimal("238.50")  # 315 - 50 - 26.50
    assert now.average_order_value == Decimal("52.50")  # 315 / 6
    before = usd.previous
    assert (before.gross, before.orders, before.net) == (
        Decimal("200.00"),
        2,
        Decimal("180.00"),  # 200 - 0 - (13 + 7)
    )
    assert usd.gross_change_pct == Decimal("57.5")  # (315 - 200) / 200
    assert usd.orders_change_pct == Decimal("200.0")  # (6 - 2) / 2


def test_currencies_are_never_added_together(app, shop):
    eur = _by_currency(_seller(app, shop, shop.a))["EUR"]
    assert (eur.current.gross, eur.current.commission, eur.current.net, eur.current.orders) == (
        Decimal("25.00"),
        Decimal("2.50"),
        Decimal("22.50"),
        1,
    )
    assert eur.previous.gross == Decimal("0.00") and eur.gross_change_pct is None


def test_seller_orders_by_status_count_every_sub_order_placed(app, shop):
    counts = _seller(app, shop, shop.a).orders_by_status
    assert {k: v for k, v in counts.items() if v} == {
        "delivered": 1,
        "processing": 1,
        "partially_refunded": 1,
        "cancelled": 1,
        "pending": 1,
        "refunded": 1,
        "shipped": 1,
        "refund_requested": 1,
        "paid": 1,
    }
    assert counts["completed"] == 0  # every status is named


def test_sales_by_day(app, shop):
    days = [
        (d.day.isoformat(), d.currency, d.gross, d.orders)
        for d in _seller(app, shop, shop.a).sales_by_day
    ]
    assert days == [
        ("2026-10-02", "USD", Decimal("100.00"), 1),
        ("2026-10-03", "USD", Decimal("50.00"), 1),
        ("2026-10-04", "USD", Decimal("45.00"), 1),
        ("2026-10-05", "USD", Decimal("80.00"), 1),
        ("2026-10-08", "USD", Decimal("30.00"), 1),
        ("2026-10-09", "EUR", Decimal("25.00"), 1),
        ("2026-10-10", "USD", Decimal("10.00"), 1),
    ]


def test_top_products_by_revenue_and_units(app, shop):
    p1, p2, p3, _p4, p5 = shop.products
    top = _seller(app, shop, shop.a).top_products
    assert [(p.product_id, p.currency, p.revenue, p.units) for p in top.by_revenue] == [
        (p1.id, "USD", Decimal("180.00"), 3),  # o1 100 (2) + o3 80 (1)
        (p3.id, "USD", Decimal("75.00"), 2),  # o6 30 + o11 45
        (p2.id, "USD", Decimal("50.00"), 5),
        (p2.id, "EUR", Decimal("25.00"), 1),
        (p5.id, "USD", Decimal("10.00"), 1),
    ]  # p4's units were cancelled or not paid: never a top product
    assert [(p.product_id, p.currency, p.units) for p in top.by_units] == [
        (p2.id, "USD", 5),
        (p1.id, "USD", 3),
        (p3.id, "USD", 2),
        (p2.id, "EUR", 1),  # 1 unit each: the larger revenue first
        (p5.id, "USD", 1),
    ]


def test_low_stock_and_work_waiting(app, shop):
    dashboard = _seller(app, shop, shop.a)
    assert dashboard.low_stock.total == 1
    assert [(i.sku, i.available, i.reorder_point) for i in dashboard.low_stock.items] == [
        (shop.low.sku, 2, 3)
    ]
    actions = dashboard.actions
    assert (actions.to_process, actions.to_ship, actions.refund_requests) == (1, 1, 1)
    assert [w.sub_order_id for w in actions.recent] == [
        shop.subs["o12"][0],
        shop.subs["o11"][0],
        shop.subs["o2"][0],
    ]


def test_a_seller_sees_only_its_own(app, shop):
    dashboard = _seller(app, shop, shop.b)
    (usd,) = dashboard.sales
    assert (usd.currency, usd.current.gross, usd.current.commission, usd.current.net) == (
        "USD",
        Decimal("200.00"),
        Decimal("30.00"),
        Decimal("170.00"),
    )
    assert usd.current.orders == 1 and usd.previous.orders == 0
    assert {k: v for k, v in dashboard.orders_by_status.items() if v} == {"paid": 1}
    assert [p.product_id for p in dashboard.top_products.by_revenue] == [shop.q1.id]
    assert [i.sku for i in dashboard.low_stock.items] == [shop.q1.sku]
    assert (dashboard.actions.to_process, dashboard.actions.to_ship) == (1, 0)
    assert [w.sub_order_id for w in dashboard.actions.recent] == [shop.subs["o2"][1]]


def test_platform_figures(app, shop, factory):
    admin = factory.user(shop.tenant, roles.ADMIN)
    with app.app_context(), tenant_scope(shop.tenant.id):
        dashboard = platform_dashboard(_actor(admin, roles.ADMIN), PERIOD)
    usd = _by_currency(dashboard)["USD"]
    # A's 315 + B's 200; orders o1 o2 o3 o6 o11 o12 (o2 once, though two sellers' sub-orders)
    assert (usd.current.gross, usd.current.orders) == (Decimal("515.00"), 6)
    assert usd.current.commission == Decimal("56.50")  # A's 26.50 + B's 30
    assert usd.current.refunded == Decimal("50.00")
    assert usd.previous.gross == Decimal("200.00")
    assert _by_currency(dashboard)["EUR"].current.gross == Decimal("25.00")
    # the other tenant's 777 and its waiting refund request are not this shop's
    assert dashboard.sellers_pending_review == 1
    assert dashboard.refund_requests_waiting == 1
    assert dashboard.orders_by_status["paid"] == 2  # o2's B part and o12


def test_who_may_ask(app, shop, factory):
    pending = factory.seller(shop.tenant, status="pending")
    customer = factory.user(shop.tenant, roles.CUSTOMER)
    with app.app_context(), tenant_scope(shop.tenant.id):
        with pytest.raises(PermissionDenied) as refused:
            seller_dashboard(_actor(pending.user, roles.SELLER), PERIOD)
        assert refused.value.code == "seller_not_approved"
        with pytest.raises(PermissionDenied):
            seller_dashboard(_actor(customer, roles.CUSTOMER), PERIOD)
        with pytest.raises(PermissionDenied):
            platform_dashboard(_actor(shop.a.user, roles.SELLER), PERIOD)


def test_periods():
    today = dt.date(2026, 12, 7)
    default = Period.of(None, None, today=today)
    assert (default.start, default.end, default.days) == (dt.date(2026, 11, 8), today, 30)
    assert default.previous == Period(dt.date(2026, 10, 9), dt.date(2026, 11, 7))
    assert Period.of(dt.date(2026, 12, 1), None, today=today).end == today  # never the future
    assert Period.last(7, today=today).start == dt.date(2026, 12, 1)
    for start, end in (
        (dt.date(2026, 12, 2), dt.date(2026, 12, 1)),  # ends before it starts
        (dt.date(2025, 1, 1), dt.date(2026, 12, 1)),  # longer than 366 days
        (dt.date(2026, 12, 8), dt.date(2026, 12, 9)),  # in the future
    ):
        with pytest.raises(ValidationError):
            Period.of(start, end, today=today)


def test_balances_come_from_the_sellers_ledger(app, shop, factory):
    """The dashboard's balances are the payouts ledger's: an admin's adjustment of 12.50 USD to
    seller A (available at once) shows as A's available money, and B, with no entry, has none."""
    admin = factory.user(shop.tenant, roles.ADMIN)
    with app.app_context(), tenant_scope(shop.tenant.id):
        ledger.record_adjustment(
            _actor(admin, roles.ADMIN),
            ledger.Adjustment(
                seller_id=shop.a.id, currency="USD", amount=Decimal("12.50"), reason="test"
            ),
        )
        db.session.commit()
    assert _seller(app, shop, shop.a).balances == (
        Balance(
            currency="USD",
            pending=Decimal("0.00"),
            available=Decimal("12.50"),
            paid=Decimal("0.00"),
        ),
    )
    assert _seller(app, shop, shop.b).balances == ()
