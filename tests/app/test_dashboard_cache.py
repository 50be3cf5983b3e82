"""The seller dashboard's cache (app.dashboards): what it serves equals what the queries compute
(every figure, types included, through its JSON form), a committed change through the ORM is
seen on the next request (an order placed, an adjustment, a stock change), money that becomes
available by time alone is seen once its moment passes, and a seller never gets another's
cached figures. Redis is the test Redis (TEST_REDIS_URL), as in production."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest

from app import dashboards
from app.core import cache
from app.core.tenancy import tenant_scope
from app.core.types import utcnow
from app.dashboards import Period, seller_dashboard, seller_low_stock, seller_top_products
from app.extensions import db
from app.inventory.models import StockLevel
from app.payouts.models import SellerLedgerEntry
from app.security import roles
from app.security.actor import Actor
from app.sellers.actors import seller_id_of
from tests.builders.dashboards import FROM, TO, Part, placed, two_sellers_shop

PERIOD = Period(dt.date.fromisoformat(FROM), dt.date.fromisoformat(TO))


@pytest.fixture(scope="module")
def shop(app):
    from tests.builders.factories import Factory

    return two_sellers_shop(app, Factory(app))


def _actor(user) -> Actor:
    return Actor(
        user_id=user.id,
        tenant_id=user.tenant_id,
        role_names=frozenset({roles.SELLER}),
        find_seller_id=seller_id_of,
    )


def _call(app, shop, fn, seller, *args):
    with app.app_context(), tenant_scope(shop.tenant.id):
        return fn(_actor(seller.user), *args)


def _fresh(app, shop, seller):
    """The figures computed by the queries, not read from the cache."""
    with app.app_context(), tenant_scope(shop.tenant.id):
        return dashboards._seller_figures(seller.id, PERIOD)[0]


def test_what_the_cache_serves_is_what_the_queries_compute(app, shop, is_sqlite):
    first = _call(app, shop, seller_dashboard, shop.a, PERIOD)
    with app.app_context():
        key = f"{dashboards.CACHE_NAMESPACE}:seller:{shop.a.id}:{PERIOD.start}:{PERIOD.end}"
        version, stored = cache.get_versioned(
            dashboards.CACHE_NAMESPACE, shop.tenant.id, f"{key}:{shop.tenant.id}"
        )
    # cached (on SQLite a request's transaction reads an older snapshot: computed, not stored)
    assert (stored is None) if is_sqlite else (stored is not None)
    served = _call(app, shop, seller_dashboard, shop.a, PERIOD)
    assert served == first == _fresh(app, shop, shop.a)
    assert isinstance(served.sales, tuple) and isinstance(served.sales[0].current.gross, Decimal)
    assert isinstance(served.actions.recent[0].placed_at, dt.datetime)
    assert served.actions.recent[0].placed_at.tzinfo is not None
    for fn in (seller_top_products,):
        assert _call(app, shop, fn, shop.a, PERIOD) == _call(app, shop, fn, shop.a, PERIOD)
    assert _call(app, shop, seller_low_stock, shop.a) == _call(app, shop, seller_low_stock, shop.a)


def test_a_seller_never_gets_anothers_cached_figures(app, shop):
    a = _call(app, shop, seller_dashboard, shop.a, PERIOD)
    b = _call(app, shop, seller_dashboard, shop.b, PERIOD)
    assert (a.seller_id, b.seller_id) == (shop.a.id, shop.b.id)
    assert b == _fresh(app, shop, shop.b) and a != b


def test_a_committed_change_is_seen_on_the_next_request(app, shop):
    before = _call(app, shop, seller_dashboard, shop.a, PERIOD)
    # an order placed in the period
    placed(
        app,
        shop.tenant.id,
        "2026-10-04 08:00",
        Part(shop.a.id, "11.00", "1.10", "paid", ((shop.products[0], 1, "11.00"),)),
    )
    after = _call(app, shop, seller_dashboard, shop.a, PERIOD)
    usd = {c.currency: c for c in after.sales}["USD"].current
    was = {c.currency: c for c in before.sales}["USD"].current
    assert usd.gross == was.gross + Decimal("11.00")
    assert after.actions.to_process == before.actions.to_process + 1
    # a stock change
    with app.app_context(), tenant_scope(shop.tenant.id):
        level = db.session.scalar(
            db.select(StockLevel).where(
                StockLevel.seller_id == shop.a.id,
                StockLevel.quantity_on_hand > StockLevel.reorder_point,
            )
        )
        level.quantity_on_hand = 0
        db.session.commit()
    low = _call(app, shop, seller_low_stock, shop.a)
    assert low.total == before.low_stock.total + 1
    assert _call(app, shop, seller_dashboard, shop.a, PERIOD).low_stock == low
    # a ledger entry
    with app.app_context(), tenant_scope(shop.tenant.id):
        db.session.add(
            SellerLedgerEntry(
                seller_id=shop.a.id,
                currency="USD",
                amount=Decimal("3.00"),
                kind="adjustment",
                note="cache test",
                available_at=utcnow(),
            )
        )
        db.session.commit()
    money = _call(app, shop, seller_dashboard, shop.a, PERIOD).balances
    assert money == _fresh(app, shop, shop.a).balances
    assert sum(b.available for b in money) == sum(b.available for b in before.balances) + 3


def test_pending_money_becomes_available_when_its_moment_passes(app, factory):
    """No write in between: the cached figures expire at the moment the entry becomes available."""
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    soon = utcnow() + dt.timedelta(seconds=3)
    with app.app_context(), tenant_scope(tenant.id):
        db.session.add(
            SellerLedgerEntry(
                seller_id=seller.id,
                currency="USD",
                amount=Decimal("5.00"),
                kind="adjustment",
                note="available in 3 s",
                available_at=soon,
            )
        )
        db.session.commit()

    def balance():
        with app.app_context(), tenant_scope(tenant.id):
            (usd,) = seller_dashboard(_actor(seller.user), PERIOD).balances
            return usd.pending, usd.available

    assert balance() == (Decimal("5.00"), Decimal("0.00"))
    assert balance() == (Decimal("5.00"), Decimal("0.00"))  # served from the cache
    time.sleep(max(0.0, (soon - utcnow()).total_seconds()) + 1.2)
    assert balance() == (Decimal("0.00"), Decimal("5.00"))


def test_a_figure_that_cannot_be_cached_is_computed_not_cached_wrongly(app, shop):
    class Opaque:
        pass

    calls = []

    def compute():
        calls.append(1)
        return Opaque(), None

    with app.app_context(), tenant_scope(shop.tenant.id):
        dashboards._cached("opaque-test", compute)
        dashboards._cached("opaque-test", compute)
    assert len(calls) == 2
