"""/api/v1/promotions: admins and sellers manage promotions (sellers only their own), coupons are
checked against baskets, active automatic promotions are public; roles, ownership and tenancy."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.promotions.models import Promotion
from tests.builders.api import error
from tests.builders.auth import api_headers, bearer
from tests.builders.promotions import API


def _count(app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.scalar(select(func.count()).select_from(Promotion))


@pytest.mark.smoke
def test_admin_creates_lists_and_reads_platform_promotions(client, shop):
    response = client.post(
        f"{API}/",
        headers=shop["h"]["admin"],
        json={
            "name": "Spring",
            "kind": "percentage",
            "value": 15,
            "code": "spring-15",
            "usage_limit": 100,
            "category_ids": [],
            "starts_at": "2026-03-01T00:00:00+00:00",
            "ends_at": "2026-06-01T00:00:00+02:00",
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (
        body["code"],
        body["funded_by"],
        body["seller_id"],
        body["value"],
        body["uses_count"],
    ) == ("SPRING-15", "platform", None, "15.00", 0)
    assert body["ends_at"] == "2026-05-31T22:00:00+00:00"
    listing = client.get(f"{API}/", headers=shop["h"]["admin"]).get_json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == body["id"]
    assert (
        client.get(f"{API}/{body['id']}/", headers=shop["h"]["admin"]).get_json()["name"]
        == "Spring"
    )


def test_sellers_create_and_see_only_their_own(client, shop):
    platform = shop["build"].promotion("percentage", "5")
    response = client.post(
        f"{API}/",
        headers=shop["h"]["seller"],
        json={
            "name": "Mine",
            "kind": "buy_x_get_y",
            "value": 100,
            "buy_quantity": 2,
            "get_quantity": 1,
        },
    )
    assert response.status_code == 201, response.get_json()
    mine = response.get_json()
    assert (mine["funded_by"], mine["seller_id"]) == ("seller", shop["seller"].id)
    assert [
        p["id"] for p in client.get(f"{API}/", headers=shop["h"]["seller"]).get_json()["items"]
    ] == [mine["id"]]
    assert client.get(f"{API}/", headers=shop["h"]["seller2"]).get_json()["total"] == 0
    # another seller's promotion and the platform's one answer 404 to a seller
    error(client.get(f"{API}/{mine['id']}/", headers=shop["h"]["seller2"]), 404, "not_found")
    error(client.get(f"{API}/{platform}/", headers=shop["h"]["seller"]), 404, "not_found")
    assert client.get(f"{API}/", headers=shop["h"]["admin"]).get_json()["total"] == 2
    filtered = client.get(f"{API}/?kind=buy_x_get_y", headers=shop["h"]["admin"]).get_json()
    assert [p["id"] for p in filtered["items"]] == [mine["id"]]


def test_create_validation_changes_nothing(app, client, shop):
    before = _count(app, shop["tenant"].id)
    refusal = error(
        client.post(
            f"{API}/",
            headers=shop["h"]["admin"],
            json={
                "name": "",
                "kind": "bogus",
                "value": "abc",
                "starts_at": "2026-01-01T00:00:00",
                "surprise": 1,
            },
        ),
        422,
    )
    assert {"name", "kind", "value", "starts_at", "surprise"} <= set(refusal["details"])
    refusal = error(
        client.post(
            f"{API}/",
            headers=shop["h"]["admin"],
            json={
                "name": "x",
                "kind": "percentage",
                "value": 150,
                "product_ids": [999999],
                "starts_at": "2026-05-01T00:00:00+00:00",
                "ends_at": "2026-04-01T00:00:00+00:00",
            },
        ),
        422,
        "validation_error",
    )
    assert set(refusal["details"]) == {"value", "product_ids", "ends_at"}
    refusal = error(
        client.post(
            f"{API}/",
            headers=shop["h"]["admin"],
            json={"name": "x", "kind": "buy_x_get_y", "value": 100},
        ),
        422,
    )
    assert set(refusal["details"]) == {"buy_quantity", "get_quantity"}
    refusal = error(
        client.post(
            f"{API}/",
            headers=shop["h"]["admin"],
            json={"name": "x", "kind": "percentage", "value": 10, "code": "no spaces!"},
        ),
        422,
    )
    assert set(refusal["details"]) == {"code"}
    # another tenant's product and a seller id that is no seller here are unknown ids
    refusal = error(
        client.post(
            f"{API}/",
            headers=shop["h"]["admin"],
            json={
                "name": "x",
                "kind": "percentage",
                "value": 10,
                "product_ids": [shop["foreign_product"].id],
                "seller_ids": [shop["seller"].id, 2**31 - 1],
            },
        ),
        422,
    )
    assert refusal["details"] == {
        "product_ids": [f"unknown ids: {shop['foreign_product'].id}"],
        "seller_ids": [f"unknown ids: {2**31 - 1}"],
    }
    error(
        client.post(
            f"{API}/", headers=shop["h"]["admin"], data="{not json", content_type="application/json"
        ),
        400,
    )
    assert _count(app, shop["tenant"].id) == before


def test_coupon_codes_are_unique_per_tenant_case_insensitively(client, shop):
    shop["build"].promotion("percentage", "10", code="WELCOME")
    error(
        client.post(
            f"{API}/",
            headers=shop["h"]["admin"],
            json={"name": "again", "kind": "percentage", "value": 5, "code": "welcome"},
        ),
        409,
        "coupon_code_taken",
    )
    # the same code is free in another tenant (ELSEWHERE exists there, not here)
    response = client.post(
        f"{API}/",
        headers=shop["h"]["admin"],
        json={"name": "here", "kind": "fixed_amount", "value": "2.50", "code": "elsewhere"},
    )
    assert response.status_code == 201 and response.get_json()["code"] == "ELSEWHERE"


def test_auth_roles_and_tenancy(client, shop):
    error(client.get(f"{API}/", headers=shop["h"]["guest"]), 401, "unauthorized")
    error(
        client.post(
            f"{API}/", headers=shop["h"]["guest"], json={"name": "x", "kind": "percentage"}
        ),
        401,
    )
    error(client.get(f"{API}/", headers=shop["h"]["customer"]), 403, "forbidden")
    error(
        client.post(
            f"{API}/",
            headers=shop["h"]["customer"],
            json={"name": "x", "kind": "percentage", "value": 5},
        ),
        403,
    )
    error(client.get(f"{API}/{shop['foreign_promo']}/", headers=shop["h"]["customer"]), 403)
    # another tenant's promotion is not found by this tenant's admin
    error(
        client.get(f"{API}/{shop['foreign_promo']}/", headers=shop["h"]["admin"]), 404, "not_found"
    )
    assert client.get(f"{API}/", headers=shop["h"]["admin"]).get_json()["total"] == 0
    error(client.get(f"{API}/99999999999/", headers=shop["h"]["admin"]), 404)


@pytest.mark.smoke
def test_apply_coupon_gives_the_discount(client, shop):
    shop["build"].promotion("percentage", "10", code="TENOFF")
    response = client.post(
        f"{API}/apply-coupon/",
        headers=shop["h"]["guest"],
        json={
            "code": " tenoff ",
            "lines": [
                {"variant_id": shop["product"].variant_id, "quantity": 2},
                {"variant_id": shop["product2"].variant_id, "quantity": 1},
            ],
        },
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    # 39.98 * 10 % = 3.998 -> 4.00; 5.00 * 10 % = 0.50
    assert (body["code"], body["discount_total"], body["subtotal"], body["total"]) == (
        "TENOFF",
        "4.50",
        "44.98",
        "40.48",
    )
    assert [line["discount"] for line in body["lines"]] == ["4.00", "0.50"]


def test_apply_coupon_refusals(client, shop, app):
    b = shop["build"]
    b.promotion("percentage", "10", code="BIG", min_subtotal="100.00")
    b.promotion("percentage", "10", code="GONE", usage_limit=2, uses_count=2)
    b.promotion(
        "percentage", "10", code="OLD", ends_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    )
    b.promotion("percentage", "30", stackable=False, priority=9)
    b.promotion("percentage", "10", code="EXTRA")
    basket = [{"variant_id": shop["product"].variant_id, "quantity": 1}]
    post = lambda code, lines=basket, h=shop["h"]["guest"]: client.post(  # noqa: E731
        f"{API}/apply-coupon/", headers=h, json={"code": code, "lines": lines}
    )
    assert error(post("BIG"), 422, "coupon_not_applicable")["details"] == {"code": "min_subtotal"}
    assert error(post("old"), 422, "coupon_not_applicable")["details"] == {"code": "expired"}
    assert error(post("nothing"), 422, "coupon_not_applicable")["details"] == {"code": "unknown"}
    # another tenant's code is unknown here
    assert error(post("ELSEWHERE"), 422, "coupon_not_applicable")["details"] == {"code": "unknown"}
    assert error(post("GONE"), 409, "promotion_exhausted")["details"] == {"code": "exhausted"}
    assert error(post("EXTRA"), 409, "coupon_not_combinable")["details"] == {
        "code": "not_combinable"
    }
    refusal = error(
        post(
            "BIG",
            [
                {"variant_id": shop["foreign_product"].variant_id, "quantity": 1},
                {"variant_id": shop["product"].variant_id, "quantity": 0},
            ],
        ),
        422,
    )
    assert set(refusal["details"]) == {"lines"}
    refusal = error(
        post("BIG", [{"variant_id": shop["foreign_product"].variant_id, "quantity": 1}]), 422
    )
    assert refusal["details"] == {"lines.0.variant_id": ["no such product variant for sale"]}
    error(post("BIG", []), 422)
    bad_token = api_headers(tenant=shop["tenant"], **bearer("nonsense"))
    error(post("BIG", h=bad_token), 401)


def test_active_promotions_are_public_and_scoped(client, shop):
    b = shop["build"]
    live = b.promotion("percentage", "10", name="Live", priority=1)
    b.promotion("percentage", "10", name="Coupon", code="SECRET")
    b.promotion(
        "percentage", "10", name="Over", ends_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    )
    b.promotion("percentage", "10", name="Off", is_active=False)
    seller_live = b.promotion(
        "fixed_amount", "1", name="Seller", funded_by="seller", seller_id=shop["seller"].id
    )
    body = client.get(f"{API}/active/", headers=shop["h"]["guest"]).get_json()
    assert [p["id"] for p in body["items"]] == [live, seller_live] and body["total"] == 2
    assert "uses_count" not in body["items"][0] and "code" not in body["items"][0]
    error(client.get(f"{API}/active/?page_size=500", headers=shop["h"]["guest"]), 422)
    error(client.get(f"{API}/active/?bogus=1", headers=shop["h"]["guest"]), 422)
