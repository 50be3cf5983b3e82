"""Bulk actions of the admin's lists, through the app/ services (admin/views/fulfilment.py, run by
admin/bulk.py):
"Publish selected" / "Archive selected" on products (a seller its own only; the plan's product
quota and the seller's approval hold) and "Approve selected" / "Reject selected" on reviews
(Admins only; each product's rating follows). Each refusal is named in a flash message; refused
rows do not change."""

from __future__ import annotations

import pytest

from app.security import roles
from tests.builders.admin import login
from tests.builders.fulfilment import (
    bulk,
    flashes,
    messages,
    product_status,
    rating,
    review,
    review_status,
    set_product_limit,
)

PRODUCTS, REVIEWS = "/admin/products", "/admin/reviews"


@pytest.fixture
def store(app, factory):
    tenant = factory.tenant()
    seller, neighbour = factory.seller(tenant), factory.seller(tenant)
    return {
        "tenant": tenant,
        "seller": seller,
        "neighbour": neighbour,
        "admin": factory.user(tenant, roles.ADMIN),
        "lamp": factory.product(seller, title="Bulk lamp", status="draft"),
        "desk": factory.product(seller, title="Bulk desk", status="draft"),
        "theirs": factory.product(neighbour, title="Neighbour chair", status="draft"),
    }


def test_a_seller_publishes_and_archives_its_own_products(app, store):
    tenant_id = store["tenant"].id
    lamp, desk, theirs = store["lamp"].id, store["desk"].id, store["theirs"].id
    client, _ = login(app, store["tenant"].slug, store["seller"].user.username)
    page = client.get(f"{PRODUCTS}/list/").get_data(as_text=True)
    assert "Publish selected" in page and "Archive selected" in page
    assert bulk(client, PRODUCTS, "publish", [lamp, desk, theirs]).status_code == 302
    assert flashes(client) == [
        ("success", "2 products published."),
        ("danger", f"#{theirs}: No such product."),  # another seller's: not named, not changed
    ]
    assert [product_status(app, tenant_id, p) for p in (lamp, desk, theirs)] == [
        "active",
        "active",
        "draft",
    ]
    bulk(client, PRODUCTS, "archive", [desk, theirs])
    assert flashes(client) == [
        ("success", "1 product archived."),
        ("danger", f"#{theirs}: No such product."),
    ]
    assert product_status(app, tenant_id, desk) == "archived"
    assert product_status(app, tenant_id, theirs) == "draft"


def test_publishing_keeps_to_the_plans_product_limit(app, store):
    tenant_id = store["tenant"].id
    client, _ = login(app, store["tenant"].slug, store["seller"].user.username)
    bulk(client, PRODUCTS, "archive", [store["desk"].id])
    flashes(client)
    set_product_limit(app, tenant_id, 2)  # the lamp and the neighbour's chair take both places
    try:
        bulk(client, PRODUCTS, "publish", [store["desk"].id])  # back from the archive: a place
        assert flashes(client) == [
            ("warning", "No products published."),
            ("danger", "Bulk desk: This storefront's plan allows 2 products."),
        ]
        assert product_status(app, tenant_id, store["desk"].id) == "archived"
    finally:
        set_product_limit(app, tenant_id, None)


def test_a_seller_not_yet_approved_cannot_publish(app, factory, store):
    pending = factory.seller(store["tenant"], status="pending")
    product = factory.product(pending, title="Pending stool", status="draft")
    client, _ = login(app, store["tenant"].slug, pending.user.username)
    bulk(client, PRODUCTS, "publish", [product.id])
    assert messages(client) == [
        "No products published.",
        "Pending stool: Your seller account is not approved yet.",
    ]
    assert product_status(app, store["tenant"].id, product.id) == "draft"


def test_an_admin_moderates_reviews_in_bulk_and_the_rating_follows(app, factory, store):
    tenant_id = store["tenant"].id
    lamp = factory.product(store["seller"], title="Rated lamp")
    alice, bob = factory.customer(store["tenant"]), factory.customer(store["tenant"])
    good = review(app, tenant_id, alice, lamp.id, 5, "Bright")
    bad = review(app, tenant_id, bob, lamp.id, 2, "Dim")
    assert rating(app, tenant_id, lamp.id)[1] == 2

    seller, _ = login(app, store["tenant"].slug, store["seller"].user.username)
    assert "Reject selected" not in seller.get(f"{REVIEWS}/list/").get_data(as_text=True)
    bulk(seller, REVIEWS, "reject", [good, bad])  # moderation is for Admins
    assert messages(seller) == ["Access is Denied"]
    assert review_status(app, tenant_id, good) == "approved"

    admin, _ = login(app, store["tenant"].slug, store["admin"].username)
    bulk(admin, REVIEWS, "reject", [good, bad])
    assert messages(admin) == ["2 reviews rejected."]
    assert [review_status(app, tenant_id, r) for r in (good, bad)] == ["hidden", "hidden"]
    assert rating(app, tenant_id, lamp.id)[1] == 0
    bulk(admin, REVIEWS, "approve", [good])
    assert messages(admin) == ["1 review approved."]
    avg, count = rating(app, tenant_id, lamp.id)
    assert count == 1 and float(avg) == 5.0


def test_the_seller_role_gets_fulfilment_and_publishing_but_not_moderation(app):
    """What `flask init` wrote from admin/roles.py: a Seller ships, decides refunds, prints labels,
    publishes and archives (on its own rows: the tests above); reviews' moderation is for Admins."""
    with app.app_context():
        sm = app.appbuilder.sm
        held = {
            role: {(pv.permission.name, pv.view_menu.name) for pv in sm.find_role(role).permissions}
            for role in (roles.SELLER, roles.ADMIN)
        }
    fulfilment = {
        ("can_set_status", "SubOrderView"),
        ("can_ship", "SubOrderView"),
        ("can_decide_refund", "SubOrderView"),
        ("ship_selected", "SubOrderView"),
        ("can_label", "ShipmentView"),
        ("publish", "ProductView"),
        ("archive", "ProductView"),
    }
    moderation = {("approve", "ReviewView"), ("reject", "ReviewView")}
    assert fulfilment <= held[roles.SELLER] and not moderation & held[roles.SELLER]
    assert fulfilment | moderation <= held[roles.ADMIN]
