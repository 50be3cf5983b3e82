"""What is still refundable and shippable counts every refund, whatever made it: an Admin's refund
through /api/v1/payments/refund/ (which answers no refund request) lowers what refund requests and
cancels may still pay back, and once the order's payment is refunded in full the order and every
sub-order still open are refunded (stock they held released, requests still undecided closed), so
no request, processing, label or shipping is possible any more. All through the API, with the test
card gateway (nothing faked)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.orders.models import RefundRequest
from tests.builders.api import error
from tests.builders.orders import CARD_OK, patch, place, stock_of, sub_of

API = "/api/v1/orders"
PAYMENTS = "/api/v1/payments"


def api_refund(client, shop, payment_id, amount) -> dict:
    response = client.post(
        f"{PAYMENTS}/refund/",
        headers=shop.h_admin,
        json={"payment_id": payment_id, "amount": str(amount), "reason": "goodwill"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "completed"
    return response.get_json()


def view(client, shop, order_id, h=None) -> dict:
    response = client.get(f"{API}/{order_id}/", headers=h or shop.h)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ask(client, shop, order_id, **body):
    return client.post(
        f"{API}/{order_id}/refund/", headers=shop.h, json={"reason": "changed my mind", **body}
    )


def label(client, h, sub_id):
    return client.post("/api/v1/shipping/create-label/", headers=h, json={"sub_order_id": sub_id})


def test_an_admins_refund_of_the_whole_payment_refunds_the_order_and_stops_requests_and_shipping(
    app, client, shop
):
    order = place(client, shop, payment=CARD_OK)  # seller 1: 2 units held; seller 2: 1 unit held
    one, two = sub_of(order, shop.seller.id), sub_of(order, shop.seller2.id)
    assert patch(client, shop.h_seller, order["id"], status="processing").status_code == 200
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 2)

    api_refund(client, shop, order["payment"]["id"], order["total"])

    body = view(client, shop, order["id"])
    assert (body["status"], body["payment_status"], body["refunded_total"]) == (
        "refunded",
        "refunded",
        order["total"],
    )
    assert [
        (s["status"], s["refundable"], s["allowed_transitions"]) for s in body["sub_orders"]
    ] == [("refunded", "0.00", []), ("refunded", "0.00", [])]
    # neither sub-order ships now: the units they held are back on sale
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 0)
    assert stock_of(app, shop.tenant.id, shop.product2.stock_level_id) == (5, 0)
    timeline = client.get(f"{API}/{order['id']}/tracking/", headers=shop.h).get_json()["timeline"]
    assert [(t["sub_order_id"], t["from_status"], t["to_status"]) for t in timeline[-3:]] == [
        (one["id"], "processing", "refunded"),
        (two["id"], "paid", "refunded"),
        (None, "paid", "refunded"),
    ]

    # the customer cannot ask for that money again, in any form
    for body in (
        {},
        {"sub_order_id": one["id"]},
        {"sub_order_id": two["id"], "amount": "1.00"},
        {"lines": [{"line_id": one["lines"][0]["id"], "quantity": 1}]},
    ):
        err = error(ask(client, shop, order["id"], **body), 409, "nothing_to_refund")
        assert err["details"]["refundable"] == "0.00"
    with app.app_context(), tenant_scope(shop.tenant.id):
        assert (
            db.session.scalar(select(RefundRequest.id).where(RefundRequest.order_id == order["id"]))
            is None
        )
    # and the sellers can neither process, ship nor label it
    error(patch(client, shop.h_seller, order["id"], status="shipped"), 409, "illegal_transition")
    error(
        patch(client, shop.h_seller2, order["id"], status="processing"), 409, "illegal_transition"
    )
    error(label(client, shop.h_seller2, two["id"]), 409, "illegal_transition")
    error(label(client, shop.h_admin, one["id"]), 409, "illegal_transition")


def test_a_shipped_sub_order_is_refunded_too_and_its_sold_units_stay_sold(app, client, shop):
    order = place(client, shop, payment=CARD_OK)
    one = sub_of(order, shop.seller.id)
    assert patch(client, shop.h_seller, order["id"], status="processing").status_code == 200
    assert label(client, shop.h_seller, one["id"]).status_code == 201
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (8, 0)  # sold

    api_refund(client, shop, order["payment"]["id"], order["total"])

    body = view(client, shop, order["id"])
    assert body["status"] == "refunded" and [s["status"] for s in body["sub_orders"]] == [
        "refunded",
        "refunded",
    ]
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (
        8,
        0,
    )  # shipped: not back on hand
    assert stock_of(app, shop.tenant.id, shop.product2.stock_level_id) == (
        5,
        0,
    )  # never shipped: released
    error(patch(client, shop.h_seller, order["id"], status="delivered"), 409, "illegal_transition")


def test_a_request_still_undecided_is_closed_by_a_refund_of_the_whole_payment(app, client, shop):
    order = place(client, shop, payment=CARD_OK)
    two = sub_of(order, shop.seller2.id)
    assert ask(client, shop, order["id"], sub_order_id=two["id"], amount="5.00").status_code == 200
    [request] = view(client, shop, order["id"])["refund_requests"]
    assert request["status"] == "requested"

    api_refund(client, shop, order["payment"]["id"], order["total"])

    body = view(client, shop, order["id"])
    assert body["status"] == "refunded" and sub_of(body, shop.seller2.id)["status"] == "refunded"
    [request] = body["refund_requests"]
    assert request["status"] == "closed" and request["decided_at"]
    # nothing is left to pay it with: deciding it now is refused, and nothing is paid twice
    err = error(
        client.post(
            f"{API}/{order['id']}/refund/",
            headers=shop.h_seller2,
            json={"request_id": request["id"], "approve": True},
        ),
        409,
        "refund_decided",
    )
    assert err["details"]["status"] == "closed"
    assert view(client, shop, order["id"])["refunded_total"] == order["total"]


def test_a_partial_refund_through_payments_lowers_what_requests_may_still_ask(app, client, shop):
    order = place(client, shop, payment=CARD_OK)
    one, two = sub_of(order, shop.seller.id), sub_of(order, shop.seller2.id)
    total, t1, t2 = (Decimal(x) for x in (order["total"], one["total"], two["total"]))
    # an admin pays back all but (the smaller sub-order's total - 1.00): every sub-order is capped by it
    left = min(t1, t2) - Decimal("1.00")
    api_refund(client, shop, order["payment"]["id"], total - left)

    body = view(client, shop, order["id"])
    assert (body["status"], body["payment_status"]) == ("paid", "partially_refunded")
    assert [Decimal(s["refundable"]) for s in body["sub_orders"]] == [left, left]
    err = error(ask(client, shop, order["id"], sub_order_id=one["id"], amount=str(t1)), 422)
    assert err["details"]["amount"] == [f"at most {left} for this sub-order"]
    err = error(
        ask(client, shop, order["id"], sub_order_id=one["id"], amount=str(left + Decimal("0.01"))),
        422,
    )
    # without an amount, the request is for what is left
    response = ask(client, shop, order["id"], sub_order_id=one["id"])
    assert response.status_code == 200, response.get_json()
    [request] = response.get_json()["refund_requests"]
    assert (request["sub_order_id"], request["amount"], request["status"]) == (
        one["id"],
        str(left),
        "requested",
    )
    # that took what the payment had left: the other sub-order has nothing more to ask
    err = error(ask(client, shop, order["id"], sub_order_id=two["id"]), 409, "nothing_to_refund")
    assert err["details"] == {"sub_order_id": two["id"], "status": "paid", "refundable": "0.00"}

    # approved and paid out: the payment is refunded in full, so the whole order is refunded
    response = client.post(
        f"{API}/{order['id']}/refund/",
        headers=shop.h_seller,
        json={"request_id": request["id"], "approve": True},
    )
    assert response.status_code == 200, response.get_json()
    body = view(client, shop, order["id"])
    assert (body["status"], body["refunded_total"]) == ("refunded", order["total"])
    assert [s["status"] for s in body["sub_orders"]] == ["refunded", "refunded"]
    assert [r["status"] for r in body["refund_requests"]] == ["completed"]


def test_a_partial_refund_through_payments_still_lets_the_sellers_ship(app, client, shop):
    order = place(client, shop, payment=CARD_OK)
    api_refund(client, shop, order["payment"]["id"], "5.00")
    for target in ("processing", "shipped"):
        assert patch(client, shop.h_seller, order["id"], status=target).status_code == 200
    assert patch(client, shop.h_seller2, order["id"], status="processing").status_code == 200
    assert label(client, shop.h_seller2, sub_of(order, shop.seller2.id)["id"]).status_code == 201
    body = view(client, shop, order["id"])
    assert [s["status"] for s in body["sub_orders"]] == ["shipped", "shipped"]
    assert body["refunded_total"] == "5.00" and body["payment_status"] == "partially_refunded"


def test_cancelling_a_sub_order_after_a_partial_api_refund_pays_back_only_what_is_left(
    app, client, shop
):
    order = place(client, shop, payment=CARD_OK)
    one, two = sub_of(order, shop.seller.id), sub_of(order, shop.seller2.id)
    total, t2 = Decimal(order["total"]), Decimal(two["total"])
    api_refund(client, shop, order["payment"]["id"], Decimal(one["total"]) + Decimal("1.00"))

    response = client.post(
        f"{API}/{order['id']}/cancel/", headers=shop.h_seller2, json={"reason": "cannot ship"}
    )
    assert response.status_code == 200, response.get_json()
    body = view(client, shop, order["id"])
    [request] = body["refund_requests"]
    assert (request["sub_order_id"], request["status"], Decimal(request["amount"])) == (
        two["id"],
        "completed",
        t2 - Decimal("1.00"),
    )
    # all of the payment is back now: seller 1's sub-order is refunded too, nothing is owed twice
    assert (body["status"], Decimal(body["refunded_total"])) == ("refunded", total)
    assert [s["status"] for s in body["sub_orders"]] == ["refunded", "cancelled"]
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 0)
    assert stock_of(app, shop.tenant.id, shop.product2.stock_level_id) == (5, 0)


def test_refund_requests_are_in_the_order_and_its_tracking_for_whoever_may_see_them(
    app, client, shop
):
    order = place(client, shop, payment=CARD_OK)
    one, two = sub_of(order, shop.seller.id), sub_of(order, shop.seller2.id)
    line = one["lines"][0]
    assert (
        ask(client, shop, order["id"], lines=[{"line_id": line["id"], "quantity": 1}]).status_code
        == 200
    )
    assert ask(client, shop, order["id"], sub_order_id=two["id"], amount="3.00").status_code == 200

    mine = view(client, shop, order["id"])["refund_requests"]
    assert [(r["sub_order_id"], r["status"], r["amount"]) for r in mine] == [
        (one["id"], "requested", mine[0]["amount"]),
        (two["id"], "requested", "3.00"),
    ]
    first = mine[0]
    assert first["lines"] == [
        {"line_id": line["id"], "quantity": 1, "amount": first["amount"], "restocked_quantity": 0}
    ]
    assert first["requested_by_user_id"] == shop.customer.user_id and first["created_at"].endswith(
        "+00:00"
    )
    assert first["decided_at"] is None and first["failure_code"] is None
    tracking = client.get(f"{API}/{order['id']}/tracking/", headers=shop.h).get_json()
    assert tracking["refund_requests"] == mine
    # each seller sees the requests of its own sub-order only, and decides with the id it sees
    [theirs] = view(client, shop, order["id"], h=shop.h_seller2)["refund_requests"]
    assert theirs["id"] == mine[1]["id"]
    [its] = client.get(f"{API}/{order['id']}/tracking/", headers=shop.h_seller).get_json()[
        "refund_requests"
    ]
    assert its["id"] == first["id"]
    response = client.post(
        f"{API}/{order['id']}/refund/",
        headers=shop.h_seller2,
        json={"request_id": theirs["id"], "approve": True},
    )
    assert response.status_code == 200, response.get_json()
    decided = [r for r in response.get_json()["refund_requests"] if r["id"] == theirs["id"]]
    assert decided[0]["status"] == "completed" and decided[0]["decided_at"]
    # the list shows them too (one query for the page, not one per order)
    listed = client.get(f"{API}/", headers=shop.h_admin).get_json()["items"]
    assert [
        r["id"] for r in next(o for o in listed if o["id"] == order["id"])["refund_requests"]
    ] == [first["id"], theirs["id"]]
    # documented
    spec = client.get("/api/schema/").get_json()
    assert "refund_requests" in spec["components"]["schemas"]["Order"]["properties"]
    assert "refund_requests" in spec["components"]["schemas"]["OrderTracking"]["properties"]
    assert "refundable" in spec["components"]["schemas"]["SubOrder"]["properties"]
    assert (
        "request_id"
        in spec["components"]["schemas"]["RefundRequest"]["properties"]["id"]["description"]
    )


def test_a_review_after_a_refund_of_the_whole_payment_is_no_verified_purchase(app, client, shop):
    """Reviews read the order's state ("not wholly refunded"): it now follows an Admin's refund."""
    kept = place(client, shop, h=shop.h, items=[(shop.product.variant_id, 1)], payment=CARD_OK)
    refunded = place(
        client, shop, h=shop.h_other, items=[(shop.product.variant_id, 1)], payment=CARD_OK
    )
    api_refund(client, shop, refunded["payment"]["id"], refunded["total"])
    review = {"product_id": shop.product.id, "rating": 5, "title": "Lovely"}
    mine = client.post("/api/v1/reviews/", headers=shop.h, json=review)
    theirs = client.post("/api/v1/reviews/", headers=shop.h_other, json=review)
    assert mine.status_code == theirs.status_code == 201, (mine.get_json(), theirs.get_json())
    assert (mine.get_json()["verified_purchase"], theirs.get_json()["verified_purchase"]) == (
        True,
        False,
    )
    assert kept["id"] != refunded["id"]
