"""What orders change elsewhere: a review of a product the customer paid for is a verified
purchase, and the customer's analytics count paid orders and spend net of refunds."""

from __future__ import annotations

from decimal import Decimal

from tests.builders.orders import CARD_DECLINED, CARD_OK, place


def test_paid_order_makes_reviews_verified_and_counts_in_analytics(app, client, shop):
    before = client.get("/api/v1/customers/analytics/", headers=shop.h).get_json()
    assert (
        before["orders_tracked"] is True
        and before["orders_count"] == 0
        and before["total_spent"] == "0.00"
    )

    unpaid = place(client, shop, items=[(shop.product2.variant_id, 1)], payment=CARD_DECLINED)
    assert unpaid["payment"]["status"] == "failed"
    review = client.post(
        "/api/v1/reviews/",
        headers=shop.h,
        json={"product_id": shop.product2.id, "rating": 4, "title": "Not bought yet"},
    )
    assert review.status_code == 201 and review.get_json()["verified_purchase"] is False

    paid = place(client, shop, items=[(shop.product.variant_id, 2)], payment=CARD_OK)
    assert paid["payment"]["status"] == "captured"
    review = client.post(
        "/api/v1/reviews/",
        headers=shop.h,
        json={"product_id": shop.product.id, "rating": 5, "title": "Bought it"},
    )
    assert review.status_code == 201 and review.get_json()["verified_purchase"] is True

    # another customer did not buy it
    other = client.post(
        "/api/v1/reviews/",
        headers=shop.h_other,
        json={"product_id": shop.product.id, "rating": 3, "title": "Never bought"},
    )
    assert other.status_code == 201 and other.get_json()["verified_purchase"] is False

    stats = client.get("/api/v1/customers/analytics/", headers=shop.h).get_json()
    assert stats["orders_count"] == 1, "the declined one was never paid"
    assert Decimal(stats["total_spent"]) == Decimal(paid["total"])
    assert (
        client.get("/api/v1/customers/analytics/", headers=shop.h_other).get_json()["orders_count"]
        == 0
    )
