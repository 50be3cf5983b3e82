"""/api/v1/products: public lists (filters, sorts, pages), detail, featured, by category, search,
categories and facets; product writes (single, bulk) by sellers and admins; tenancy and ownership.
Cache behaviour is in test_products_cache.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.catalog.models import (
    Product,
)
from app.core.tenancy import tenant_scope
from app.events.models import OutboxEvent
from app.extensions import db
from app.security import roles
from tests.builders.auth import api_headers, bearer
from tests.builders.catalog import BASE, build_catalog, product_body
from tests.conftest import unique


@pytest.fixture
def world(app, factory):
    return build_catalog(app, factory)


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


# --- list, filters, sorts ------------------------------------------------------------------


@pytest.mark.smoke
def test_list_shows_active_products_of_the_tenant_only(app, factory, client, world):
    other = factory.tenant()
    factory.product(factory.seller(other), title="Foreign")
    body = client.get(f"{BASE}/", headers=api_headers(tenant=world.tenant)).get_json()
    i = world.ids
    assert [p["id"] for p in body["items"]] == [
        i.p5,
        i.p3,
        i.p2,
        i.p1,
    ]  # newest first, no draft, no foreign
    assert body["total"] == 4 and body["page"] == 1 and body["page_size"] == 24
    card = next(p for p in body["items"] if p["id"] == i.p1)
    assert card["price"] == "10.00" and card["currency"] == "USD" and card["in_stock"] is True
    assert card["brand"]["slug"] == "acme" and card["category"]["slug"] == "t-shirts"
    assert card["rating"] == {"average": "4.50", "count": 3} and set(card["seller"]) == {
        "id",
        "store_name",
        "slug",
    }
    assert card["image"]["url"].endswith("Red Shirt.jpg") and card["created_at"].endswith("+00:00")


@pytest.mark.smoke
def test_category_filter_includes_descendants_by_slug_or_id(client, world):
    h, i = api_headers(tenant=world.tenant), world.ids
    assert sorted(ids_of(client.get(f"{BASE}/?category=clothing", headers=h))) == sorted(
        [i.p1, i.p2, i.p5]
    )
    assert ids_of(client.get(f"{BASE}/?category={i.shirts}", headers=h)) == [i.p2, i.p1]
    assert ids_of(client.get(f"{BASE}/?category=t-shirts", headers=h)) == [i.p1]
    bad = client.get(f"{BASE}/?category=nope", headers=h)
    assert bad.status_code == 422 and "category" in bad.get_json()["error"]["details"]


def test_price_range_matches_any_variant(client, world):
    h, i = api_headers(tenant=world.tenant), world.ids
    assert ids_of(client.get(f"{BASE}/?min_price=25&max_price=35", headers=h)) == [
        i.p1
    ]  # its second variant
    assert sorted(ids_of(client.get(f"{BASE}/?max_price=10", headers=h))) == sorted([i.p1, i.p5])
    assert ids_of(client.get(f"{BASE}/?min_price=40", headers=h)) == [i.p2]


@pytest.mark.parametrize(
    "query, field",
    [
        ("min_price=abc", "min_price"),
        ("max_price=-1", "max_price"),
        ("min_price=30&max_price=10", "min_price"),
        ("min_rating=6", "min_rating"),
        ("sort=cheapest", "sort"),
        ("page_size=101", "page_size"),
        ("page=0", "page"),
        ("in_stock=maybe", "in_stock"),
        ("attr_colour=", "attr_colour"),
        ("brand=nobrand", "brand"),
        ("attr_weight=1", "attr_weight"),
        ("seller=nobody", "seller"),
        # one rule API-wide: an undocumented key is refused by name, never silently ignored
        ("catgory=shirts", "catgory"),
        ("brand=acme&colour=red", "colour"),
    ],
)
def test_bad_filters_are_422_with_field_details(client, world, query, field):
    response = client.get(f"{BASE}/?{query}", headers=api_headers(tenant=world.tenant))
    assert response.status_code == 422, response.get_json()
    details = response.get_json()["error"]["details"]
    flat = str(details)
    assert field in flat, details


def test_attribute_filter_any_of_values(client, world):
    h, i = api_headers(tenant=world.tenant), world.ids
    assert ids_of(client.get(f"{BASE}/?attr_colour=red", headers=h)) == [i.p1]
    assert ids_of(client.get(f"{BASE}/?attr_colour=Red&attr_colour=Blue", headers=h)) == [
        i.p2,
        i.p1,
    ]
    assert ids_of(client.get(f"{BASE}/?attr_colour=Purple", headers=h)) == []


def test_in_stock_rating_brand_and_seller_filters(client, world):
    h, i = api_headers(tenant=world.tenant), world.ids
    assert ids_of(client.get(f"{BASE}/?in_stock=true", headers=h)) == [
        i.p5,
        i.p1,
    ]  # P3 is all reserved
    assert ids_of(client.get(f"{BASE}/?in_stock=false", headers=h)) == [i.p3, i.p2]
    assert ids_of(client.get(f"{BASE}/?min_rating=4", headers=h)) == [i.p5, i.p1]
    assert ids_of(client.get(f"{BASE}/?brand=acme", headers=h)) == [i.p3, i.p1]
    assert ids_of(client.get(f"{BASE}/?brand=acme&brand={i.globex}", headers=h)) == [
        i.p5,
        i.p3,
        i.p2,
        i.p1,
    ]
    assert ids_of(client.get(f"{BASE}/?seller={world.s2.id}", headers=h)) == [i.p5, i.p2]


@pytest.mark.parametrize(
    "sort, order",
    [
        ("newest", ["p5", "p3", "p2", "p1"]),
        ("price", ["p5", "p1", "p3", "p2"]),
        ("-price", ["p2", "p3", "p1", "p5"]),
        ("rating", ["p5", "p1", "p2", "p3"]),
        ("popularity", ["p2", "p1", "p5", "p3"]),
    ],
)
def test_sort_orders(client, world, sort, order):
    got = ids_of(client.get(f"{BASE}/?sort={sort}", headers=api_headers(tenant=world.tenant)))
    assert got == [getattr(world.ids, name) for name in order]


def test_pagination(client, world):
    body = client.get(
        f"{BASE}/?page=2&page_size=3&sort=price", headers=api_headers(tenant=world.tenant)
    ).get_json()
    assert (
        [p["id"] for p in body["items"]] == [world.ids.p2]
        and body["total"] == 4
        and body["page"] == 2
    )
    assert (
        client.get(f"{BASE}/?page=9", headers=api_headers(tenant=world.tenant)).get_json()["items"]
        == []
    )


def test_list_queries_do_not_grow_with_the_page(app, client, world):
    from sqlalchemy import event

    client.get(
        f"{BASE}/?warm=up", headers=api_headers(tenant=world.tenant)
    )  # per-process lookups (tenant) done once
    counts = []
    for size in (1, 4):
        seen = []

        def count(*args, _seen=seen, **kwargs):
            _seen.append(1)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            client.get(
                f"{BASE}/?page_size={size}&sort=price&x={size}",
                headers=api_headers(tenant=world.tenant),
            )
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


# --- detail, featured, by category, search -------------------------------------------------


@pytest.mark.smoke
def test_detail_has_variants_availability_breadcrumb_and_public_seller(client, world):
    i = world.ids
    body = client.get(f"{BASE}/{i.p1}/", headers=api_headers(tenant=world.tenant)).get_json()
    assert [v["price"] for v in body["variants"]] == ["10.00", "30.00"]
    assert body["variants"][0]["available"] == 5 and body["variants"][0]["in_stock"] is True
    assert body["variants"][1]["available"] == 0 and body["variants"][1]["options"] == {"size": "M"}
    assert [c["slug"] for c in body["category"]["breadcrumb"]] == ["clothing", "shirts", "t-shirts"]
    assert body["attributes"] == [
        {"code": "colour", "name": "Colour", "value": "Red", "unit": None}
    ]
    assert body["rating"] == {"average": "4.50", "count": 3} and body["brand"]["name"] == "Acme"
    assert (
        set(body["seller"]) == {"id", "store_name", "slug"}
        and body["images"][0]["alt_text"] == "Red Shirt"
    )


def test_draft_is_404_to_public_and_other_sellers_but_visible_to_owner_and_admin(
    app, factory, client, world
):
    i, t = world.ids, world.tenant
    admin = factory.user(t, roles.ADMIN)
    customer = factory.user(t, roles.CUSTOMER)
    assert client.get(f"{BASE}/{i.p4}/", headers=api_headers(tenant=t)).status_code == 404
    assert client.get(f"{BASE}/{i.p4}/", headers=api_headers(app, customer, t)).status_code == 404
    assert (
        client.get(f"{BASE}/{i.p4}/", headers=api_headers(app, world.s2.user, t)).status_code == 404
    )
    owner = client.get(f"{BASE}/{i.p4}/", headers=api_headers(app, world.s1.user, t))
    assert owner.status_code == 200 and owner.get_json()["status"] == "draft"
    assert owner.headers["Cache-Control"].startswith("private")
    assert (
        client.get(f"{BASE}/{i.p4}/", headers=api_headers(tenant=t)).status_code == 404
    )  # the owner's view was not shared
    assert client.get(f"{BASE}/{i.p4}/", headers=api_headers(app, admin, t)).status_code == 200


def test_detail_of_another_tenant_or_missing_is_404(factory, client, world):
    other = factory.tenant()
    response = client.get(f"{BASE}/{world.ids.p1}/", headers={"X-Tenant": other.slug})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert (
        client.get(f"{BASE}/999999999/", headers=api_headers(tenant=world.tenant)).status_code
        == 404
    )


def test_detail_with_a_bad_token_is_401(client, world):
    h = api_headers(tenant=world.tenant, **bearer("nonsense"))
    assert client.get(f"{BASE}/{world.ids.p1}/", headers=h).status_code == 401


def test_featured_and_by_category(client, world):
    h, i = api_headers(tenant=world.tenant), world.ids
    assert ids_of(client.get(f"{BASE}/featured/", headers=h)) == [i.p5]
    assert ids_of(client.get(f"{BASE}/category/shirts/?sort=price", headers=h)) == [i.p1, i.p2]
    assert ids_of(client.get(f"{BASE}/category/clothing/?attr_colour=green", headers=h)) == [i.p5]
    assert client.get(f"{BASE}/category/hidden/", headers=h).status_code == 404
    assert client.get(f"{BASE}/category/nope/", headers=h).status_code == 404
    assert client.get(f"{BASE}/featured/?min_rating=x", headers=h).status_code == 422


def test_search_ands_tokens_over_title_description_and_brand(client, world):
    h, i = api_headers(tenant=world.tenant), world.ids
    assert ids_of(client.get(f"{BASE}/search/?q=shirt&sort=newest", headers=h)) == [i.p2, i.p1]
    assert ids_of(client.get(f"{BASE}/search/?q=red+SHIRT&sort=newest", headers=h)) == [i.p1]
    assert ids_of(client.get(f"{BASE}/search/?q=acme&sort=newest", headers=h)) == [i.p3, i.p1]
    assert ids_of(client.get(f"{BASE}/search/?q=100%25", headers=h)) == []
    missing = client.get(f"{BASE}/search/", headers=h)
    assert missing.status_code == 422 and "q" in missing.get_json()["error"]["details"]
    assert client.get(f"{BASE}/search/?q=+", headers=h).status_code == 422


# --- categories ----------------------------------------------------------------------------


def test_categories_list_detail_and_tenancy(factory, client, world):
    h = api_headers(tenant=world.tenant)
    items = client.get(f"{BASE}/categories/", headers=h).get_json()["items"]
    assert [c["slug"] for c in items] == [
        "books",
        "clothing",
        "shirts",
        "t-shirts",
    ]  # no inactive one
    by_slug = {c["slug"]: c for c in items}
    assert (
        by_slug["shirts"]["parent_id"] == world.ids.clothing and by_slug["t-shirts"]["depth"] == 2
    )
    detail = client.get(f"{BASE}/categories/shirts/", headers=h).get_json()
    assert [c["slug"] for c in detail["breadcrumb"]] == ["clothing", "shirts"]
    assert [c["slug"] for c in detail["children"]] == ["t-shirts"]
    other = factory.tenant()
    assert (
        client.get(f"{BASE}/categories/", headers={"X-Tenant": other.slug}).get_json()["items"]
        == []
    )
    assert (
        client.get(f"{BASE}/categories/shirts/", headers={"X-Tenant": other.slug}).status_code
        == 404
    )
    assert client.get(f"{BASE}/categories/hidden/", headers=h).status_code == 404


def test_category_filters_count_facets_over_descendants(factory, client, world):
    body = client.get(
        f"{BASE}/categories/clothing/filters/", headers=api_headers(tenant=world.tenant)
    ).get_json()
    assert body["total"] == 3
    assert {b["slug"]: b["count"] for b in body["brands"]} == {"globex": 2, "acme": 1}
    assert body["price"]["min"] == "5.00" and body["price"]["max"] == "50.00"
    assert [(r["min"], r["max"], r["count"]) for r in body["price"]["ranges"]] == [
        ("0.00", "25.00", 2),
        ("50.00", "100.00", 1),
    ]
    assert body["attributes"] == [
        {
            "code": "colour",
            "name": "Colour",
            "unit": None,
            "param": "attr_colour",
            "values": [
                {"value": "Blue", "count": 1},
                {"value": "Green", "count": 1},
                {"value": "Red", "count": 1},
            ],
        }
    ]
    other = factory.tenant()
    assert (
        client.get(
            f"{BASE}/categories/clothing/filters/", headers={"X-Tenant": other.slug}
        ).status_code
        == 404
    )


def test_create_category_admin_only(app, factory, client, world):
    t = world.tenant
    admin, customer = factory.user(t, roles.ADMIN), factory.user(t, roles.CUSTOMER)
    body = {"name": "Hats", "parent_id": world.ids.clothing, "attribute_codes": ["colour"]}
    assert (
        client.post(f"{BASE}/categories/", json=body, headers=api_headers(tenant=t)).status_code
        == 401
    )
    assert (
        client.post(
            f"{BASE}/categories/", json=body, headers=api_headers(app, customer, t)
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"{BASE}/categories/", json=body, headers=api_headers(app, world.s1.user, t)
        ).status_code
        == 403
    )
    created = client.post(f"{BASE}/categories/", json=body, headers=api_headers(app, admin, t))
    assert created.status_code == 201, created.get_json()
    assert (
        created.get_json()["slug"] == "hats"
        and created.get_json()["breadcrumb"][0]["slug"] == "clothing"
    )
    assert "hats" in [
        c["slug"]
        for c in client.get(f"{BASE}/categories/", headers=api_headers(tenant=t)).get_json()[
            "items"
        ]
    ]
    bad = client.post(
        f"{BASE}/categories/",
        json={"name": "", "slug": "Bad Slug"},
        headers=api_headers(app, admin, t),
    )
    assert bad.status_code == 422 and {"name", "slug"} <= set(bad.get_json()["error"]["details"])
    dup = client.post(
        f"{BASE}/categories/",
        json={"name": "x", "slug": "hats"},
        headers=api_headers(app, admin, t),
    )
    assert dup.status_code == 422 and dup.get_json()["error"]["details"] == {
        "slug": ["already used"]
    }
    inactive = client.post(
        f"{BASE}/categories/",
        json={"name": "Later", "is_active": False},
        headers=api_headers(app, admin, t),
    )
    assert inactive.status_code == 201 and inactive.get_json()["slug"] == "later"
    assert client.get(f"{BASE}/categories/later/", headers=api_headers(tenant=t)).status_code == 404
    unknown = client.post(
        f"{BASE}/categories/",
        json={"name": "y", "parent_id": 999999999},
        headers=api_headers(app, admin, t),
    )
    assert unknown.status_code == 422 and "parent_id" in unknown.get_json()["error"]["details"]


# --- writes --------------------------------------------------------------------------------


@pytest.mark.smoke
def test_seller_creates_its_own_product_and_an_event_is_published(app, client, world):
    t = world.tenant
    response = client.post(
        f"{BASE}/",
        json=product_body(category_id=world.ids.shirts),
        headers=api_headers(app, world.s1.user, t),
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (
        body["seller"]["id"] == world.s1.id and body["status"] == "active" and body["published_at"]
    )
    assert body["variants"][0]["price"] == "29.90" and body["variants"][0]["currency"] == "EUR"
    assert body["attributes"][0]["value"] == "White" and body["slug"] == "linen-shirt"
    assert body["id"] in ids_of(
        client.get(f"{BASE}/?category=clothing", headers=api_headers(tenant=t))
    )
    with app.app_context(), tenant_scope(t.id):
        events = db.session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.name == "catalog.product_changed",
                OutboxEvent.aggregate_id == str(body["id"]),
            )
        ).all()
        assert [e.payload for e in events] == [{"product_id": body["id"], "action": "created"}]


def test_create_product_auth_and_roles(app, factory, client, world):
    t = world.tenant
    customer = factory.user(t, roles.CUSTOMER)
    assert (
        client.post(f"{BASE}/", json=product_body(), headers=api_headers(tenant=t)).status_code
        == 401
    )
    forbidden = client.post(f"{BASE}/", json=product_body(), headers=api_headers(app, customer, t))
    assert forbidden.status_code == 403 and forbidden.get_json()["error"]["code"] == "forbidden"
    pending = factory.seller(t, status="pending")
    refused = client.post(
        f"{BASE}/", json=product_body(), headers=api_headers(app, pending.user, t)
    )
    assert (
        refused.status_code == 403 and refused.get_json()["error"]["code"] == "seller_not_approved"
    )
    other = factory.tenant()
    foreign = api_headers(app, world.s1.user, other)
    assert client.post(f"{BASE}/", json=product_body(), headers=foreign).status_code == 401


def test_create_product_validation(app, factory, client, world):
    t = world.tenant
    h = api_headers(app, world.s1.user, t)
    bad = client.post(
        f"{BASE}/",
        json={
            "title": "",
            "variants": [{"sku": "", "price": "-1", "currency": "usd"}],
            "status": "gone",
        },
        headers=h,
    )
    assert bad.status_code == 422
    details = bad.get_json()["error"]["details"]
    assert {"title", "status", "variants"} <= set(details)
    assert {"sku", "price", "currency"} <= set(details["variants"]["0"])
    missing = client.post(f"{BASE}/", json={"description": "no title"}, headers=h)
    assert missing.status_code == 422 and {"title", "variants"} <= set(
        missing.get_json()["error"]["details"]
    )
    taken = client.post(
        f"{BASE}/", json=product_body(variants=[{"sku": world.ids.p1_sku, "price": "1"}]), headers=h
    )
    assert taken.status_code == 422
    assert taken.get_json()["error"]["details"] == {
        "variants": {"0": {"sku": ["already used by another variant"]}}
    }
    refs = client.post(
        f"{BASE}/",
        json=product_body(
            category_id=999999,
            brand_id=999999,
            attributes=[{"code": "nope", "value": "x"}],
            is_featured=True,
        ),
        headers=h,
    )
    assert set(refs.get_json()["error"]["details"]) == {
        "category_id",
        "brand_id",
        "attributes",
        "is_featured",
    }
    admin = factory.user(t, roles.ADMIN)
    no_seller = client.post(f"{BASE}/", json=product_body(), headers=api_headers(app, admin, t))
    assert no_seller.status_code == 422 and "seller_id" in no_seller.get_json()["error"]["details"]
    ok = client.post(
        f"{BASE}/",
        json=product_body(seller_id=world.s2.id, is_featured=True),
        headers=api_headers(app, admin, t),
    )
    assert (
        ok.status_code == 201
        and ok.get_json()["seller"]["id"] == world.s2.id
        and ok.get_json()["is_featured"]
    )


def test_update_own_product_only(app, factory, client, world):
    t, i = world.tenant, world.ids
    owner = api_headers(app, world.s1.user, t)
    patched = client.patch(
        f"{BASE}/{i.p1}/",
        json={
            "title": "Crimson Shirt",
            "variants": [{"id": i.p1_variants[0], "sku": i.p1_sku, "price": "12.00"}],
        },
        headers=owner,
    )
    assert patched.status_code == 200, patched.get_json()
    body = patched.get_json()
    assert body["title"] == "Crimson Shirt"
    # the variant left out is deactivated (kept for order history), shown inactive to its seller
    assert [(v["price"], v["is_active"]) for v in body["variants"]] == [
        ("12.00", True),
        ("30.00", False),
    ]
    public = client.get(f"{BASE}/{i.p1}/", headers=api_headers(tenant=t)).get_json()
    assert [v["price"] for v in public["variants"]] == ["12.00"]
    put = client.put(f"{BASE}/{i.p1}/", json=product_body(), headers=owner)
    assert put.status_code == 200 and put.get_json()["title"] == "Linen Shirt"
    assert client.put(f"{BASE}/{i.p1}/", json={"title": "x"}, headers=owner).status_code == 422
    assert (
        client.patch(f"{BASE}/{i.p1}/", json={"status": "sold"}, headers=owner).status_code == 422
    )
    other_seller = client.patch(f"{BASE}/{i.p2}/", json={"title": "Mine now"}, headers=owner)
    assert other_seller.status_code == 404
    customer = factory.user(t, roles.CUSTOMER)
    assert (
        client.patch(
            f"{BASE}/{i.p1}/", json={"title": "x"}, headers=api_headers(app, customer, t)
        ).status_code
        == 403
    )
    assert (
        client.patch(
            f"{BASE}/{i.p1}/", json={"title": "x"}, headers=api_headers(tenant=t)
        ).status_code
        == 401
    )
    admin = factory.user(t, roles.ADMIN)
    assert (
        client.patch(
            f"{BASE}/{i.p2}/", json={"is_featured": True}, headers=api_headers(app, admin, t)
        ).get_json()["is_featured"]
        is True
    )
    unknown_seller = client.patch(
        f"{BASE}/{i.p2}/", json={"seller_id": 999999}, headers=api_headers(app, admin, t)
    )
    assert unknown_seller.status_code == 422 and unknown_seller.get_json()["error"]["details"] == {
        "seller_id": ["unknown seller"]
    }
    assert (
        client.patch(f"{BASE}/{i.p1}/", headers=owner).status_code == 200
    )  # an empty PATCH changes nothing
    other = factory.tenant()
    foreign_admin = factory.user(other, roles.ADMIN)
    assert (
        client.patch(
            f"{BASE}/{i.p1}/", json={"title": "x"}, headers=api_headers(app, foreign_admin, other)
        ).status_code
        == 404
    )


def test_delete_archives_own_product(app, factory, client, world):
    t, i = world.tenant, world.ids
    assert (
        client.delete(f"{BASE}/{i.p2}/", headers=api_headers(app, world.s1.user, t)).status_code
        == 404
    )
    assert client.delete(f"{BASE}/{i.p1}/", headers=api_headers(tenant=t)).status_code == 401
    other = factory.tenant()
    foreign_admin = factory.user(other, roles.ADMIN)
    assert (
        client.delete(f"{BASE}/{i.p1}/", headers=api_headers(app, foreign_admin, other)).status_code
        == 404
    )
    assert (
        client.delete(f"{BASE}/{i.p1}/", headers=api_headers(app, world.s1.user, t)).status_code
        == 204
    )
    assert client.get(f"{BASE}/{i.p1}/", headers=api_headers(tenant=t)).status_code == 404
    with app.app_context(), tenant_scope(t.id):
        assert db.session.get(Product, i.p1).status == "archived"


def test_bulk_create_is_all_or_nothing_with_errors_per_index(app, client, world):
    t = world.tenant
    h = api_headers(app, world.s1.user, t)
    sku = unique("DUP-")
    bad = client.post(
        f"{BASE}/bulk/",
        json={
            "items": [
                product_body(title="Bulk A", variants=[{"sku": sku, "price": "1.00"}]),
                product_body(title="Bulk B", variants=[{"sku": sku, "price": "2.00"}]),
                product_body(title="Bulk C", category_id=999999),
            ]
        },
        headers=h,
    )
    assert bad.status_code == 422
    assert bad.get_json()["error"]["details"] == {
        "items": {
            "1": {"variants": {"0": {"sku": ["used twice in this request"]}}},
            "2": {"category_id": ["unknown category"]},
        }
    }
    with app.app_context(), tenant_scope(t.id):
        assert db.session.scalar(select(Product.id).where(Product.title.like("Bulk%"))) is None
    schema_bad = client.post(
        f"{BASE}/bulk/", json={"items": [product_body(), {"title": "no variants"}]}, headers=h
    )
    assert (
        schema_bad.status_code == 422 and "1" in schema_bad.get_json()["error"]["details"]["items"]
    )
    too_many = client.post(f"{BASE}/bulk/", json={"items": [product_body()] * 101}, headers=h)
    assert too_many.status_code == 422
    ok = client.post(
        f"{BASE}/bulk/",
        json={"items": [product_body(title="Bulk A"), product_body(title="Bulk B")]},
        headers=h,
    )
    assert ok.status_code == 201, ok.get_json()
    assert [p["title"] for p in ok.get_json()["items"]] == ["Bulk A", "Bulk B"]
    assert (
        client.post(
            f"{BASE}/bulk/", json={"items": [product_body()]}, headers=api_headers(tenant=t)
        ).status_code
        == 401
    )


def test_bulk_update_own_products_only(app, factory, client, world):
    t, i = world.tenant, world.ids
    h = api_headers(app, world.s1.user, t)
    refused = client.patch(
        f"{BASE}/bulk/",
        json={"items": [{"id": i.p1, "title": "A"}, {"id": i.p2, "title": "B"}]},
        headers=h,
    )
    assert refused.status_code == 422
    assert refused.get_json()["error"]["details"] == {"items": {"1": {"id": ["no such product"]}}}
    ok = client.patch(
        f"{BASE}/bulk/",
        json={"items": [{"id": i.p1, "status": "draft"}, {"id": i.p3, "title": "Epic"}]},
        headers=h,
    )
    assert ok.status_code == 200, ok.get_json()
    assert [(p["status"], p["title"]) for p in ok.get_json()["items"]] == [
        ("draft", "Red Shirt"),
        ("active", "Epic"),
    ]
    customer = factory.user(t, roles.CUSTOMER)
    assert (
        client.patch(
            f"{BASE}/bulk/", json={"items": [{"id": i.p1}]}, headers=api_headers(app, customer, t)
        ).status_code
        == 403
    )
    assert (
        client.patch(f"{BASE}/bulk/", json={"items": [{"title": "no id"}]}, headers=h).status_code
        == 422
    )
