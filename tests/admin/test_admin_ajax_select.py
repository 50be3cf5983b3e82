"""Search-as-you-type selects (MarketModelView.ajax_related): the related/<column>/ endpoint's matches,
limit and order; tenant and seller scoping of both the endpoint and the posted id; permissions; and
forms that no longer carry an <option> per product."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from app.catalog.models import Product, ProductVariant
from app.core.tenancy import tenant_scope, unscoped
from app.extensions import db
from app.inventory.models import StockLevel
from app.reviews import services as review_services
from app.reviews.inputs import NewReview
from app.security import roles
from app.security.models import User
from app.sellers.actors import actor_for
from tests.builders.admin import login

pytestmark = pytest.mark.smoke

FILLERS = 300


def _bulk_products(app, seller, count: int) -> None:
    tag = uuid.uuid4().hex[:8]
    with app.app_context(), tenant_scope(seller.tenant_id):
        db.session.add_all(
            [
                Product(
                    seller_id=seller.id,
                    title=f"Filler item {i:03d}",
                    slug=f"filler-{tag}-{i}",
                    status="active",
                )
                for i in range(FILLERS)
            ]
        )
        db.session.commit()


@pytest.fixture(scope="module")
def world(app):
    from tests.builders.factories import Factory

    factory = Factory(app)
    tenant, other = factory.tenant(), factory.tenant()
    seller, neighbour, foreign_seller = (
        factory.seller(tenant),
        factory.seller(tenant),
        factory.seller(other),
    )
    lamp = factory.product(seller, title="Oak desk lamp")
    shelf = factory.product(seller, title="Desk oak shelf")
    chair = factory.product(seller, title="Walnut chair")
    stool = factory.product(neighbour, title="Oak stool")
    foreign = factory.product(foreign_seller, title="Oak foreign table")
    _bulk_products(app, seller, FILLERS)
    customer = factory.customer(tenant)
    neighbours_customer = factory.customer(tenant)
    foreign_customer = factory.customer(other)
    with app.app_context(), tenant_scope(tenant.id):  # each customer reviews one seller's product
        review_services.create_review(
            actor_for(db.session.get(User, customer.user_id)),
            NewReview(product_id=lamp.id, rating=5, title="Bright"),
        )
        review_services.create_review(
            actor_for(db.session.get(User, neighbours_customer.user_id)),
            NewReview(product_id=stool.id, rating=4, title="Sturdy"),
        )
    return {
        "tenant": tenant,
        "admin": factory.user(tenant, roles.ADMIN),
        "seller": seller,
        "neighbour": neighbour,
        "lamp": lamp,
        "shelf": shelf,
        "chair": chair,
        "stool": stool,
        "foreign": foreign,
        "customer": customer,
        "neighbours_customer": neighbours_customer,
        "foreign_customer": foreign_customer,
    }


@pytest.fixture(scope="module")
def admin(app, world):
    client, _ = login(app, world["tenant"].slug, world["admin"].username)
    return client


@pytest.fixture(scope="module")
def seller(app, world):
    client, _ = login(app, world["tenant"].slug, world["seller"].user.username)
    return client


def _search(client, q="", page=None, route="variants", column="product"):
    params = {"q": q} if page is None else {"q": q, "page": page}
    response = client.get(f"/admin/{route}/related/{column}/", query_string=params)
    assert response.status_code == 200, response.status_code
    body = response.get_json()
    return [row["text"] for row in body["results"]], body


def _variants_with_sku(app, sku: str) -> int:
    with app.app_context(), unscoped():
        return db.session.scalar(
            select(func.count()).select_from(ProductVariant).where(ProductVariant.sku == sku)
        )


def _variant_form(product_id, sku):
    return {
        "product": str(product_id),
        "sku": sku,
        "price": "12.50",
        "currency": "USD",
        "position": "0",
    }


# --- the endpoint -----------------------------------------------------------------------------------


def test_matches_prefix_first_then_contained_and_never_another_tenant(admin, world):
    texts, body = _search(admin, "oak")
    assert texts == [
        "Oak desk lamp",
        "Oak stool",
        "Desk oak shelf",
    ]  # starts with, by title; then contains
    assert body["pagination"] == {"more": False}
    assert [row["id"] for row in body["results"]][:1] == [world["lamp"].id]
    assert "Oak foreign table" not in _search(admin, "foreign")[0]


def test_at_most_20_a_page_ordered_by_title_with_more_pages(admin):
    first, body = _search(admin, "filler")
    assert (
        first == [f"Filler item {i:03d}" for i in range(20)] and body["pagination"]["more"] is True
    )
    second, _ = _search(admin, "filler", page=2)
    assert second == [f"Filler item {i:03d}" for i in range(20, 40)]
    last, body = _search(admin, "filler", page=FILLERS // 20)
    assert last == [f"Filler item {i:03d}" for i in range(FILLERS - 20, FILLERS)]
    assert body["pagination"]["more"] is False
    newest, body = _search(admin, "")  # nothing typed: newest first
    assert (
        newest[0] == f"Filler item {FILLERS - 1:03d}"
        and len(newest) == 20
        and body["pagination"]["more"]
    )


def test_an_exact_id_comes_first(admin, world):
    body = _search(admin, str(world["chair"].id))[1]
    assert body["results"][0] == {"id": world["chair"].id, "text": "Walnut chair"}
    assert "Oak foreign table" not in _search(admin, str(world["foreign"].id))[0]


def test_bad_input_never_fails(admin):
    assert _search(admin, "x" * 5000)[0] == []
    assert _search(admin, "%")[0] == []  # LIKE wildcards are literal
    assert _search(admin, "_")[0] == []
    assert len(_search(admin, "filler", page="abc")[0]) == 20
    assert admin.get("/admin/variants/related/sku/").status_code == 404  # not an ajax relation
    assert admin.get("/admin/variants/related/nothing/").status_code == 404


def test_a_seller_finds_only_its_own_products_and_variants(seller, world):
    assert _search(seller, "oak")[0] == ["Oak desk lamp", "Desk oak shelf"]
    assert world["stool"].id not in [
        row["id"] for row in _search(seller, str(world["stool"].id))[1]["results"]
    ]
    variants = [
        row["id"]
        for row in _search(seller, "SKU-", route="inventory", column="variant")[1]["results"]
    ]
    assert world["lamp"].variant_id in variants and world["shelf"].variant_id in variants
    assert world["stool"].variant_id not in variants and world["foreign"].variant_id not in variants


def test_customers_and_users_are_searched_by_email_within_the_tenant(admin, world):
    email = world["customer"].user.email
    rows = _search(admin, email[:8], route="wishlists", column="customer")[1]["results"]
    assert [row["id"] for row in rows] == [world["customer"].id]
    assert (
        _search(admin, world["foreign_customer"].user.email, route="addresses", column="customer")[
            0
        ]
        == []
    )
    users = _search(admin, email, route="customers", column="user")[1]["results"]
    assert [row["id"] for row in users] == [world["customer"].user_id]
    assert (
        _search(admin, world["foreign_customer"].user.email, route="customers", column="user")[0]
        == []
    )


def test_a_seller_filters_reviews_by_its_products_and_their_reviewers_only(admin, seller, world):
    reviewers = [
        row["id"] for row in _search(seller, "", route="reviews", column="customer")[1]["results"]
    ]
    assert reviewers == [world["customer"].id]
    everyone = [
        row["id"] for row in _search(admin, "", route="reviews", column="customer")[1]["results"]
    ]
    assert {world["customer"].id, world["neighbours_customer"].id} <= set(everyone)
    assert world["foreign_customer"].id not in everyone
    assert "Oak stool" not in _search(seller, "oak", route="reviews")[0]


def test_permissions(app, world, seller):
    anonymous = app.test_client()
    anonymous.environ_base["HTTP_X_TENANT"] = world["tenant"].slug
    response = anonymous.get("/admin/variants/related/product/?q=oak")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert (
        seller.get("/admin/customers/related/user/").status_code == 403
    )  # no permission on the view
    assert seller.get("/admin/wishlists/related/product/").status_code == 403
    # sellers may list and edit their store, not add one: the "user" select of the add form is not theirs
    assert seller.get("/admin/sellers/list/").status_code == 200
    assert seller.get("/admin/sellers/related/user/").status_code == 403


# --- saving: the posted id is checked on the server -------------------------------------------------


def test_admin_creates_a_variant_for_a_product_picked_by_id(app, admin, world):
    sku = f"AJX-{uuid.uuid4().hex[:8]}"
    response = admin.post("/admin/variants/add", data=_variant_form(world["chair"].id, sku))
    assert response.status_code == 302
    with app.app_context(), tenant_scope(world["tenant"].id):
        variant = db.session.scalar(select(ProductVariant).where(ProductVariant.sku == sku))
        assert variant.product_id == world["chair"].id


@pytest.mark.parametrize("bad", ["foreign", "missing", "garbage"])
def test_an_id_from_another_tenant_or_unknown_is_refused_and_nothing_saved(app, admin, world, bad):
    product_id = {"foreign": world["foreign"].id, "missing": 2**31 - 5, "garbage": "1 OR 1=1"}[bad]
    sku = f"AJX-{uuid.uuid4().hex[:8]}"
    response = admin.post("/admin/variants/add", data=_variant_form(product_id, sku))
    assert response.status_code == 200 and b"Not a valid choice" in response.data
    assert _variants_with_sku(app, sku) == 0


def test_a_seller_posting_another_sellers_product_is_refused(app, seller, world):
    sku = f"AJX-{uuid.uuid4().hex[:8]}"
    response = seller.post("/admin/variants/add", data=_variant_form(world["stool"].id, sku))
    assert response.status_code == 200 and b"Not a valid choice" in response.data
    assert _variants_with_sku(app, sku) == 0
    # the same form with its own product goes through
    assert (
        seller.post("/admin/variants/add", data=_variant_form(world["shelf"].id, sku)).status_code
        == 302
    )
    assert _variants_with_sku(app, sku) == 1


def test_a_seller_cannot_stock_another_sellers_variant(app, seller, world):
    data = {
        "variant": str(world["stool"].variant_id),
        "warehouse": str(world["lamp"].warehouse_id),
        "quantity_on_hand": "5",
        "reorder_point": "1",
    }
    response = seller.post("/admin/inventory/add", data=data)
    assert response.status_code == 200 and b"Not a valid choice" in response.data
    with app.app_context(), unscoped():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(StockLevel)
                .where(StockLevel.variant_id == world["stool"].variant_id)
            )
            == 1
        )  # only the factory's row


def test_edit_moves_a_variant_only_within_scope(app, admin, world):
    sku = f"AJX-{uuid.uuid4().hex[:8]}"
    admin.post("/admin/variants/add", data=_variant_form(world["lamp"].id, sku))
    with app.app_context(), tenant_scope(world["tenant"].id):
        variant_id = db.session.scalar(select(ProductVariant.id).where(ProductVariant.sku == sku))
    page = admin.get(f"/admin/variants/edit/{variant_id}").get_data(as_text=True)
    # the current value is the one option, selected
    assert re.search(rf'<option value="{world["lamp"].id}" selected>Oak desk lamp</option>', page)
    assert 'data-related-url="/admin/variants/related/product/"' in page
    refused = admin.post(
        f"/admin/variants/edit/{variant_id}", data=_variant_form(world["foreign"].id, sku)
    )
    assert refused.status_code == 200 and b"Not a valid choice" in refused.data
    assert (
        admin.post(
            f"/admin/variants/edit/{variant_id}", data=_variant_form(world["chair"].id, sku)
        ).status_code
        == 302
    )
    with app.app_context(), tenant_scope(world["tenant"].id):
        assert db.session.get(ProductVariant, variant_id).product_id == world["chair"].id


# --- page size -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/admin/variants/add",
        "/admin/product-images/add",
        "/admin/product-attributes/add",
        "/admin/inventory/add",
        "/admin/variants/list/",
        "/admin/wishlists/list/",
        "/admin/reviews/list/",
        "/admin/addresses/add",
        "/admin/customers/add",
        "/admin/sellers/add",
    ],
)
def test_forms_no_longer_carry_an_option_per_row(admin, path):
    response = admin.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Filler item" not in page
    assert page.count("<option") < 60, page.count(
        "<option"
    )  # other selects: warehouses, attributes...
    assert len(response.data) < 120_000
    assert "market-ajax-select" in page and "admin/related_select.js" in page


def test_the_script_is_served(admin):
    response = admin.get("/admin/static/admin/related_select.js")
    assert response.status_code == 200 and b"market-ajax-select" in response.data
