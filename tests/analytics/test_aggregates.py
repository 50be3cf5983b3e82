"""The daily aggregates: kept current by the order events' consumers, equal to a rebuild from the
source after a realistic sequence (payments, a cancellation, a partial refund, two currencies), in
the tenant's local days, with drift found and repaired by the rebuild."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from analytics.aggregates import maintain
from analytics.aggregates.models import (
    CategorySalesDaily,
    CustomerDay,
    ProductDaily,
    SalesDaily,
)
from app.catalog.models import Product
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.orders.models import Order, SubOrder
from tests.builders.analytics import (
    planted,
    rebuild,
    rows,
    set_currency,
    set_time_zone,
    snapshot,
)
from tests.builders.dashboards import Part
from tests.builders.orders import CARD_OK, ask, decide, place, requests_of, sub_of

CENT = Decimal("0.01")


def _sub(app, tenant_id, sub_id) -> SubOrder:
    with app.app_context(), tenant_scope(tenant_id):
        sub = db.session.get(SubOrder, sub_id)
        db.session.expunge(sub)
        return sub


def _category(app, tenant_id, product_id) -> int:
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.get(Product, product_id).category_id


def test_consumers_and_rebuild_agree_after_a_realistic_sequence(app, client, factory, shop):
    t = shop.tenant.id
    set_time_zone(app, t, "Pacific/Auckland")
    today = dt.datetime.now(ZoneInfo("Pacific/Auckland")).date()
    # 1. the customer buys 2 of A's product and 1 of B's, paid
    o1 = place(client, shop, payment=CARD_OK)
    # 2. an order never paid, then cancelled by the customer: no sale
    o2 = place(client, shop, items=[(shop.product.variant_id, 1)])
    assert client.post(f"/api/v1/orders/{o2['id']}/cancel/", headers=shop.h).status_code == 200
    # 3. another customer buys 3 of A's product, paid, then gets one unit refunded
    o3 = place(client, shop, h=shop.h_other, items=[(shop.product.variant_id, 3)], payment=CARD_OK)
    line = sub_of(o3, shop.seller.id)["lines"][0]
    assert ask(client, shop.h_other, o3["id"], (line["id"], 1)).status_code == 200
    [request] = requests_of(app, shop, o3["id"])
    decide(client, shop.h_seller, o3["id"], request.id)
    # 4. a paid order that the shop cancels: no longer a sale
    o4 = place(client, shop, items=[(shop.product2.variant_id, 1)], payment=CARD_OK)
    assert client.post(f"/api/v1/orders/{o4['id']}/cancel/", headers=shop.h).status_code == 200
    # 5. the shop now sells in EUR: the customer buys 1 of A's product
    set_currency(app, t, "EUR")
    o5 = place(client, shop, items=[(shop.product.variant_id, 1)], payment=CARD_OK)
    assert o5["currency"] == "EUR" and o1["currency"] == "USD"

    a1, b1 = (_sub(app, t, sub_of(o1, s.id)["id"]) for s in (shop.seller, shop.seller2))
    a3 = _sub(app, t, sub_of(o3, shop.seller.id)["id"])
    a5 = _sub(app, t, sub_of(o5, shop.seller.id)["id"])
    refund = request.amount
    assert refund > 0 and a3.status == "partially_refunded"

    # hand-computed: commission kept on the part not refunded, half-up to the cent
    kept3 = (a3.commission_amount * (a3.total - refund) / a3.total).quantize(CENT, ROUND_HALF_UP)
    gross_a = a1.total + a3.total
    commission_a = a1.commission_amount + kept3
    a_usd = (
        today, shop.seller.id, "storefront", "USD",
        2, 2 - (1 if b1.id < a1.id else 0), 5, gross_a, refund, commission_a,
        gross_a - refund - commission_a,
    )  # fmt: skip
    b_usd = (
        today, shop.seller2.id, "storefront", "USD",
        1, 1 if b1.id < a1.id else 0, 1, b1.total, 0, b1.commission_amount,
        b1.total - b1.commission_amount,
    )  # fmt: skip
    a_eur = (
        today, shop.seller.id, "storefront", "EUR",
        1, 1, 1, a5.total, 0, a5.commission_amount, a5.total - a5.commission_amount,
    )  # fmt: skip
    assert rows(app, t, SalesDaily) == sorted([a_usd, b_usd, a_eur])

    p, q = shop.product.id, shop.product2.id
    assert rows(app, t, ProductDaily) == sorted(
        [
            # A's product in USD: o1 (2 units) and o3 (3 units, 1 refunded)
            (today, p, shop.seller.id, "USD", 2, 5, Decimal(o1_line(o1, shop, p)) + Decimal(line["total"]), 1),
            (today, q, shop.seller2.id, "USD", 1, 1, Decimal(o1_line(o1, shop, q)), 0),
            (today, p, shop.seller.id, "EUR", 1, 1, Decimal(o1_line(o5, shop, p)), 0),
        ]
    )  # fmt: skip
    # the category rows of a single-category sub-order hold its lines and its refunds' share
    cat_a = _category(app, t, p)
    [a_cat_usd] = [r for r in rows(app, t, CategorySalesDaily) if r[2] == cat_a and r[4] == "USD"]
    lines_a = Decimal(o1_line(o1, shop, p)) + Decimal(line["total"])
    share3 = (refund * Decimal(line["total"]) / a3.total).quantize(CENT, ROUND_HALF_UP)
    assert a_cat_usd[5:8] == (2, 5, lines_a) and a_cat_usd[8] == share3

    # customers: the customer's orders in two currencies, the other's net of its refund
    u, v = shop.customer.user_id, shop.other.user_id
    days = rows(app, t, CustomerDay)
    assert (0, u, today, "USD", 1, Decimal(o1["total"])) in days
    assert (0, u, today, "EUR", 1, Decimal(o5["total"])) in days
    assert (0, v, today, "USD", 1, Decimal(o3["total"]) - refund) in days
    assert (shop.seller2.id, u, today, "USD", 1, b1.total) in days
    assert not [r for r in days if r[1] == u and r[0] == 0 and r[4] != 1]
    customers = snapshot(app, t)["analytics_customers"]
    assert (0, u, today, 2) in customers and (0, v, today, 1) in customers

    # the rebuild finds nothing to repair and changes nothing
    before = snapshot(app, t)
    report = rebuild(app, t)
    assert report["drifted"] is False, report["drift"]
    assert report["sub_orders"] == 6  # o1 (2), o2, o3, o4, o5
    assert snapshot(app, t) == before
    # and the same for a window of the last 3 days
    assert rebuild(app, t, days=3)["drifted"] is False
    assert snapshot(app, t) == before


def o1_line(order: dict, shop, product_id: int) -> str:
    for sub in order["sub_orders"]:
        for line in sub["lines"]:
            if line["product_id"] == product_id:
                return line["total"]
    raise AssertionError(product_id)


def test_an_order_at_2330_local_time_belongs_to_that_local_day(app, factory):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    product = factory.product(seller)
    buyer = factory.customer(tenant)
    set_time_zone(app, tenant.id, "America/New_York")  # UTC-5 in December
    part = Part(seller.id, "40.00", "4.00", "paid", ((product, 1, "40.00"),))
    planted(app, tenant.id, "2026-12-02 04:30", part, customer_user_id=buyer.user_id)  # 23:30 1st
    planted(app, tenant.id, "2026-12-02 05:30", part, customer_user_id=buyer.user_id)  # 00:30 2nd
    # a pending order is no sale
    planted(app, tenant.id, "2026-12-02 06:00", Part(seller.id, "9.00", "0.90", "pending"))
    by_day = [(r[0], r[4], r[7]) for r in rows(app, tenant.id, SalesDaily)]
    assert by_day == [
        (dt.date(2026, 12, 1), 1, Decimal("40.00")),
        (dt.date(2026, 12, 2), 1, Decimal("40.00")),
    ]
    before = snapshot(app, tenant.id)
    assert before["analytics_customers"] == [
        (0, buyer.user_id, dt.date(2026, 12, 1), 2),
        (seller.id, buyer.user_id, dt.date(2026, 12, 1), 2),
    ]
    report = rebuild(app, tenant.id)
    assert report["drifted"] is False and report["time_zone"] == "America/New_York"
    assert snapshot(app, tenant.id) == before
    # the same hours in a UTC tenant are both the 2nd
    set_time_zone(app, tenant.id, None)
    assert rebuild(app, tenant.id)["drifted"] is True  # the days moved: reported, and repaired
    assert [(r[0], r[4]) for r in rows(app, tenant.id, SalesDaily)] == [(dt.date(2026, 12, 2), 2)]


def test_the_rebuild_reports_and_repairs_drift_and_a_replay_adds_nothing(app, factory):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    product = factory.product(seller)
    part = Part(seller.id, "30.00", "3.00", "delivered", ((product, 3, "30.00"),))
    [sub_id] = planted(app, tenant.id, "2026-11-10 12:00", part)
    planted(app, tenant.id, "2026-11-11 12:00", part)
    before = snapshot(app, tenant.id)
    with app.app_context(), tenant_scope(tenant.id):
        order_id = db.session.get(SubOrder, sub_id).order_id
        maintain.refresh_order(tenant.id, order_id)  # a second delivery of the same state
        db.session.commit()
    assert snapshot(app, tenant.id) == before
    # a row lost behind the services' back, another one doubled
    with app.app_context():
        table = SalesDaily.__table__
        db.session.execute(
            delete(table).where(
                table.c.tenant_id == tenant.id, table.c.day == dt.date(2026, 11, 10)
            )
        )
        db.session.execute(
            table.update()
            .where(table.c.tenant_id == tenant.id, table.c.day == dt.date(2026, 11, 11))
            .values(gross=table.c.gross * 2)
        )
        db.session.commit()
    report = rebuild(app, tenant.id, days=30, today=dt.date(2026, 11, 20))
    [sales] = [d for d in report["drift"] if d["table"] == "analytics_sales_daily"]
    assert (sales["rows_missing"], sales["rows_extra"], sales["rows_different"]) == (1, 0, 1)
    # 30.00 missing, 30.00 too much: the figures' net difference is 0 on gross, +1 order
    assert sales["figures"]["orders"] == 1 and sales["figures"]["units"] == 3
    assert report["drifted"] is True
    assert snapshot(app, tenant.id) == before
    assert rebuild(app, tenant.id)["drifted"] is False
    # another tenant's rows were never touched
    other = factory.tenant()
    assert rows(app, other.id, SalesDaily) == []
    assert rebuild(app, other.id)["drifted"] is False


def test_views_and_cart_adds_are_folded_in_from_the_activity_log(app, client, factory, shop):
    t = shop.tenant.id
    for kind in ("product_view", "product_view", "add_to_cart"):
        response = client.post(
            "/api/v1/customers/log-activity/",
            headers=shop.h,
            json={"type": kind, "payload": {"product_id": shop.product.id}},
        )
        assert response.status_code in (200, 201), response.get_json()
    report = rebuild(app, t, days=2)
    assert report["activity"]["rows"] == 1
    today = dt.datetime.now(dt.timezone.utc).date()
    assert [r[:3] for r in rows(app, t, ProductDaily)] == []
    from analytics.aggregates.models import ProductActivityDaily

    assert rows(app, t, ProductActivityDaily) == [(today, shop.product.id, shop.seller.id, 2, 1)]
    with app.app_context(), tenant_scope(t):
        assert db.session.scalar(select(CustomerDay.id).limit(1)) is None


def test_concurrent_consumers_add_each_sub_order_once(app, factory, is_sqlite):
    """Twelve threads refresh two orders of the same seller and day at once (as the consumers of
    different events of those orders would): each order is counted once, the shared row holds
    both (row locks on the facts, atomic increments on the aggregates)."""
    if is_sqlite:
        pytest.skip("one writer at a time on SQLite")
    import threading

    from tests.builders.dashboards import placed

    tenant = factory.tenant()
    seller = factory.seller(tenant)
    product = factory.product(seller)
    buyer = factory.customer(tenant)
    orders = []
    for total in ("10.00", "32.50"):
        [sub_id] = placed(
            app,
            tenant.id,
            "2026-11-10 12:00",
            Part(seller.id, total, "1.00", "paid", ((product, 1, total),)),
        )
        orders.append(_sub(app, tenant.id, sub_id).order_id)
        with app.app_context(), tenant_scope(tenant.id):  # one buyer: its rows are shared too
            db.session.get(Order, orders[-1]).customer_user_id = buyer.user_id
            db.session.commit()
    barrier = threading.Barrier(12)
    failures = []

    def consumer(order_id):
        try:
            with app.app_context(), tenant_scope(tenant.id):
                barrier.wait()
                maintain.refresh_order(tenant.id, order_id)
                db.session.commit()
        except Exception as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=consumer, args=(orders[i % 2],)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [], [str(f)[:400] for f in failures]
    assert rows(app, tenant.id, SalesDaily) == [
        (dt.date(2026, 11, 10), seller.id, "storefront", "USD",
         2, 2, 2, Decimal("42.50"), Decimal("0.00"), Decimal("2.00"), Decimal("40.50")),
    ]  # fmt: skip
    assert rebuild(app, tenant.id)["drifted"] is False
    assert snapshot(app, tenant.id)["analytics_customers"] == [
        (0, buyer.user_id, dt.date(2026, 11, 10), 2),
        (seller.id, buyer.user_id, dt.date(2026, 11, 10), 2),
    ]


def test_the_nightly_job_rebuilds_each_tenant_and_returns_its_drift(app, factory):
    from jobs import schedule, tasks

    tenant = factory.tenant()
    seller = factory.seller(tenant)
    product = factory.product(seller)
    planted(
        app, tenant.id, "2026-11-10 12:00",
        Part(seller.id, "12.00", "1.20", "paid", ((product, 1, "12.00"),)),
    )  # fmt: skip
    with app.app_context():
        table = SalesDaily.__table__
        db.session.execute(delete(table).where(table.c.tenant_id == tenant.id))
        db.session.commit()
        [report] = tasks.rebuild_analytics(tenant_id=tenant.id, days=None)
    assert report["tenant_id"] == tenant.id and report["drifted"] is True
    [sales] = [d for d in report["drift"] if d["table"] == "analytics_sales_daily"]
    assert sales["rows_missing"] == 1 and sales["figures"]["gross"] == "12.00"
    assert sales["examples"][0]["rebuilt"]["gross"] == "12.00"
    assert rows(app, tenant.id, SalesDaily)[0][7] == Decimal("12.00")
    with app.app_context():
        [again] = tasks.rebuild_analytics(tenant_id=tenant.id)  # the nightly window: 35 days
        assert again["drifted"] is False and len(again["window"]) == 2
        [views] = tasks.refresh_analytics_activity(tenant_id=tenant.id)
        assert views["activity"]["rows"] == 0
    entries = {(e.func.__name__, e.queue) for e in schedule.SCHEDULE}
    assert {("rebuild_analytics", "low"), ("refresh_analytics_activity", "low")} <= entries


def test_the_aggregates_mean_what_the_dashboards_mean(app, factory):
    """The dashboards' hand-worked shop (tests.builders.dashboards: refunds completed, rejected
    and whole, cancellations, pending orders, two currencies), in a UTC tenant: per seller and
    currency, the aggregates' gross, refunded, commission, net and orders over the period equal
    app.dashboards' figures, and shop-wide orders count each order once as they do."""
    from app import dashboards
    from tests.builders.dashboards import FROM, TO, two_sellers_shop

    shop = two_sellers_shop(app, factory)
    rebuild(app, shop.tenant.id)
    period = dashboards.Period(dt.date.fromisoformat(FROM), dt.date.fromisoformat(TO))
    table = rows(app, shop.tenant.id, SalesDaily)
    checked = 0
    with app.app_context(), tenant_scope(shop.tenant.id):
        for seller_id in (shop.a.id, shop.b.id, None):
            expected = dashboards._sales(period, seller_id)
            assert expected, seller_id
            for currency, figures in expected.items():
                mine = [
                    r
                    for r in table
                    if period.start <= r[0] <= period.end
                    and r[3] == currency
                    and seller_id in (None, r[1])
                ]
                orders = sum(r[5] if seller_id is None else r[4] for r in mine)
                gross, refunded, commission, net = (sum(r[i] for r in mine) for i in (7, 8, 9, 10))
                assert (orders, gross, refunded, commission, net) == (
                    figures.orders,
                    figures.gross,
                    figures.refunded,
                    figures.commission,
                    figures.net,
                ), (seller_id, currency)
                checked += 1
    assert checked >= 3


