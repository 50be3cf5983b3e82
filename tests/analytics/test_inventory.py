"""Inventory analytics (analytics.inventory): the job's daily facts (stock snapshots, units sold)
in the tenant's local days and idempotent, and the figures computed by hand on a small shop of two
sellers, three warehouses and two currencies; dead stock by date.

The shop (tenant in UTC, "today" 2026-10-10, period 2026-10-01..10, 10 days):
  A1  seller A, 10.00 USD: warehouse WA1 20 units, platform warehouse WP 10 units
  A2  seller A,  5.00 USD: warehouse WA2 2 units (reorder point 3: low)
  B1  seller B,  8.00 EUR: warehouse WB 6 units, 1 reserved
Sales: 10-02 A1 x4 (delivered); 10-09 A1 x6 (paid), B1 x2 (paid); not sales: 10-09 A2 x3
(cancelled), 10-05 A1 x100 (pending).
Snapshots: 10-08 as above; WA1 then goes 20 -> 14 and the 10-09 and 10-10 snapshots see it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from analytics import inventory
from analytics.inventory import DailySales, DailyStock
from app.catalog.models import ProductVariant
from app.core.errors import NotFound, PermissionDenied, ValidationError
from app.core.tenancy import tenant_scope, unscoped
from app.extensions import db
from app.inventory.models import StockLevel, Warehouse
from app.security import roles
from app.security.actor import Actor
from app.sellers.actors import seller_id_of
from app.tenants.models import Tenant
from tests.builders.dashboards import Part, placed, utc

D = dt.date
TODAY_NOON = utc("2026-10-10 12:00")


def _actor(user, *role_names) -> Actor:
    return Actor(
        user_id=user.id,
        tenant_id=user.tenant_id,
        role_names=frozenset(role_names),
        find_seller_id=seller_id_of,
    )


def _set_stock(app, tenant_id, level_id, **values):
    with app.app_context(), tenant_scope(tenant_id):
        db.session.execute(update(StockLevel).where(StockLevel.id == level_id).values(**values))
        db.session.commit()


def _refresh(app, tenant_id, at: str):
    with app.app_context():
        return inventory.refresh(tenant_id, utc(at))


@pytest.fixture(scope="module")
def shop(app):
    from tests.builders.factories import Factory

    factory = Factory(app)
    tenant = factory.tenant()
    a, b = factory.seller(tenant), factory.seller(tenant)
    a1 = factory.product(a, title="A one", price="10.00", stock=20)
    a2 = factory.product(a, title="A two", price="5.00", stock=2)
    b1 = factory.product(b, title="B one", price="8.00", stock=6)
    with app.app_context(), tenant_scope(tenant.id):
        platform = Warehouse(code="WP", name="Platform")
        db.session.add(platform)
        db.session.flush()
        a1_platform = StockLevel(
            variant_id=a1.variant_id,
            seller_id=a.id,
            warehouse_id=platform.id,
            quantity_on_hand=10,
            reorder_point=3,
        )
        db.session.add(a1_platform)
        db.session.execute(
            update(ProductVariant).where(ProductVariant.id == b1.variant_id).values(currency="EUR")
        )
        db.session.flush()
        # in stock since June: old enough to be dead stock in any window the tests ask for
        db.session.execute(
            update(StockLevel)
            .where(StockLevel.seller_id.in_([a.id, b.id]))
            .values(created_at=utc("2026-06-01 00:00"))
        )
        db.session.commit()
        platform_id, a1_platform_id = platform.id, a1_platform.id
    _set_stock(app, tenant.id, b1.stock_level_id, quantity_reserved=1)

    t = app, tenant.id
    placed(*t, "2026-10-02 09:00", Part(a.id, "40.00", "4.00", "delivered", ((a1, 4, "40.00"),)))
    placed(*t, "2026-10-05 09:00", Part(a.id, "1000.00", "1.00", "pending", ((a1, 100, "1000"),)))
    placed(*t, "2026-10-09 10:00", Part(a.id, "60.00", "6.00", "paid", ((a1, 6, "60.00"),)))
    placed(
        *t,
        "2026-10-09 10:30",
        Part(b.id, "16.00", "1.60", "paid", ((b1, 2, "16.00"),)),
        currency="EUR",
    )
    placed(*t, "2026-10-09 11:00", Part(a.id, "15.00", "1.50", "cancelled", ((a2, 3, "15.00"),)))
    with app.app_context(), tenant_scope(tenant.id):
        inventory.fold_sales(D(2026, 10, 1), D(2026, 10, 10))  # the backfill of the history
        db.session.commit()
    _refresh(app, tenant.id, "2026-10-08 12:00")
    _set_stock(app, tenant.id, a1.stock_level_id, quantity_on_hand=14)
    _refresh(app, tenant.id, "2026-10-09 12:00")
    _refresh(app, tenant.id, "2026-10-10 12:00")

    # another storefront: its stock and sales never show at the first one
    other = factory.tenant()
    c = factory.seller(other)
    c1 = factory.product(c, title="C one", price="99.00", stock=50)
    placed(app, other.id, "2026-10-09 10:00", Part(c.id, "99", "9", "paid", ((c1, 1, "99"),)))
    _refresh(app, other.id, "2026-10-10 12:00")
    return SimpleNamespace(
        tenant=tenant,
        other=other,
        a=a,
        b=b,
        c=c,
        a1=a1,
        a2=a2,
        b1=b1,
        c1=c1,
        platform_id=platform_id,
        a1_platform_id=a1_platform_id,
        admin=factory.user(tenant, roles.ADMIN),
        other_admin=factory.user(other, roles.ADMIN),
    )


def _figures(app, shop, user=None, role=roles.ADMIN, **kwargs):
    kwargs.setdefault("start", D(2026, 10, 1))
    kwargs.setdefault("end", D(2026, 10, 10))
    with app.app_context(), tenant_scope((user or shop.admin).tenant_id):
        return inventory.inventory_analytics(
            _actor(user or shop.admin, role), now=TODAY_NOON, **kwargs
        )


def _money(figures):
    return {(m.currency, str(m.value), m.units) for m in figures}


def test_the_facts_the_job_wrote(app, shop):
    with app.app_context(), tenant_scope(shop.tenant.id):
        sales = {(r.day, r.variant_id): r.units for r in db.session.scalars(select(DailySales))}
        stock = {
            (r.day, r.warehouse_id, r.variant_id): (r.on_hand, r.reserved, r.currency, r.value)
            for r in db.session.scalars(select(DailyStock))
        }
    # pending and cancelled sub-orders are not sales
    assert sales == {(D(2026, 10, 2), shop.a1.variant_id): 4, (D(2026, 10, 9), shop.a1.variant_id): 6,
                     (D(2026, 10, 9), shop.b1.variant_id): 2}  # fmt: skip
    assert stock[(D(2026, 10, 8), shop.a1.warehouse_id, shop.a1.variant_id)] == (
        20, 0, "USD", Decimal("200.00"))  # fmt: skip
    assert stock[(D(2026, 10, 9), shop.a1.warehouse_id, shop.a1.variant_id)][0] == 14
    assert stock[(D(2026, 10, 10), shop.b1.warehouse_id, shop.b1.variant_id)] == (
        6, 1, "EUR", Decimal("48.00"))  # fmt: skip
    assert len(stock) == 3 * 4  # three days x four stock levels


def test_stock_value_turnover_and_cover_by_variant(app, shop):
    f = _figures(app, shop)
    assert f.today == D(2026, 10, 10) and f.time_zone == "UTC" and f.snapshot_days == 3
    # now: USD 14x10 + 10x10 + 2x5 = 250.00 (26 units); EUR 6x8 = 48.00
    assert _money(f.stock_value) == {("USD", "250.00", 26), ("EUR", "48.00", 6)}
    series = {(d.day, d.currency): (str(d.value), d.units) for d in f.stock_value_series}
    assert series == {
        (D(2026, 10, 8), "USD"): ("310.00", 32),
        (D(2026, 10, 8), "EUR"): ("48.00", 6),
        (D(2026, 10, 9), "USD"): ("250.00", 26),
        (D(2026, 10, 9), "EUR"): ("48.00", 6),
        (D(2026, 10, 10), "USD"): ("250.00", 26),
        (D(2026, 10, 10), "EUR"): ("48.00", 6),
    }
    items = {i.key: i for i in f.items}
    assert f.total == 3 and set(items) == {
        shop.a1.variant_id,
        shop.a2.variant_id,
        shop.b1.variant_id,
    }
    a1, a2, b1 = items[shop.a1.variant_id], items[shop.a2.variant_id], items[shop.b1.variant_id]
    # A1: sold 4 + 6 = 10; on hand 30, 24, 24 -> average 26; turnover 10 / 26 = 0.38;
    # cover 24 / (10 / 10 days) = 24.0
    assert (a1.units_sold, a1.average_on_hand, a1.turnover, a1.days_of_cover) == (
        10, Decimal("26.00"), Decimal("0.38"), Decimal("24.0"))  # fmt: skip
    assert (a1.on_hand, a1.available, a1.low_stock, a1.last_sold_on) == (24, 24, 0, D(2026, 10, 9))
    assert _money(a1.stock_value) == {("USD", "240.00", 24)}
    # A2: its cancelled order is no sale: turnover 0 / 2, no cover; 2 <= 3: low
    assert (a2.units_sold, a2.turnover, a2.days_of_cover, a2.low_stock) == (
        0, Decimal("0.00"), None, 1)  # fmt: skip
    # B1: 2 / 6 = 0.33; cover 6 / 0.2 = 30.0; available 6 - 1
    assert (b1.turnover, b1.days_of_cover, b1.available, b1.reserved) == (
        Decimal("0.33"), Decimal("30.0"), 5, 1)  # fmt: skip
    assert _money(b1.stock_value) == {("EUR", "48.00", 6)}
    # all: sold 12; on hand (32 + 6), (26 + 6), (26 + 6) -> 34.00; 12 / 34 = 0.35;
    # cover 32 / 1.2 = 26.7
    t = f.totals
    assert (t.units_sold, t.average_on_hand, t.turnover, t.days_of_cover, t.low_stock) == (
        12, Decimal("34.00"), Decimal("0.35"), Decimal("26.7"), 1)  # fmt: skip


def test_grouped_by_seller_and_by_warehouse(app, shop):
    sellers = {i.key: i for i in _figures(app, shop, by="seller").items}
    a, b = sellers[shop.a.id], sellers[shop.b.id]
    # A: sold 10; on hand 32, 26, 26 -> 28.00; 10 / 28 = 0.36; cover 26 / 1.0
    assert (a.units_sold, a.average_on_hand, a.turnover, a.days_of_cover) == (
        10, Decimal("28.00"), Decimal("0.36"), Decimal("26.0"))  # fmt: skip
    assert _money(a.stock_value) == {("USD", "250.00", 26)} and a.low_stock == 1
    assert (b.units_sold, b.turnover, b.days_of_cover) == (2, Decimal("0.33"), Decimal("30.0"))
    assert _money(b.stock_value) == {("EUR", "48.00", 6)}

    warehouses = {i.key: i for i in _figures(app, shop, by="warehouse").items}
    assert {k: (w.on_hand, w.low_stock) for k, w in warehouses.items()} == {
        shop.a1.warehouse_id: (14, 0),
        shop.platform_id: (10, 0),
        shop.a2.warehouse_id: (2, 1),
        shop.b1.warehouse_id: (6, 0),
    }
    assert _money(warehouses[shop.platform_id].stock_value) == {("USD", "100.00", 10)}
    assert warehouses[shop.platform_id].turnover is None  # sales name no warehouse


def test_dead_stock_by_date(app, shop):
    # last 5 days (10-06..10): A1 and B1 sold on 10-09; A2 (2 units, 10.00 USD) did not
    f = _figures(app, shop, dead_days=5)
    assert f.totals.dead_stock == 1 and _money(f.dead_stock_value) == {("USD", "10.00", 2)}
    assert {i.key for i in f.items if i.dead_stock} == {shop.a2.variant_id}
    # today only: nothing sold on 10-10, every stock level with units is dead
    f = _figures(app, shop, dead_days=1)
    assert f.totals.dead_stock == 4
    assert _money(f.dead_stock_value) == {("USD", "250.00", 26), ("EUR", "48.00", 6)}
    # a stock level younger than the window is not dead yet
    _set_stock(app, shop.tenant.id, shop.a2.stock_level_id, created_at=utc("2026-10-07 00:00"))
    try:
        assert _figures(app, shop, dead_days=5).totals.dead_stock == 0
        assert _figures(app, shop, dead_days=3).totals.dead_stock == 1  # 10-08..10
    finally:
        _set_stock(app, shop.tenant.id, shop.a2.stock_level_id, created_at=utc("2026-06-01 00:00"))


def test_the_job_is_idempotent(app, shop):
    def rows():
        with app.app_context(), tenant_scope(shop.tenant.id):
            stock = [
                (r.id, r.day, r.warehouse_id, r.variant_id, r.on_hand, r.value, r.captured_at)
                for r in db.session.scalars(select(DailyStock).order_by(DailyStock.id))
            ]
            sales = [
                (r.id, r.day, r.variant_id, r.units)
                for r in db.session.scalars(select(DailySales).order_by(DailySales.id))
            ]
            return stock, sales

    before = rows()
    again = _refresh(app, shop.tenant.id, "2026-10-10 13:00")
    assert again.changed == 0 and (again.stock_rows, again.sales_rows) == (4, 2)
    assert rows() == before


def test_the_tenant_time_zone_decides_the_day(app, factory):
    tenant = factory.tenant()
    with app.app_context(), unscoped():
        db.session.execute(
            update(Tenant).where(Tenant.id == tenant.id).values(time_zone="America/New_York")
        )
        db.session.commit()
    seller = factory.seller(tenant)
    p = factory.product(seller, price="3.00", stock=9)
    t = app, tenant.id
    # 03:30 UTC is 23:30 on 10-09 in New York (UTC-4); 04:30 UTC is 00:30 on 10-10
    placed(*t, "2026-10-10 03:30", Part(seller.id, "6.00", "0.60", "paid", ((p, 2, "6.00"),)))
    placed(*t, "2026-10-10 04:30", Part(seller.id, "15.00", "1.50", "paid", ((p, 5, "15.00"),)))
    first = _refresh(app, tenant.id, "2026-10-10 03:45")  # 23:45 local: still the 9th
    assert first.day == D(2026, 10, 9) and first.sales_rows == 1
    second = _refresh(app, tenant.id, "2026-10-10 05:00")
    assert second.day == D(2026, 10, 10)
    with app.app_context(), tenant_scope(tenant.id):
        sales = {r.day: r.units for r in db.session.scalars(select(DailySales))}
        days = set(db.session.scalars(select(DailyStock.day)))
    assert sales == {D(2026, 10, 9): 2, D(2026, 10, 10): 5}
    assert days == {D(2026, 10, 9), D(2026, 10, 10)}


def test_sellers_see_their_own_and_tenants_are_apart(app, shop):
    f = _figures(app, shop, user=shop.a.user, role=roles.SELLER)
    assert f.seller_id == shop.a.id
    assert {i.key for i in f.items} == {shop.a1.variant_id, shop.a2.variant_id}
    assert _money(f.stock_value) == {("USD", "250.00", 26)} and f.totals.units_sold == 10
    with pytest.raises(NotFound):  # another seller's: not the caller's to know of
        _figures(app, shop, user=shop.a.user, role=roles.SELLER, seller_id=shop.b.id)
    # an admin may look at one seller
    f = _figures(app, shop, seller_id=shop.b.id)
    assert {i.key for i in f.items} == {shop.b1.variant_id} and f.totals.units_sold == 2
    # the other storefront's admin sees only its own
    f = _figures(app, shop, user=shop.other_admin)
    assert {i.key for i in f.items} == {shop.c1.variant_id}
    assert _money(f.stock_value) == {("USD", "4950.00", 50)} and f.totals.units_sold == 1
    customer = SimpleNamespace(id=shop.admin.id, tenant_id=shop.tenant.id)
    with pytest.raises(PermissionDenied):
        _figures(app, shop, user=customer, role=roles.CUSTOMER)


def test_bad_arguments(app, shop):
    with pytest.raises(ValidationError) as bad:
        _figures(app, shop, start=D(2026, 10, 9), end=D(2026, 10, 1))
    assert "to" in bad.value.details
    with pytest.raises(ValidationError):
        _figures(app, shop, dead_days=0)
    with pytest.raises(ValidationError):
        _figures(app, shop, by="category")


def test_the_job_runs_hourly_on_the_low_queue():
    from jobs.schedule import SCHEDULE
    from jobs.tasks import refresh_inventory_facts

    (entry,) = [e for e in SCHEDULE if e.func is refresh_inventory_facts]
    assert (entry.queue, entry.cron) == ("low", "50 * * * *")
