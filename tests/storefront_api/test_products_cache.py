"""Public catalog caching: ETag / 304, Cache-Control, per-tenant versioned keys, invalidation after
commit whatever the path of the change (API, service call, stock update), Redis and in-process."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.catalog import queries, services
from app.catalog.inputs import ProductChanges
from app.catalog.models import Product
from app.core import cache
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.inventory.services import adjust_stock
from app.security import roles
from app.security.models import User
from app.sellers.actors import actor_for
from tests.builders.auth import api_headers
from tests.builders.catalog import BASE, build_catalog


@pytest.fixture
def world(app, factory):
    return build_catalog(app, factory)


def titles(response) -> list[str]:
    return [p["title"] for p in response.get_json()["items"]]


@pytest.mark.smoke
def test_second_get_is_a_hit_with_the_same_etag_and_if_none_match_is_304(client, world):
    h = api_headers(tenant=world.tenant)
    first = client.get(f"{BASE}/?sort=price&page_size=10", headers=h)
    assert first.status_code == 200 and first.headers["X-Cache"] == "miss"
    assert first.headers["Cache-Control"] == "public, max-age=30" and first.headers[
        "ETag"
    ].startswith('"')
    again = client.get(f"{BASE}/?page_size=10&sort=price", headers=h)  # same query, other order
    assert again.headers["X-Cache"] == "hit" and again.headers["ETag"] == first.headers["ETag"]
    assert again.get_data() == first.get_data()
    not_modified = client.get(
        f"{BASE}/?sort=price&page_size=10", headers={**h, "If-None-Match": first.headers["ETag"]}
    )
    assert not_modified.status_code == 304 and not_modified.get_data() == b""
    assert not_modified.headers["ETag"] == first.headers["ETag"]
    stale_tag = client.get(
        f"{BASE}/?sort=price&page_size=10", headers={**h, "If-None-Match": '"other"'}
    )
    assert stale_tag.status_code == 200


@pytest.mark.smoke
def test_change_through_the_api_is_served_fresh(app, client, world):
    h, i = api_headers(tenant=world.tenant), world.ids
    before = client.get(f"{BASE}/", headers=h)
    assert "Red Shirt" in titles(before)
    detail = client.get(f"{BASE}/{i.p1}/", headers=h)
    assert client.get(f"{BASE}/{i.p1}/", headers=h).headers["X-Cache"] == "hit"
    patched = client.patch(
        f"{BASE}/{i.p1}/",
        json={"title": "Crimson Shirt"},
        headers=api_headers(app, world.s1.user, world.tenant),
    )
    assert patched.status_code == 200
    after = client.get(f"{BASE}/", headers=h)
    assert after.headers["X-Cache"] == "miss" and "Crimson Shirt" in titles(after)
    fresh = client.get(f"{BASE}/{i.p1}/", headers={**h, "If-None-Match": detail.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.get_json()["title"] == "Crimson Shirt"


def test_change_through_a_direct_service_call_is_served_fresh(app, client, world):
    h, i = api_headers(tenant=world.tenant), world.ids
    client.get(f"{BASE}/featured/", headers=h)
    assert titles(client.get(f"{BASE}/featured/", headers=h)) == ["Green Hat"]
    with app.app_context(), tenant_scope(world.tenant.id):
        owner = actor_for(db.session.scalar(select(User).where(User.id == world.s2.user.id)))
        services.update_product(owner, i.p5, ProductChanges(title="Green Cap"))
    with app.app_context(), tenant_scope(world.tenant.id):
        # a plain ORM write, as the admin UI makes: the session hook invalidates too
        db.session.get(Product, i.p3).is_featured = True
        db.session.commit()
    assert titles(client.get(f"{BASE}/featured/", headers=h)) == ["Green Cap", "Novel"]


def test_stock_change_invalidates_availability(app, client, world):
    h, i = api_headers(tenant=world.tenant), world.ids
    assert client.get(f"{BASE}/?in_stock=true", headers=h).get_json()["total"] == 2
    assert client.get(f"{BASE}/?in_stock=true", headers=h).headers["X-Cache"] == "hit"
    with app.app_context(), tenant_scope(world.tenant.id):
        from app.inventory.models import StockLevel

        stock_id = db.session.scalar(
            select(StockLevel.id).where(StockLevel.variant_id == i.stock_p1)
        )
        adjust_stock(stock_id, -5)  # an ORM-enabled UPDATE statement, no object in the session
    assert client.get(f"{BASE}/?in_stock=true", headers=h).get_json()["total"] == 1
    assert client.get(f"{BASE}/{i.p1}/", headers=h).get_json()["variants"][0]["available"] == 0


def test_categories_and_filters_are_cached_and_invalidated(app, factory, client, world):
    t = world.tenant
    h = api_headers(tenant=t)
    client.get(f"{BASE}/categories/", headers=h)
    assert client.get(f"{BASE}/categories/", headers=h).headers["X-Cache"] == "hit"
    client.get(f"{BASE}/categories/clothing/filters/", headers=h)
    assert client.get(f"{BASE}/categories/clothing/filters/", headers=h).headers["X-Cache"] == "hit"
    admin = factory.user(t, roles.ADMIN)
    assert (
        client.post(
            f"{BASE}/categories/", json={"name": "Hats"}, headers=api_headers(app, admin, t)
        ).status_code
        == 201
    )
    assert "hats" in [
        c["slug"] for c in client.get(f"{BASE}/categories/", headers=h).get_json()["items"]
    ]
    assert (
        client.get(f"{BASE}/categories/clothing/filters/", headers=h).headers["X-Cache"] == "miss"
    )


def test_versions_are_per_tenant_and_rollback_bumps_nothing(app, factory, client, world):
    other = factory.tenant()
    with app.app_context():
        mine = cache.namespace_version(queries.CACHE_NAMESPACE, world.tenant.id)
        theirs = cache.namespace_version(queries.CACHE_NAMESPACE, other.id)
    factory.product(factory.seller(other))
    with app.app_context(), tenant_scope(world.tenant.id):
        db.session.get(Product, world.ids.p1).title = "Never saved"
        db.session.flush()
        db.session.rollback()
    with app.app_context():
        assert cache.namespace_version(queries.CACHE_NAMESPACE, world.tenant.id) == mine
        assert cache.namespace_version(queries.CACHE_NAMESPACE, other.id) != theirs


def test_signed_in_callers_bypass_the_shared_cache(app, client, world):
    user_headers = api_headers(app, world.s1.user, world.tenant)
    response = client.get(f"{BASE}/", headers=user_headers)
    assert response.status_code == 200 and "X-Cache" not in response.headers
    assert response.headers["Cache-Control"] == "private, no-cache" and response.headers["ETag"]


def test_in_process_backend_when_no_redis(app, client, world):
    h = api_headers(tenant=world.tenant)
    saved = app.extensions["redis"]
    app.extensions["redis"] = None
    try:
        assert client.get(f"{BASE}/?page_size=23", headers=h).headers["X-Cache"] == "miss"
        assert client.get(f"{BASE}/?page_size=23", headers=h).headers["X-Cache"] == "hit"
        client.patch(
            f"{BASE}/{world.ids.p1}/",
            json={"title": "Local Shirt"},
            headers=api_headers(app, world.s1.user, world.tenant),
        )
        after = client.get(f"{BASE}/?page_size=23", headers=h)
        assert after.headers["X-Cache"] == "miss" and "Local Shirt" in titles(after)
    finally:
        app.extensions["redis"] = saved
        with app.app_context():
            cache.clear_local()
