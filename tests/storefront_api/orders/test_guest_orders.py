"""Guest checkout: the order access token (X-Order-Token). Checkout answers a guest with it once
per order (the same token again when the checkout is replayed); it opens that order's detail,
tracking, cancel and refund request and nothing else; a wrong token is a 404; requests that carry
one are rate limited; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from app import create_app
from app.core.crypto import hash_token
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.orders.models import Order
from tests.builders.api import error
from tests.builders.orders import ADDRESS, CARD_OK, guest_order, place, stock_of, sub_of

API = "/api/v1/orders"


def test_a_guest_reads_and_tracks_its_order_with_the_token(app, client, shop):
    order, cart_h, h = guest_order(client, shop, payment=CARD_OK)
    token = order["access_token"]
    body = client.get(f"{API}/{order['id']}/", headers=h)
    assert body.status_code == 200, body.get_json()
    body = body.get_json()
    assert body["id"] == order["id"] and body["is_guest"] and body["status"] == "paid"
    assert body.get("access_token") is None  # shown at checkout only
    assert len(body["sub_orders"]) == 2
    tracking = client.get(f"{API}/{order['id']}/tracking/", headers=h)
    assert tracking.status_code == 200
    assert [
        t["to_status"] for t in tracking.get_json()["timeline"] if t["sub_order_id"] is None
    ] == ["pending", "paid"]
    # stored hashed, never in clear
    with app.app_context(), tenant_scope(shop.tenant.id):
        stored = db.session.scalar(select(Order.access_token_hash).where(Order.id == order["id"]))
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    # a replay of the checkout (same key, body and cart token) hands out the same token
    replay = client.post(
        f"{API}/",
        headers=cart_h,
        json={"shipping_address": ADDRESS, "email": "guest@example.com", "payment": CARD_OK},
    )
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json()["id"] == order["id"] and replay.get_json()["access_token"] == token
    # customers get none
    customer_order = place(client, shop)
    assert customer_order["access_token"] is None


def test_a_wrong_or_foreign_token_is_a_404_and_no_credential_a_401(app, client, shop):
    order, _, h = guest_order(client, shop)
    other, _, h_other = guest_order(client, shop, items=[(shop.product.variant_id, 1)])
    wrong = dict(shop.h_guest, **{"X-Order-Token": "x" * 43})
    empty = dict(shop.h_guest, **{"X-Order-Token": ""})
    for headers in (wrong, empty, h_other):  # h_other: a real token, of another order
        error(client.get(f"{API}/{order['id']}/", headers=headers), 404)
        error(client.get(f"{API}/{order['id']}/tracking/", headers=headers), 404)
        error(client.post(f"{API}/{order['id']}/cancel/", headers=headers), 404)
        error(
            client.post(f"{API}/{order['id']}/refund/", headers=headers, json={"reason": "x"}), 404
        )
    error(client.get(f"{API}/{order['id']}/", headers=shop.h_guest), 401)
    # the token opens nothing else: no list, no edits, not another storefront, not a customer's order
    error(client.get(f"{API}/", headers=h), 401)
    error(client.patch(f"{API}/{order['id']}/", headers=h, json={"notes": "x"}), 401)
    foreign = dict(h, **{"X-Tenant": shop.foreign_tenant.slug})
    error(client.get(f"{API}/{order['id']}/", headers=foreign), 404)
    customer_order = place(client, shop)
    error(client.get(f"{API}/{customer_order['id']}/", headers=h), 404)
    # a bearer token wins over the header: a customer does not see the guest's order with its token
    error(
        client.get(
            f"{API}/{order['id']}/",
            headers=dict(shop.h, **{"X-Order-Token": order["access_token"]}),
        ),
        404,
    )
    # decisions stay with sellers and admins
    error(
        client.post(
            f"{API}/{order['id']}/refund/", headers=h, json={"request_id": 1, "approve": True}
        ),
        403,
    )
    assert client.get(f"{API}/{other['id']}/", headers=h_other).status_code == 200


def test_a_guest_cancels_its_pending_order_and_the_stock_is_released(app, client, shop):
    order, _, h = guest_order(client, shop)
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 2)
    response = client.post(
        f"{API}/{order['id']}/cancel/", headers=h, json={"reason": "changed my mind"}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "cancelled"
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 0)
    err = error(client.post(f"{API}/{order['id']}/cancel/", headers=h), 409, "illegal_transition")
    assert err["details"]["allowed"] == []


def test_a_guest_asks_for_a_refund_of_a_delivered_order(app, client, shop):
    order, _, h = guest_order(client, shop, payment=CARD_OK, items=[(shop.product.variant_id, 3)])
    for target in ("processing", "shipped", "delivered"):
        assert (
            client.patch(
                f"{API}/{order['id']}/", headers=shop.h_seller, json={"status": target}
            ).status_code
            == 200
        )
    error(client.post(f"{API}/{order['id']}/cancel/", headers=h), 409, "illegal_transition")
    sub = sub_of(order, shop.seller.id)
    line = sub["lines"][0]
    response = client.post(
        f"{API}/{order['id']}/refund/",
        headers=h,
        json={"reason": "one was broken", "lines": [{"line_id": line["id"], "quantity": 1}]},
    )
    assert response.status_code == 200, response.get_json()
    assert sub_of(response.get_json(), shop.seller.id)["status"] == "refund_requested"


def test_requests_with_an_order_token_are_rate_limited(app, client, shop):
    order, _, h = guest_order(client, shop)
    limited = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        API_GUEST_ORDER_RATE_LIMIT="3 per minute",
    )
    c = limited.test_client()
    codes = [c.get(f"{API}/{order['id']}/", headers=h).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    error(
        c.get(f"{API}/{order['id']}/tracking/", headers=dict(h, **{"X-Order-Token": "guess"})), 429
    )
    # callers with a bearer token and no order token are not counted
    mine = place(client, shop)
    assert [c.get(f"{API}/{mine['id']}/", headers=shop.h).status_code for _ in range(5)] == [
        200
    ] * 5


def test_openapi_documents_the_order_token(client):
    spec = client.get("/api/schema/").get_json()
    for path, method in (
        ("/api/v1/orders/{order_id}/", "get"),
        ("/api/v1/orders/{order_id}/tracking/", "get"),
        ("/api/v1/orders/{order_id}/cancel/", "post"),
        ("/api/v1/orders/{order_id}/refund/", "post"),
    ):
        operation = spec["paths"][path][method]
        assert any(
            p["in"] == "header" and p["name"] == "X-Order-Token" for p in operation["parameters"]
        ), path
        assert {"bearerAuth": []} in operation["security"] and {} in operation["security"]
        assert "404" in operation["responses"] and "429" in operation["responses"]
    assert "access_token" in spec["components"]["schemas"]["Order"]["properties"]
    refund = spec["components"]["schemas"]["OrderRefund"]["properties"]
    assert {"lines", "include_shipping", "restock"} <= set(refund)


def test_the_token_is_stored_with_the_order_and_older_orders_keep_theirs(app, client, shop):
    """Since 2026-11-26 checkout stores the token's hash with the order's INSERT (derived over the
    order number); an order placed before holds a hash derived over its id, or none when its grant
    after the commit never happened. A replay of such a checkout still hands out a token that
    opens it."""
    from app.orders import access

    order, cart_h, _ = guest_order(client, shop, items=[(shop.product.variant_id, 1)])
    cart_token = cart_h["X-Cart-Token"]
    assert order["access_token"] == access.token_for(cart_token, order["number"])
    replay_body = {"shipping_address": ADDRESS, "email": "guest@example.com"}

    def stored(value=...):
        with app.app_context(), tenant_scope(shop.tenant.id):
            row = db.session.get(Order, order["id"])
            if value is not ...:
                row.access_token_hash = value
                db.session.commit()
            return row.access_token_hash

    legacy = access.token_for(cart_token, order["id"])
    stored(hash_token(legacy))  # as the grant over the id left it
    replay = client.post(f"{API}/", headers=cart_h, json=replay_body)
    assert replay.status_code == 201 and replay.get_json()["access_token"] == legacy
    opened = client.get(
        f"{API}/{order['id']}/", headers=dict(shop.h_guest, **{"X-Order-Token": legacy})
    )
    assert opened.status_code == 200, opened.get_json()

    stored(None)  # placed before, and its grant never happened: granted now, over the number
    replay = client.post(f"{API}/", headers=cart_h, json=replay_body)
    token = replay.get_json()["access_token"]
    assert token == access.token_for(cart_token, order["number"])
    assert stored() == hash_token(token)
    opened = client.get(
        f"{API}/{order['id']}/", headers=dict(shop.h_guest, **{"X-Order-Token": token})
    )
    assert opened.status_code == 200, opened.get_json()


def test_a_guest_pays_later_with_its_cart_token_as_x_guest_token(app, client, shop):
    """X-Guest-Token on /api/v1/payments/process/ is the guest's cart token (the X-Cart-Token its
    checkout used), as the OpenAPI text says; the order's X-Order-Token opens no payment."""
    order, cart_h, order_h = guest_order(client, shop, payment={"method": "test_card"})
    assert order["payment"]["status"] == "pending"
    pay = {
        "order_id": order["id"],
        "payment_details": {
            "card_number": "4242424242424242",
            "exp_month": 12,
            "exp_year": 2040,
            "cvc": "123",
        },
    }
    with_order_token = client.post(
        "/api/v1/payments/process/",
        json=pay,
        headers=dict(shop.h_guest, **{"X-Guest-Token": order["access_token"]}),
    )
    error(with_order_token, 404)
    with_cart_token = client.post(
        "/api/v1/payments/process/",
        json=pay,
        headers=dict(shop.h_guest, **{"X-Guest-Token": cart_h["X-Cart-Token"]}),
    )
    assert with_cart_token.status_code == 200, with_cart_token.get_json()
    assert with_cart_token.get_json()["status"] == "captured"

    spec = app.extensions["api"].spec.to_dict()
    [header] = [
        p
        for p in spec["paths"]["/api/v1/payments/process/"]["post"]["parameters"]
        if p["name"] == "X-Guest-Token"
    ]
    assert "cart token" in header["description"] and "X-Cart-Token" in header["description"]
    assert "access token" not in header["description"]
