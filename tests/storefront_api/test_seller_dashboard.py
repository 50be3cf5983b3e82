"""GET /api/v1/sellers/me/dashboard/ (and its top-products/ and low-stock/): the approved seller's
own figures, over the period asked for; who may ask; bad periods; the OpenAPI description."""

from __future__ import annotations

import pytest

from app.security import roles
from tests.builders.auth import api_headers
from tests.builders.dashboards import FROM, TO, two_sellers_shop

URL = "/api/v1/sellers/me/dashboard/"
PERIOD = {"from": FROM, "to": TO}


@pytest.fixture(scope="module")
def shop(app):
    from tests.builders.factories import Factory

    return two_sellers_shop(app, Factory(app))


def test_the_sellers_own_figures(app, client, shop):
    r = client.get(URL, query_string=PERIOD, headers=api_headers(app, shop.a.user))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["period"] == {"from": FROM, "to": TO, "days": 10}
    assert body["previous_period"] == {"from": "2026-09-21", "to": "2026-09-30", "days": 10}
    usd = next(s for s in body["sales"] if s["currency"] == "USD")
    assert usd["current"] == {
        "gross": "315.00",
        "refunded": "50.00",
        "commission": "26.50",
        "net": "238.50",
        "orders": 6,
        "average_order_value": "52.50",
    }
    assert usd["gross_change_pct"] == "57.5"
    assert body["actions"]["to_process"] == 1 and body["actions"]["refund_requests"] == 1
    assert body["low_stock"]["items"][0]["sku"] == shop.low.sku
    assert body["balances"] == []  # no ledger entry yet (test_dashboards checks the figures)
    assert len(body["top_products"]["by_revenue"]) == 5


def test_never_another_sellers_figures(app, client, shop):
    body = client.get(URL, query_string=PERIOD, headers=api_headers(app, shop.b.user)).get_json()
    assert [(s["currency"], s["current"]["gross"]) for s in body["sales"]] == [("USD", "200.00")]
    assert [p["product_id"] for p in body["top_products"]["by_revenue"]] == [shop.q1.id]
    assert [w["sub_order_id"] for w in body["actions"]["recent"]] == [shop.subs["o2"][1]]
    # the other tenant's seller, at its own shop: only its own 777.00 + 1.00
    other = client.get(URL, query_string=PERIOD, headers=api_headers(app, shop.c.user)).get_json()
    assert [s["current"]["gross"] for s in other["sales"]] == ["778.00"]


def test_top_products_and_low_stock(app, client, shop):
    h = api_headers(app, shop.a.user)
    top = client.get(URL + "top-products/", query_string=PERIOD, headers=h)
    assert top.status_code == 200
    assert [p["revenue"] for p in top.get_json()["by_revenue"]] == [
        "180.00",
        "75.00",
        "50.00",
        "25.00",
        "10.00",
    ]
    low = client.get(URL + "low-stock/", headers=h).get_json()
    assert low == {
        "total": 1,
        "items": [
            {
                "stock_level_id": shop.low.stock_level_id,
                "sku": shop.low.sku,
                "title": "A nearly gone",  # the product's (its variant has no title of its own)
                "warehouse": "Main",
                "available": 2,
                "reorder_point": 3,
            }
        ],
    }


def test_the_default_period_is_the_last_30_days(app, client, shop):
    body = client.get(URL, headers=api_headers(app, shop.a.user)).get_json()
    assert body["period"]["days"] == 30 and body["previous_period"]["days"] == 30


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-10-10", "to": "2026-10-01"}, "to"),
        ({"from": "2024-01-01", "to": "2026-10-01"}, "to"),
        ({"from": "2999-01-01"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"since": "2026-10-01"}, "since"),
    ],
)
def test_a_bad_period_is_a_422_naming_it(app, client, shop, query, field):
    r = client.get(URL, query_string=query, headers=api_headers(app, shop.a.user))
    assert r.status_code == 422, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"] or field in error["details"].get("query", {})


def test_who_may_ask(app, client, shop, factory):
    assert client.get(URL, headers={"X-Tenant": shop.tenant.slug}).status_code == 401
    for role in (roles.CUSTOMER, roles.ADMIN):
        user = factory.user(shop.tenant, role)
        r = client.get(URL, headers=api_headers(app, user))
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    pending = factory.seller(shop.tenant, status="pending")
    for path in ("", "top-products/", "low-stock/"):
        r = client.get(URL + path, headers=api_headers(app, pending.user))
        assert r.status_code == 403
        assert r.get_json()["error"]["code"] == "seller_not_approved"
    # a seller's token is only good at its own storefront
    r = client.get(URL, headers=api_headers(app, shop.a.user, tenant=shop.other))
    assert r.status_code == 401


def test_documented_in_openapi(client):
    spec = client.get("/api/schema/").get_json()
    for path in (URL, URL + "top-products/", URL + "low-stock/"):
        operation = spec["paths"][path]["get"]
        assert {"200", "401", "403"} <= set(operation["responses"])
        assert operation["security"] == [{"bearerAuth": []}]
    assert "422" in spec["paths"][URL]["get"]["responses"]
    params = {p["name"] for p in spec["paths"][URL]["get"]["parameters"]}
    assert params == {"from", "to"}
    assert "seller_not_approved" in spec["paths"][URL]["get"]["responses"]["403"]["description"]
