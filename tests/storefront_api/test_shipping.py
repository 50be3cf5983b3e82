"""/api/v1/shipping: methods serving a destination and per-seller quotes of a basket (public),
validation, bad tokens, and tenancy (another tenant's methods and products are never used)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security import roles
from app.tenants.models import Tenant
from tests.builders.api import error
from tests.builders.auth import api_headers, bearer
from tests.builders.pricing import Builder

API = "/api/v1/shipping"


@pytest.fixture
def shop(app, factory):
    tenant, foreign = factory.tenant(), factory.tenant()
    seller, seller2 = factory.seller(tenant), factory.seller(tenant)
    b = Builder(app, tenant.id)
    eu = b.zone("FR, DE, US-CA", name="EU and California")
    methods = {
        "standard": b.method(
            eu, name="Standard", flat_rate="4.90", free_over="50.00", min_days=2, max_days=4
        ),
        "express": b.method(eu, name="Express", flat_rate="12.00"),
        "own": b.method(
            eu,
            name="Seller 2 parcels",
            rate_type="price",
            seller_id=seller2.id,
            brackets=(("0", "30", "3.00"), ("30", None, "1.00")),
        ),
    }
    b.tax("0.2000")
    fb = Builder(app, foreign.id)
    fb.method(fb.zone("FR"), name="Foreign", flat_rate="1.00")
    customer = factory.customer(tenant)
    return dict(
        tenant=tenant,
        seller=seller,
        seller2=seller2,
        methods=methods,
        p1=factory.product(seller, price="20.00"),
        p2=factory.product(seller2, price="10.00"),
        foreign_product=factory.product(factory.seller(foreign)),
        guest={"X-Tenant": tenant.slug},
        customer=api_headers(app, customer.user, tenant.slug),
        seller_h=api_headers(app, factory.user(tenant, roles.SELLER), tenant.slug),
    )


@pytest.mark.smoke
def test_methods_for_a_destination(client, shop):
    body = client.get(f"{API}/methods/?country=FR", headers=shop["guest"]).get_json()
    assert [m["name"] for m in body["items"]] == ["Standard", "Express", "Seller 2 parcels"]
    standard = body["items"][0]
    assert (
        standard["flat_rate"],
        standard["free_over"],
        standard["carrier"],
        standard["min_days"],
    ) == ("4.90", "50.00", "manual", 2)
    own = client.get(
        f"{API}/methods/?country=FR&seller_id={shop['seller2'].id}", headers=shop["guest"]
    ).get_json()
    assert [m["name"] for m in own["items"]] == ["Seller 2 parcels"]
    assert own["items"][0]["brackets"] == [
        {"min_value": "0.000", "max_value": "30.000", "rate": "3.00"},
        {"min_value": "30.000", "max_value": None, "rate": "1.00"},
    ]
    assert (
        len(
            client.get(f"{API}/methods/?country=US&region=CA", headers=shop["guest"]).get_json()[
                "items"
            ]
        )
        == 3
    )
    assert (
        client.get(f"{API}/methods/?country=US&region=NY", headers=shop["guest"]).get_json()[
            "items"
        ]
        == []
    )
    # the other tenant's FR method is not listed here (checked above: only this tenant's three)


def test_methods_validation(client, shop):
    refusal = error(
        client.get(f"{API}/methods/?country=fr&region=toolong&bogus=1", headers=shop["guest"]), 422
    )
    assert {"country", "region", "bogus"} <= set(refusal["details"])
    error(client.get(f"{API}/methods/", headers=shop["guest"]), 422)
    error(client.get(f"{API}/methods/?country=FR&seller_id=0", headers=shop["guest"]), 422)


@pytest.mark.smoke
def test_calculate_quotes_per_seller(client, shop):
    response = client.post(
        f"{API}/calculate/",
        headers=shop["customer"],
        json={
            "lines": [
                {"variant_id": shop["p1"].variant_id, "quantity": 2},
                {"variant_id": shop["p2"].variant_id, "quantity": 1},
            ],
            "destination": {"country": "FR"},
        },
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    s1, s2 = body["sellers"]
    assert (
        s1["seller_id"],
        s1["goods_amount"],
        s1["method_name"],
        s1["cost"],
        s1["tax_total"],
    ) == (shop["seller"].id, "40.00", "Standard", "4.90", "0.98")
    assert [(o["name"], o["cost"]) for o in s1["options"]] == [
        ("Standard", "4.90"),
        ("Express", "12.00"),
    ]
    assert (s2["seller_id"], s2["method_name"], s2["cost"]) == (
        shop["seller2"].id,
        "Seller 2 parcels",
        "3.00",
    )
    assert body["shipping_total"] == "7.90" and body["currency"] == "USD"
    chosen = client.post(
        f"{API}/calculate/",
        headers=shop["guest"],
        json={
            "lines": [{"variant_id": shop["p1"].variant_id, "quantity": 3}],
            "destination": {"country": "DE"},
            "shipping_method_ids": {str(shop["seller"].id): shop["methods"]["express"]},
        },
    ).get_json()
    # 60.00 is over Standard's free-over threshold, but Express was chosen
    assert (chosen["sellers"][0]["method_name"], chosen["sellers"][0]["cost"]) == (
        "Express",
        "12.00",
    )
    assert [(o["name"], o["cost"]) for o in chosen["sellers"][0]["options"]] == [
        ("Standard", "0.00"),
        ("Express", "12.00"),
    ]


def test_calculate_validation_and_tokens(client, shop):
    refusal = error(
        client.post(
            f"{API}/calculate/",
            headers=shop["guest"],
            json={
                "lines": [{"variant_id": "x", "quantity": -1}],
                "destination": {"country": "France"},
                "shipping_method_ids": {"abc": 1},
                "extra": True,
            },
        ),
        422,
    )
    assert {"lines", "destination", "shipping_method_ids", "extra"} <= set(refusal["details"])
    refusal = error(
        client.post(
            f"{API}/calculate/",
            headers=shop["guest"],
            json={
                "lines": [{"variant_id": shop["foreign_product"].variant_id, "quantity": 1}],
                "destination": {"country": "FR"},
            },
        ),
        422,
    )
    assert refusal["details"] == {"lines.0.variant_id": ["no such product variant for sale"]}
    error(client.post(f"{API}/calculate/", headers=shop["guest"], json={"lines": []}), 422)
    error(
        client.post(
            f"{API}/calculate/",
            headers={**shop["guest"], **bearer("x.y.z")},
            json={
                "lines": [{"variant_id": shop["p1"].variant_id, "quantity": 1}],
                "destination": {"country": "FR"},
            },
        ),
        401,
    )


def test_calculate_where_nothing_ships(client, shop):
    body = client.post(
        f"{API}/calculate/",
        headers=shop["seller_h"],
        json={
            "lines": [{"variant_id": shop["p1"].variant_id, "quantity": 1}],
            "destination": {"country": "JP"},
        },
    ).get_json()
    assert body["sellers"][0]["method_id"] is None and body["sellers"][0]["options"] == []


def test_calculate_reads_the_tenants_currency_from_the_cache_and_follows_a_change(
    app, client, shop
):
    """The basket endpoints build their pricing request as the cart does (app.pricing.basket): the
    tenant's currency comes from the tenant settings cache, not from a query of its row on every
    request, and a committed change of it is priced by the very next request."""
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def calculate():
        statements.clear()
        response = client.post(
            f"{API}/calculate/",
            headers=shop["guest"],
            json={
                "lines": [{"variant_id": shop["p1"].variant_id, "quantity": 1}],
                "destination": {"country": "FR"},
            },
        )
        assert response.status_code == 200, response.get_json()
        read = any(s.startswith("SELECT tenants.default_currency") for s in statements)
        return response.get_json()["currency"], read

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        calculate()  # fills the cache, if an earlier request has not
        assert calculate() == ("USD", False)
        with app.app_context(), tenant_scope(shop["tenant"].id):
            db.session.get(Tenant, shop["tenant"].id).default_currency = "EUR"
            db.session.commit()
        assert calculate() == ("EUR", True)
        assert calculate() == ("EUR", False)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
