"""/api/v1/reviews: public listing, one review per customer and product, own-only edits, Admin
moderation, helpful votes once per user, the product's rating summary (also under concurrent
reviews), review events, roles (401/403), ownership and tenancy (404)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.catalog.models import Product
from app.core.tenancy import tenant_scope
from app.events.models import OutboxEvent
from app.extensions import db
from app.reviews.models import Review
from app.security import roles
from tests.builders.api import error
from tests.builders.auth import api_headers

API = "/api/v1/reviews"


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    alice, bob = factory.customer(tenant), factory.customer(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    product = factory.product(seller)
    draft = factory.product(seller, status="draft")
    foreign = factory.tenant()
    foreign_seller = factory.seller(foreign)
    foreign_product = factory.product(foreign_seller)
    foreign_customer = factory.customer(foreign)
    return {
        "tenant": tenant,
        "foreign": foreign,
        "product": product,
        "draft": draft,
        "seller": seller,
        "foreign_product": foreign_product,
        "alice": alice,
        "bob": bob,
        "h_alice": api_headers(app, alice.user),
        "h_bob": api_headers(app, bob.user),
        "h_admin": api_headers(app, admin),
        "h_seller": api_headers(app, seller.user),
        "h_foreign": api_headers(app, foreign_customer.user),
        "anon": {"X-Tenant": tenant.slug},
    }


def _review(client, h, product_id, rating=4, title="Nice", body="Works well"):
    response = client.post(
        f"{API}/",
        headers=h,
        json={"product_id": product_id, "rating": rating, "title": title, "body": body},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _summary(app, tenant_id, product_id):
    with app.app_context(), tenant_scope(tenant_id):
        p = db.session.get(Product, product_id)
        return p.rating_avg, p.rating_count


@pytest.mark.smoke
def test_create_list_and_rating_summary(app, client, shop):
    pid = shop["product"].id
    first = _review(client, shop["h_alice"], pid, rating=5)
    assert (
        first["verified_purchase"] is False
        and first["status"] == "approved"
        and first["author_name"] == "Test C."
    )
    _review(client, shop["h_bob"], pid, rating=2)
    assert _summary(app, shop["tenant"].id, pid) == (Decimal("3.50"), 2)
    listing = client.get(f"{API}/?product_id={pid}&sort=-rating", headers=shop["anon"]).get_json()
    assert listing["total"] == 2 and [r["rating"] for r in listing["items"]] == [5, 2]
    assert [
        r["rating"]
        for r in client.get(
            f"{API}/?product_id={pid}&sort=rating", headers=shop["anon"]
        ).get_json()["items"]
    ] == [2, 5]
    assert client.get(f"{API}/?rating=5", headers=shop["anon"]).get_json()["total"] == 1
    assert client.get(f"{API}/{first['id']}/", headers=shop["anon"]).get_json()["title"] == "Nice"
    with app.app_context(), tenant_scope(shop["tenant"].id):
        names = db.session.scalars(
            select(OutboxEvent.name).where(
                OutboxEvent.aggregate == "review", OutboxEvent.aggregate_id == str(first["id"])
            )
        ).all()
        assert names == ["review.created"]


def test_second_review_of_a_product_is_a_conflict(client, shop):
    _review(client, shop["h_alice"], shop["product"].id)
    error(
        client.post(
            f"{API}/",
            headers=shop["h_alice"],
            json={"product_id": shop["product"].id, "rating": 3, "title": "Again"},
        ),
        409,
        "already_reviewed",
    )


def test_create_validation_roles_and_tenancy(client, shop):
    refusal = error(
        client.post(
            f"{API}/",
            headers=shop["h_alice"],
            json={"product_id": shop["product"].id, "rating": 6, "title": ""},
        ),
        422,
    )
    assert {"rating", "title"} <= set(refusal["details"])
    refusal = error(client.post(f"{API}/", headers=shop["h_alice"], json={}), 422)
    assert {"product_id", "rating", "title"} <= set(refusal["details"])
    body = {"product_id": shop["product"].id, "rating": 4, "title": "Hi"}
    error(client.post(f"{API}/", headers=shop["anon"], json=body), 401)
    error(client.post(f"{API}/", headers=shop["h_seller"], json=body), 403)
    error(client.post(f"{API}/", headers=shop["h_admin"], json=body), 403)
    error(
        client.post(
            f"{API}/", headers=shop["h_alice"], json=dict(body, product_id=shop["draft"].id)
        ),
        404,
    )
    error(
        client.post(
            f"{API}/",
            headers=shop["h_alice"],
            json=dict(body, product_id=shop["foreign_product"].id),
        ),
        404,
    )
    error(client.get(f"{API}/?product_id={shop['foreign_product'].id}", headers=shop["anon"]), 404)
    error(client.get(f"{API}/?sort=best&page_size=0", headers=shop["anon"]), 422)


def test_reviews_of_another_tenant_are_not_found(app, client, shop):
    review = _review(client, shop["h_alice"], shop["product"].id)
    foreign = {"X-Tenant": shop["foreign"].slug}
    error(client.get(f"{API}/{review['id']}/", headers=foreign), 404)
    assert client.get(f"{API}/", headers=foreign).get_json()["total"] == 0
    error(client.post(f"{API}/{review['id']}/helpful/", headers=shop["h_foreign"]), 404)
    error(
        client.patch(f"{API}/{review['id']}/", headers=shop["h_foreign"], json={"title": "x"}), 404
    )
    error(client.delete(f"{API}/{review['id']}/", headers=shop["h_foreign"]), 404)


@pytest.mark.smoke
def test_author_edits_and_deletes_own_review_and_summary_follows(app, client, shop):
    pid = shop["product"].id
    review = _review(client, shop["h_alice"], pid, rating=5)
    _review(client, shop["h_bob"], pid, rating=3)
    response = client.patch(f"{API}/{review['id']}/", headers=shop["h_alice"], json={"rating": 1})
    assert (
        response.status_code == 200
        and response.get_json()["rating"] == 1
        and response.get_json()["title"] == "Nice"
    )
    assert _summary(app, shop["tenant"].id, pid) == (Decimal("2.00"), 2)
    response = client.put(
        f"{API}/{review['id']}/",
        headers=shop["h_alice"],
        json={"rating": 4, "title": "Changed my mind", "body": None},
    )
    assert response.status_code == 200 and response.get_json()["body"] is None
    assert _summary(app, shop["tenant"].id, pid) == (Decimal("3.50"), 2)
    assert client.delete(f"{API}/{review['id']}/", headers=shop["h_alice"]).status_code == 204
    assert _summary(app, shop["tenant"].id, pid) == (Decimal("3.00"), 1)
    error(client.get(f"{API}/{review['id']}/", headers=shop["anon"]), 404)
    with app.app_context(), tenant_scope(shop["tenant"].id):
        names = db.session.scalars(
            select(OutboxEvent.name)
            .where(OutboxEvent.aggregate == "review", OutboxEvent.aggregate_id == str(review["id"]))
            .order_by(OutboxEvent.id)
        ).all()
        assert names == ["review.created", "review.updated", "review.updated", "review.deleted"]


def test_another_customers_review_cannot_be_changed(client, shop):
    review = _review(client, shop["h_alice"], shop["product"].id)
    error(client.patch(f"{API}/{review['id']}/", headers=shop["h_bob"], json={"rating": 1}), 404)
    error(client.put(f"{API}/{review['id']}/", headers=shop["h_bob"], json={"rating": 1}), 404)
    error(client.delete(f"{API}/{review['id']}/", headers=shop["h_bob"]), 404)
    error(client.patch(f"{API}/{review['id']}/", headers=shop["anon"], json={"rating": 1}), 401)
    error(client.patch(f"{API}/{review['id']}/", headers=shop["h_seller"], json={"rating": 1}), 403)
    refusal = error(
        client.patch(f"{API}/{review['id']}/", headers=shop["h_alice"], json={"rating": 0}), 422
    )
    assert "rating" in refusal["details"]
    assert (
        client.patch(f"{API}/{review['id']}/", headers=shop["h_alice"], json={}).get_json()[
            "rating"
        ]
        == 4
    )
    # a customer cannot moderate, not even their own review
    error(
        client.patch(
            f"{API}/{review['id']}/", headers=shop["h_alice"], json={"status": "approved"}
        ),
        403,
    )


def test_admin_moderates_and_deletes(app, client, shop):
    pid = shop["product"].id
    review = _review(client, shop["h_alice"], pid, rating=5)
    _review(client, shop["h_bob"], pid, rating=1)
    response = client.patch(
        f"{API}/{review['id']}/", headers=shop["h_admin"], json={"status": "hidden"}
    )
    assert response.status_code == 200 and response.get_json()["status"] == "hidden"
    assert _summary(app, shop["tenant"].id, pid) == (Decimal("1.00"), 1)
    error(client.get(f"{API}/{review['id']}/", headers=shop["anon"]), 404)
    assert (
        client.get(f"{API}/{review['id']}/", headers=shop["h_alice"]).status_code == 200
    )  # the author
    assert client.get(f"{API}/?product_id={pid}", headers=shop["anon"]).get_json()["total"] == 1
    # moderators change status, not the author's words
    error(
        client.patch(f"{API}/{review['id']}/", headers=shop["h_admin"], json={"title": "Edited"}),
        403,
    )
    client.patch(f"{API}/{review['id']}/", headers=shop["h_admin"], json={"status": "approved"})
    assert _summary(app, shop["tenant"].id, pid) == (Decimal("3.00"), 2)
    assert client.delete(f"{API}/{review['id']}/", headers=shop["h_admin"]).status_code == 204
    assert _summary(app, shop["tenant"].id, pid) == (Decimal("1.00"), 1)


@pytest.mark.smoke
def test_helpful_once_per_user_and_not_on_own_review(client, shop, app, factory):
    review = _review(client, shop["h_alice"], shop["product"].id)
    response = client.post(f"{API}/{review['id']}/helpful/", headers=shop["h_bob"])
    assert response.status_code == 200 and response.get_json()["helpful_count"] == 1
    error(
        client.post(f"{API}/{review['id']}/helpful/", headers=shop["h_bob"]), 409, "already_voted"
    )
    error(client.post(f"{API}/{review['id']}/helpful/", headers=shop["h_alice"]), 403, "own_review")
    error(client.post(f"{API}/{review['id']}/helpful/", headers=shop["anon"]), 401)
    error(client.post(f"{API}/999999999/helpful/", headers=shop["h_bob"]), 404)
    carol = factory.customer(shop["tenant"])
    assert (
        client.post(
            f"{API}/{review['id']}/helpful/", headers=api_headers(app, carol.user)
        ).get_json()["helpful_count"]
        == 2
    )
    listing = client.get(f"{API}/?sort=helpful", headers=shop["anon"]).get_json()
    assert listing["items"][0]["id"] == review["id"]


def test_concurrent_reviews_keep_the_rating_summary_consistent(app, factory, shop):
    pid = shop["product"].id
    customers = [factory.customer(shop["tenant"]) for _ in range(8)]
    ratings = [1, 2, 3, 4, 5, 5, 4, 3]
    hs = [api_headers(app, c.user) for c in customers]
    barrier = threading.Barrier(len(customers))
    results: list = []

    def worker(h, rating):
        client = app.test_client()
        barrier.wait()
        response = client.post(
            f"{API}/", headers=h, json={"product_id": pid, "rating": rating, "title": "t"}
        )
        results.append(response.status_code)

    threads = [
        threading.Thread(target=worker, args=(h, r)) for h, r in zip(hs, ratings, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [201] * len(customers)
    expected = (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"))
    assert _summary(app, shop["tenant"].id, pid) == (expected, len(ratings))
    with app.app_context(), tenant_scope(shop["tenant"].id):
        assert db.session.scalar(
            select(func.count(Review.id)).where(Review.product_id == pid)
        ) == len(ratings)


def test_concurrent_duplicate_review_by_one_customer_is_one_review(app, shop):
    pid = shop["product"].id
    barrier = threading.Barrier(4)
    results: list = []

    def worker():
        client = app.test_client()
        barrier.wait()
        results.append(
            client.post(
                f"{API}/",
                headers=shop["h_alice"],
                json={"product_id": pid, "rating": 4, "title": "t"},
            ).status_code
        )

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409, 409, 409]
    assert _summary(app, shop["tenant"].id, pid) == (Decimal("4.00"), 1)


def test_concurrent_helpful_votes_are_all_counted(app, factory, shop):
    review = _review(app.test_client(), shop["h_alice"], shop["product"].id)
    voters = [api_headers(app, factory.customer(shop["tenant"]).user) for _ in range(6)]
    barrier = threading.Barrier(len(voters) * 2)
    results: list = []

    def worker(h):
        client = app.test_client()
        barrier.wait()
        results.append(client.post(f"{API}/{review['id']}/helpful/", headers=h).status_code)

    threads = [
        threading.Thread(target=worker, args=(h,)) for h in voters + voters
    ]  # each user votes twice
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] * len(voters) + [409] * len(voters)
    with app.app_context(), tenant_scope(shop["tenant"].id):
        assert db.session.get(Review, review["id"]).helpful_count == len(voters)
