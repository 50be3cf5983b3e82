"""The tenant's plan limit on products (tenants.max_products): API create, bulk create, restoring
an archived product and the admin's add form all stop at it, also under concurrent creations."""

from __future__ import annotations

import threading

from sqlalchemy import func, select, update

from app.catalog.models import Product
from app.core.tenancy import tenant_scope, unscoped
from app.extensions import db
from app.security import roles
from app.tenants.models import Tenant
from tests.builders.admin import login
from tests.builders.auth import api_headers
from tests.builders.catalog import BASE, product_body


def _limit(app, tenant, value) -> None:
    with app.app_context(), unscoped():
        db.session.execute(update(Tenant).where(Tenant.id == tenant.id).values(max_products=value))
        db.session.commit()


def _count(app, tenant) -> int:
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.scalar(select(func.count(Product.id)).where(Product.status != "archived"))


def test_create_and_bulk_stop_at_the_limit_and_write_nothing(app, factory, client):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    factory.product(seller)
    factory.product(seller, status="archived")  # archived products do not count
    _limit(app, tenant, 3)
    h = api_headers(app, seller.user, tenant)

    assert client.post(f"{BASE}/", json=product_body(attributes=[]), headers=h).status_code == 201
    two = [product_body(attributes=[]), product_body(attributes=[])]
    bulk = client.post(f"{BASE}/bulk/", json={"items": two}, headers=h)
    assert bulk.status_code == 409, bulk.get_json()
    error = bulk.get_json()["error"]
    assert error["code"] == "product_limit_reached"
    assert error["details"] == {"limit": 3, "current": 2, "adding": 2}
    assert _count(app, tenant) == 2, "the bulk is all or nothing"

    assert client.post(f"{BASE}/", json=product_body(attributes=[]), headers=h).status_code == 201
    again = client.post(f"{BASE}/", json=product_body(attributes=[]), headers=h)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "product_limit_reached"
    assert _count(app, tenant) == 3

    _limit(app, tenant, None)  # NULL: unlimited
    assert client.post(f"{BASE}/", json=product_body(attributes=[]), headers=h).status_code == 201


def test_restoring_an_archived_product_counts(app, factory, client):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    factory.product(seller)
    archived = factory.product(seller, status="archived")
    _limit(app, tenant, 1)
    h = api_headers(app, seller.user, tenant)
    restored = client.patch(f"{BASE}/{archived.id}/", json={"status": "active"}, headers=h)
    assert (
        restored.status_code == 409
        and restored.get_json()["error"]["code"] == "product_limit_reached"
    )
    assert (
        client.patch(
            f"{BASE}/{archived.id}/", json={"title": "Still archived"}, headers=h
        ).status_code
        == 200
    )


def test_restoring_archived_products_in_bulk_counts(app, factory, client):
    """A bulk PATCH that brings products back from the archive takes their places under the plan
    limit as a single PATCH does: past the limit the whole bulk is refused and nothing changes."""
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    factory.product(seller)
    first = factory.product(seller, status="archived")
    second = factory.product(seller, status="archived")
    _limit(app, tenant, 2)
    h = api_headers(app, seller.user, tenant)
    both = [{"id": first.id, "status": "active"}, {"id": second.id, "status": "active"}]
    refused = client.patch(f"{BASE}/bulk/", json={"items": both}, headers=h)
    assert refused.status_code == 409, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == "product_limit_reached"
    assert error["details"] == {"limit": 2, "current": 1, "adding": 2}
    assert _count(app, tenant) == 1, "the bulk is all or nothing"
    one = [{"id": first.id, "status": "active"}, {"id": second.id, "title": "Still archived"}]
    assert client.patch(f"{BASE}/bulk/", json={"items": one}, headers=h).status_code == 200
    assert _count(app, tenant) == 2


def test_concurrent_creations_never_overshoot(app, factory):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    _limit(app, tenant, 4)
    h = api_headers(app, seller.user, tenant)
    statuses: list[int] = []
    barrier = threading.Barrier(10)

    def create():
        client = app.test_client()
        barrier.wait()
        statuses.append(
            client.post(f"{BASE}/", json=product_body(attributes=[]), headers=h).status_code
        )

    threads = [threading.Thread(target=create) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 4 + [409] * 6
    assert _count(app, tenant) == 4


def test_admin_add_form_stops_at_the_limit(app, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    seller = factory.seller(tenant)
    factory.product(seller)
    _limit(app, tenant, 1)
    client, _ = login(app, tenant.slug, admin.username)
    response = client.post(
        "/admin/products/add",
        data={
            "title": "One too many",
            "slug": "one-too-many",
            "status": "active",
            "product_type": "physical",
            "seller": str(seller.id),
        },
        follow_redirects=True,
    )
    assert b"plan allows 1 products" in response.data
    assert _count(app, tenant) == 1
