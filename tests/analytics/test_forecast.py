"""The sales forecast (analytics.ml.forecast) and its API, on a planted history of 119 days ending
yesterday (UTC):

- seller S1 sells (100 + 1.5 t) x W[weekday] USD on day t (t = 0..118), W = 0.6, 0.8, 1.0, 1.0,
  1.2, 1.6, 1.8 (Monday first), times a seeded noise of at most +-3 %: a trend and a weekly season;
- seller S2 sells 50 x W[weekday] USD (no trend) and 20 EUR a day;
- a pending and a cancelled order of 10,000 USD every week (not sales: left out).

Asserted: seasonal-naive (last week repeated) lags the trend by 1.5 x 7 = 10.5 a week, so the
model's backtest error is well under it (WAPE and the tenant's USD MAE at most 70 % of
seasonal-naive's); the first forecast day is within 10 % of the planted value; USD and EUR are
separate series; the same data trains the same forecast; who may read whose forecast.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import numpy as np
import pytest
from sqlalchemy import select

from analytics import registry, training
from analytics.ml.forecast import SalesForecast
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security import roles
from tests.builders.api import error
from tests.builders.auth import api_headers
from tests.builders.product_models import Sale, plant

URL = "/api/v1/analytics/forecast/"
DAYS = 119
W = (0.6, 0.8, 1.0, 1.0, 1.2, 1.6, 1.8)


def _money(x: float) -> Decimal:
    return Decimal(str(round(x, 2)))


def _planted(s1: int, s2: int):
    today = dt.datetime.now(dt.timezone.utc).date()
    first = today - dt.timedelta(days=DAYS)
    noise = np.random.default_rng(16).uniform(-0.03, 0.03, DAYS)
    orders = []
    for t in range(DAYS):
        day = first + dt.timedelta(days=t)
        at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.timezone.utc)
        w = W[day.weekday()]
        usd = (
            Sale(s1, _money((100 + 1.5 * t) * w * (1 + noise[t]))),
            Sale(s2, _money(50 * w)),
        )
        orders.append((at, "USD", usd))
        orders.append((at, "EUR", (Sale(s2, Decimal("20.00")),)))
        if t % 7 == 0:
            for status in ("pending", "cancelled"):
                orders.append((at, "USD", (Sale(s1, Decimal("10000.00"), status=status),)))
    return orders


def _truth(day: dt.date, first: dt.date) -> float:
    t = (day - first).days
    return (100 + 1.5 * t) * W[day.weekday()] + 50 * W[day.weekday()]


@pytest.fixture(scope="module")
def shop(app):
    from tests.builders.factories import Factory

    factory = Factory(app)
    tenant = factory.tenant()
    s1, s2 = factory.seller(tenant), factory.seller(tenant)
    plant(app, tenant.id, _planted(s1.id, s2.id))
    with app.app_context():
        first = training.train(registry.SALES_FORECAST, tenant.id)
        second = training.train(registry.SALES_FORECAST, tenant.id)
    other = factory.tenant()
    return SimpleNamespace(
        tenant=tenant,
        s1=s1,
        s2=s2,
        first=first,
        second=second,
        admin=factory.user(tenant, roles.ADMIN),
        customer=factory.user(tenant, roles.CUSTOMER),
        other=other,
        other_admin=factory.user(other, roles.ADMIN),
        other_seller=factory.seller(other),
    )


def _get(client, app, user=None, tenant=None, **query):
    return client.get(URL, query_string=query, headers=api_headers(app, user, tenant))


def test_backtest_beats_seasonal_naive_and_training_is_deterministic(app, shop):
    assert shop.first.status == shop.second.status == registry.ACTIVE, shop.first.error
    with app.app_context(), tenant_scope(shop.tenant.id):
        version = registry.active(registry.SALES_FORECAST)
        metrics, baseline = version.metrics, version.baseline
        print("forecast metrics", metrics, "baseline", baseline, version.training_seconds)
        assert metrics["wape"] <= 0.7 * baseline["wape"]
        assert metrics["mae_USD"] <= 0.7 * baseline["mae_USD"]
        assert metrics["mape"] < baseline["mape"]
        assert version.params["series"] == 5  # tenant USD and EUR, S1 USD, S2 USD and EUR
        assert version.features[:3] == ["lag_1", "lag_7", "lag_14"] and "Ridge" in version.algorithm

        def rows(version_id):
            return db.session.execute(
                select(
                    SalesForecast.seller_id,
                    SalesForecast.currency,
                    SalesForecast.day,
                    SalesForecast.predicted,
                    SalesForecast.lower,
                    SalesForecast.upper,
                )
                .where(SalesForecast.model_version_id == version_id)
                .order_by(SalesForecast.seller_id, SalesForecast.currency, SalesForecast.day)
            ).all()

        first, second = rows(shop.first.version_id), rows(shop.second.version_id)
        db.session.rollback()
    assert first == second and len(first) == 5 * 28
    assert all(lo <= p <= up and lo >= 0 for *_, p, lo, up in first)


def test_admin_reads_the_tenant_total_per_currency(client, app, shop):
    body = _get(client, app, shop.admin).get_json()
    assert body["seller_id"] is None and body["model_version"] == 2
    assert [s["currency"] for s in body["series"]] == ["EUR", "USD"]
    today = dt.datetime.now(dt.timezone.utc).date()
    usd = body["series"][1]["days"]
    assert [d["day"] for d in usd] == [str(today + dt.timedelta(days=i)) for i in range(14)]
    planted_first = today - dt.timedelta(days=DAYS)
    assert float(usd[0]["predicted"]) == pytest.approx(_truth(today, planted_first), rel=0.1)
    eur = body["series"][0]["days"]
    assert all(float(d["predicted"]) == pytest.approx(20, abs=1) for d in eur)

    assert len(_get(client, app, shop.admin, days=28).get_json()["series"][0]["days"]) == 28
    one = _get(client, app, shop.admin, seller_id=shop.s1.id, days=3).get_json()
    assert one["seller_id"] == shop.s1.id and [s["currency"] for s in one["series"]] == ["USD"]
    assert len(one["series"][0]["days"]) == 3


def test_a_seller_reads_its_own_only(client, app, shop):
    own = _get(client, app, shop.s2.user).get_json()
    assert own["seller_id"] == shop.s2.id
    assert [s["currency"] for s in own["series"]] == ["EUR", "USD"]
    same = _get(client, app, shop.s2.user, seller_id=shop.s2.id).get_json()
    assert same == own
    error(_get(client, app, shop.s2.user, seller_id=shop.s1.id), 404, "not_found")


def test_roles_tenants_and_bad_input(client, app, shop):
    error(_get(client, app, tenant=shop.tenant), 401)
    error(_get(client, app, shop.customer), 403, "forbidden")
    error(_get(client, app, shop.admin, seller_id=999_999_999), 404, "not_found")
    for bad in ({"days": 0}, {"days": 29}, {"days": "x"}, {"seller_id": 0}, {"kind": "a"}):
        error(_get(client, app, shop.admin, **bad), 422, "validation_error")
    # another tenant: nothing trained there, and this tenant's sellers are unknown to it
    body = _get(client, app, shop.other_admin).get_json()
    assert (body["model_version"], body["series"]) == (None, [])
    error(_get(client, app, shop.other_admin, seller_id=shop.s1.id), 404, "not_found")
    body = _get(client, app, shop.other_seller.user).get_json()
    assert (body["seller_id"], body["series"]) == (shop.other_seller.id, [])