def test_rows_of_tenant_a_are_never_visible_under_tenant_b(app, factory):
    from sqlalchemy import func

    from analytics.aggregates.models import (
        CustomerSummary,
        ProductActivityDaily,
        SubOrderFact,
    )
    from app.customers.engagement_models import CustomerActivity
    from tests.builders.dashboards import utc

    a, b = factory.tenant(), factory.tenant()
    seller = factory.seller(a)
    product = factory.product(seller)
    buyer = factory.customer(a)
    planted(
        app, a.id, "2026-11-10 12:00",
        Part(seller.id, "12.00", "1.20", "paid", ((product, 1, "12.00"),)),
        customer_user_id=buyer.user_id,
    )  # fmt: skip
    with app.app_context(), tenant_scope(a.id):
        db.session.add(
            CustomerActivity(
                customer_id=buyer.id,
                type="product_view",
                product_id=product.id,
                payload={},
                created_at=utc("2026-11-10 11:00"),
            )
        )
        db.session.commit()
    rebuild(app, a.id)
    models = (
        SalesDaily, CategorySalesDaily, ProductDaily, ProductActivityDaily, CustomerSummary,
        CustomerDay, SubOrderFact,
    )  # fmt: skip
    with app.app_context():
        for model in models:
            with tenant_scope(a.id):
                ids = list(db.session.scalars(select(model.id)))
                assert ids, model.__name__
            with tenant_scope(b.id):
                assert db.session.scalar(select(func.count()).select_from(model)) == 0
                assert db.session.get(model, ids[0]) is None, model.__name__
            db.session.rollback()
