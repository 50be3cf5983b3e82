"""Admin pages of this slice: /admin/reviews (Admin moderates and deletes, the product's rating
follows; a Seller reads only its own products' reviews), /admin/wishlists and
/admin/customer-activities (read-only)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.catalog.models import Product
from app.core.tenancy import tenant_scope
from app.customers import services as customers
from app.extensions import db
from app.reviews import services as reviews
from app.reviews.inputs import NewReview
from app.reviews.models import Review
from app.security import roles
from app.security.models import User
from app.sellers.actors import actor_for
from tests.builders.admin import login


def _grant_seller_review_read(app):
    """What admin/roles.py will give the Seller role (SELLER_VIEWS["ReviewView"] = READ); idempotent."""
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_role(roles.SELLER)
        for perm in ("can_list", "can_show"):
            pv = sm.find_permission_view_menu(perm, "ReviewView")
            if pv not in role.permissions:
                sm.add_permission_role(role, pv)


@pytest.fixture
def world(app, factory):
    tenant, other = factory.tenant(), factory.tenant()
    seller, neighbour = factory.seller(tenant), factory.seller(tenant)
    mine, theirs = (
        factory.product(seller, title="Seller lamp"),
        factory.product(neighbour, title="Neighbour desk"),
    )
    alice, bob = factory.customer(tenant), factory.customer(tenant)
    foreign_seller = factory.seller(other)
    foreign_product = factory.product(foreign_seller)
    foreign_customer = factory.customer(other)
    admin = factory.user(tenant, roles.ADMIN)
    ids = {}
    with app.app_context():
        for key, (t, customer, product, rating, title) in {
            "mine_a": (tenant, alice, mine, 5, "Lamp is great"),
            "mine_b": (tenant, bob, mine, 1, "Lamp flickers"),
            "theirs": (tenant, alice, theirs, 4, "Desk is fine"),
            "foreign": (other, foreign_customer, foreign_product, 3, "Elsewhere"),
        }.items():
            with tenant_scope(t.id):
                user = actor_for(db.session.get(User, customer.user_id))
                ids[key] = reviews.create_review(
                    user, NewReview(product_id=product.id, rating=rating, title=title)
                ).id
                db.session.remove()
        with tenant_scope(tenant.id):
            user = actor_for(db.session.get(User, alice.user_id))
            customers.add_to_wishlist(user, mine.id)
            customers.log_activity(user, "search", {"query": "lamp"})
            db.session.remove()
    return {"tenant": tenant, "seller": seller, "admin": admin, "mine": mine, "ids": ids}


def _summary(app, tenant_id, product_id):
    with app.app_context(), tenant_scope(tenant_id):
        p = db.session.get(Product, product_id)
        return p.rating_avg, p.rating_count


@pytest.mark.smoke
def test_admin_moderates_a_review_and_the_rating_follows(app, world):
    client, _ = login(app, world["tenant"].slug, world["admin"].username)
    ids, pid, tid = world["ids"], world["mine"].id, world["tenant"].id
    page = client.get("/admin/reviews/list/")
    assert (
        page.status_code == 200 and b"Lamp is great" in page.data and b"Elsewhere" not in page.data
    )
    assert client.get(f"/admin/reviews/show/{ids['foreign']}").status_code == 404
    assert _summary(app, tid, pid) == (Decimal("3.00"), 2)
    assert (
        client.post(f"/admin/reviews/edit/{ids['mine_b']}", data={"status": "hidden"}).status_code
        == 302
    )
    with app.app_context(), tenant_scope(tid):
        assert db.session.get(Review, ids["mine_b"]).status == "hidden"
    assert _summary(app, tid, pid) == (Decimal("5.00"), 1)
    # an unknown status is refused and changes nothing
    client.post(f"/admin/reviews/edit/{ids['mine_b']}", data={"status": "bogus"})
    with app.app_context(), tenant_scope(tid):
        assert db.session.get(Review, ids["mine_b"]).status == "hidden"
    client.post(f"/admin/reviews/delete/{ids['mine_a']}")
    with app.app_context(), tenant_scope(tid):
        assert db.session.get(Review, ids["mine_a"]) is None
    assert _summary(app, tid, pid) == (Decimal("0.00"), 0)


def test_seller_reads_only_reviews_of_its_own_products(app, world):
    _grant_seller_review_read(app)
    client, _ = login(app, world["tenant"].slug, world["seller"].user.username)
    ids = world["ids"]
    page = client.get("/admin/reviews/list/")
    assert page.status_code == 200
    assert b"Lamp is great" in page.data and b"Desk is fine" not in page.data
    assert client.get(f"/admin/reviews/show/{ids['mine_a']}").status_code == 200
    assert client.get(f"/admin/reviews/show/{ids['theirs']}").status_code == 404
    assert client.get(f"/admin/reviews/show/{ids['foreign']}").status_code == 404
    # read-only: no edit, no delete
    assert client.post(
        f"/admin/reviews/edit/{ids['mine_a']}", data={"status": "hidden"}
    ).status_code in (302, 403)
    client.post(f"/admin/reviews/delete/{ids['mine_a']}")
    with app.app_context(), tenant_scope(world["tenant"].id):
        review = db.session.get(Review, ids["mine_a"])
        assert review is not None and review.status == "approved"
    assert client.get("/admin/wishlists/list/").status_code == 403


def test_wishlist_and_activity_pages_are_read_only_for_admins(app, world):
    client, _ = login(app, world["tenant"].slug, world["admin"].username)
    page = client.get("/admin/wishlists/list/")
    assert page.status_code == 200 and b"Seller lamp" in page.data
    page = client.get("/admin/customer-activities/list/")
    assert page.status_code == 200 and b"search" in page.data
    assert client.get("/admin/wishlists/add").status_code in (302, 403, 404)
    with app.app_context(), tenant_scope(world["tenant"].id):
        from app.customers.engagement_models import WishlistItem

        item_id = db.session.scalar(select(WishlistItem.id))
    client.post(f"/admin/wishlists/delete/{item_id}")
    with app.app_context(), tenant_scope(world["tenant"].id):
        assert db.session.get(WishlistItem, item_id) is not None
    anonymous = app.test_client()
    anonymous.environ_base["HTTP_X_TENANT"] = world["tenant"].slug
    response = anonymous.get("/admin/reviews/list/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
