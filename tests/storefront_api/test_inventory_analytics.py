"""GET /api/v1/inventory/analytics/: the answer's shape and money, who sees what (admin: the
storefront, optionally one seller; seller: its own; others 403; 401 without a token), tenants
apart, and bad input as 422. The figures themselves are computed by hand in
tests/analytics/test_inventory.py; here stock is live (the figures of now need no snapshot)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import update

from analytics import inventory
from app.catalog.models import ProductVariant
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security import roles
from tests.builders.api import error
from tests.builders.auth import api_headers

URL = "/api/v1/inventory/analytics/"


@pytest.fixture(scope="module")
def shop(app):
    from tests.builders.factories import Factory

    factory = Factory(app)
    tenant, other = factory.tenant(), factory.tenant()
    a, b, c = factory.seller(tenant), factory.seller(tenant), factory.seller(other)
    a1 = factory.product(a, price="10.00", stock=7)
    b1 = factory.product(b, price="2.50", stock=4)
    c1 = factory.product(c, price="1.00", stock=100)
    with app.app_context(), tenant_scope(tenant.id):
        db.session.execute(
            update(ProductVariant).where(ProductVariant.id == b1.variant_id).values(currency="EUR")
        )
        db.session.commit()
    with app.app_context():
        inventory.refresh(tenant.id)  # today's snapshot
    return SimpleNamespace(
        tenant=tenant,
        other=other,
        a=a,
        b=b,
        a1=a1,
        b1=b1,
        c1=c1,
        admin=factory.user(tenant, roles.ADMIN),
        other_admin=factory.user(other, roles.ADMIN),
        customer=factory.user(tenant, roles.CUSTOMER),
    )


def _get(app, client, user, **query):
    return client.get(URL, query_string=query, headers=api_headers(app, user))


def test_admin_sees_the_storefront(app, client, shop):
    r = _get(app, client, shop.admin)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["stock_value"] == [
        {"currency": "EUR", "value": "10.00", "units": 4},
        {"currency": "USD", "value": "70.00", "units": 7},
    ]
    assert {i["key"] for i in body["items"]} == {shop.a1.variant_id, shop.b1.variant_id}
    assert body["total"] == 2 and body["by"] == "variant" and body["dead_days"] == 90
    assert body["snapshot_days"] == 1 and body["period"]["days"] == 30
    assert body["demand_model"] is None  # nothing trained for this storefront
    one = next(i for i in body["items"] if i["key"] == shop.a1.variant_id)
    assert one["stock_value"] == [{"currency": "USD", "value": "70.00", "units": 7}]
    assert (one["units_sold"], one["days_of_cover"], one["turnover"]) == (0, None, "0.00")
    # one seller's, grouped
    r = _get(app, client, shop.admin, seller_id=shop.b.id, by="seller")
    assert [(i["key"], i["stock_value"]) for i in r.get_json()["items"]] == [
        (shop.b.id, [{"currency": "EUR", "value": "10.00", "units": 4}])
    ]
    r = _get(app, client, shop.admin, by="warehouse", page_size=1)
    assert r.get_json()["total"] == 2 and len(r.get_json()["items"]) == 1


def test_a_seller_sees_its_own(app, client, shop):
    r = _get(app, client, shop.a.user)
    body = r.get_json()
    assert r.status_code == 200 and body["seller_id"] == shop.a.id
    assert [i["key"] for i in body["items"]] == [shop.a1.variant_id]
    assert body["stock_value"] == [{"currency": "USD", "value": "70.00", "units": 7}]
    error(_get(app, client, shop.a.user, seller_id=shop.b.id), 404, "not_found")


def test_tenants_are_apart(app, client, shop):
    body = _get(app, client, shop.other_admin).get_json()
    assert [i["key"] for i in body["items"]] == [shop.c1.variant_id]
    assert body["stock_value"] == [{"currency": "USD", "value": "100.00", "units": 100}]
    # a seller id of the other storefront is nobody's stock here
    body = _get(app, client, shop.other_admin, seller_id=shop.a.id).get_json()
    assert body["items"] == [] and body["stock_value"] == []


def test_refusals(app, client, shop):
    error(client.get(URL, headers=api_headers(tenant=shop.tenant)), 401, "unauthorized")
    error(_get(app, client, shop.customer), 403, "forbidden")
    details = error(_get(app, client, shop.admin, by="category"), 422)["details"]
    assert "by" in str(details)
    error(_get(app, client, shop.admin, dead_days=0), 422)
    error(_get(app, client, shop.admin, **{"from": "2026-10-09", "to": "2026-10-01"}), 422)
    error(_get(app, client, shop.admin, **{"from": "not-a-date"}), 422)
    error(_get(app, client, shop.admin, seller_id="x"), 422)
    error(_get(app, client, shop.admin, colour="red"), 422)  # undocumented key
