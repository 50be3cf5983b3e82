"""Every admin view: sign-in required, the right roles only, other sellers' rows answer 404, and
other tenants' rows answer 404 even to their Admin."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.catalog.models import Attribute, Product, ProductAttributeValue, ProductImage
from app.core.tenancy import tenant_scope
from app.customers.models import Address
from app.extensions import db
from app.inventory import services as inventory
from app.inventory.models import LowStockAlert, StockMovement
from app.reviews import services as review_services
from app.reviews.inputs import NewReview
from app.security import roles
from app.security.models import User
from app.sellers.actors import actor_for
from tests.builders.admin import login

pytestmark = pytest.mark.smoke

# route -> which row id of a dataset to open; seller: whether the Seller role may use it
VIEWS = {
    "products": ("product", True),
    "variants": ("variant", True),
    "product-images": ("image", True),
    "product-attributes": ("attribute_value", True),
    "inventory": ("stock", True),
    "warehouses": ("warehouse", True),
    "stock-movements": ("movement", True),
    "low-stock": ("alert", True),
    "sellers": ("seller", True),
    "categories": ("category", True),
    "brands": ("brand", True),
    "attributes": ("attribute", True),
    "customers": ("customer", False),
    "addresses": ("address", False),
    "users": ("user", False),
    "reviews": ("review", True),
    "wishlists": (None, False),
    "customer-activities": (None, False),
    "sessions": (None, False),
    "audit-log": (None, False),
    "events": (None, False),
}
SELLER_OWNED = (
    "product",
    "variant",
    "image",
    "attribute_value",
    "stock",
    "warehouse",
    "movement",
    "alert",
    "seller",
    "review",
)


def _dataset(app, factory, tenant):
    seller = factory.seller(tenant)
    product = factory.product(seller, stock=4)
    customer = factory.customer(tenant)
    with app.app_context(), tenant_scope(tenant.id):
        attribute = Attribute(code=f"a{product.id}", name="Material")
        db.session.add(attribute)
        db.session.flush()
        value = ProductAttributeValue(product_id=product.id, attribute_id=attribute.id, value="Oak")
        image = ProductImage(product_id=product.id, url="https://img.example/x.jpg")
        db.session.add_all([value, image])
        db.session.commit()
        inventory.adjust_stock(
            product.stock_level_id, -2
        )  # ledger row + low-stock alert (reorder point 3)
        stock_id = product.stock_level_id
        movement = db.session.scalar(
            select(StockMovement.id).where(StockMovement.stock_level_id == stock_id)
        )
        alert = db.session.scalar(
            select(LowStockAlert.id).where(LowStockAlert.stock_level_id == stock_id)
        )
        p = db.session.get(Product, product.id)
        review = review_services.create_review(
            actor_for(db.session.get(User, customer.user_id)),
            NewReview(product_id=product.id, rating=5, title="Solid"),
        )
        ids = {
            "product": product.id,
            "variant": product.variant_id,
            "image": image.id,
            "attribute_value": value.id,
            "stock": product.stock_level_id,
            "warehouse": product.warehouse_id,
            "movement": movement,
            "alert": alert,
            "seller": seller.id,
            "category": p.category_id,
            "brand": p.brand_id,
            "attribute": attribute.id,
            "customer": customer.id,
            "address": db.session.scalar(
                select(Address.id).where(Address.customer_id == customer.id)
            ),
            "user": customer.user_id,
            "review": review.id,
        }
    return seller, ids


@pytest.fixture(scope="module")
def world(app):
    from tests.builders.factories import Factory

    factory = Factory(app)
    tenant, other_tenant = factory.tenant(), factory.tenant()
    seller, mine = _dataset(app, factory, tenant)
    _, neighbour = _dataset(app, factory, tenant)  # another seller in the same tenant
    _, foreign = _dataset(app, factory, other_tenant)
    admin = factory.user(tenant, roles.ADMIN)
    customer = factory.user(tenant, roles.CUSTOMER)
    return {
        "tenant": tenant,
        "seller": seller,
        "mine": mine,
        "neighbour": neighbour,
        "foreign": foreign,
        "admin": admin,
        "customer": customer,
    }


@pytest.fixture(scope="module")
def clients(app, world):
    slug = world["tenant"].slug
    admin, _ = login(app, slug, world["admin"].username)
    seller, _ = login(app, slug, world["seller"].user.username)
    anonymous = app.test_client()
    anonymous.environ_base["HTTP_X_TENANT"] = slug
    return {"admin": admin, "seller": seller, "anonymous": anonymous}


@pytest.mark.parametrize("route", VIEWS)
def test_sign_in_is_required(clients, route):
    response = clients["anonymous"].get(f"/admin/{route}/list/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]


# the pages that are not model views (their own routes, their own tests for roles and tenants)
PAGES = (
    "/admin/mail-templates/",
    "/admin/mail-templates/preview/order_confirmation",
    "/admin/data-management/",
    "/admin/exports/",
    "/admin/my-notifications/",
    "/admin/models/",
    "/admin/analytics/",
    "/admin/analytics/segments/",
    "/admin/analytics/segments/export/champions.csv",
    "/admin/analytics/inventory/",
    "/admin/analytics/bi/",
)


@pytest.mark.parametrize("path", PAGES)
def test_sign_in_is_required_for_the_custom_pages(clients, path):
    response = clients["anonymous"].get(path)
    assert response.status_code == 302 and "/login/" in response.headers["Location"]


@pytest.mark.parametrize("route", VIEWS)
def test_admin_lists_every_view_and_never_reaches_another_tenant(clients, world, route):
    key, _ = VIEWS[route]
    assert clients["admin"].get(f"/admin/{route}/list/").status_code == 200
    if key:
        assert clients["admin"].get(f"/admin/{route}/show/{world['mine'][key]}").status_code == 200
        assert (
            clients["admin"].get(f"/admin/{route}/show/{world['foreign'][key]}").status_code == 404
        )
        assert clients["admin"].get(f"/admin/{route}/edit/{world['foreign'][key]}").status_code in (
            404,
            403,
        )


@pytest.mark.parametrize("route", VIEWS)
def test_seller_reaches_only_its_own_rows(clients, world, route):
    key, allowed = VIEWS[route]
    response = clients["seller"].get(f"/admin/{route}/list/")
    if not allowed:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert clients["seller"].get(f"/admin/{route}/show/{world['mine'][key]}").status_code == 200
    assert clients["seller"].get(f"/admin/{route}/show/{world['foreign'][key]}").status_code == 404
    if key in SELLER_OWNED:
        assert (
            clients["seller"].get(f"/admin/{route}/show/{world['neighbour'][key]}").status_code
            == 404
        )


def test_tenants_page_is_for_super_admins_only(clients):
    assert clients["admin"].get("/admin/tenants/list/").status_code == 403
    assert clients["seller"].get("/admin/tenants/list/").status_code == 403
