"""/api/v1/shipping/create-label/ and /tracking/<id>/: labels by the sub-order's seller or an
admin (a real PDF from the manual carrier), the sub-order shipped and its stock sold; tracking
for the customer; roles, ownership and tenancy."""

from __future__ import annotations

import pytest

from app.shipping.carriers import is_valid_tracking_number
from tests.orders.conftest import error, stock_of
from tests.orders.test_orders_api import CARD_OK, patch, place, sub_of

API = "/api/v1/shipping"


def _processing(client, shop) -> dict:
    order = place(client, shop, payment=CARD_OK)
    assert patch(client, shop.h_seller, order["id"], status="processing").status_code == 200
    return order


@pytest.mark.smoke
def test_seller_creates_a_label_and_the_sub_order_ships(app, client, shop):
    order = _processing(client, shop)
    sub = sub_of(order, shop.seller.id)
    response = client.post(
        f"{API}/create-label/", headers=shop.h_seller, json={"sub_order_id": sub["id"]}
    )
    assert response.status_code == 201, response.get_json()
    shipment = response.get_json()
    assert shipment["carrier"] == "manual" and is_valid_tracking_number(shipment["tracking_number"])
    assert [e["status"] for e in shipment["events"]] == ["label_created"]
    body = client.get(f"/api/v1/orders/{order['id']}/", headers=shop.h).get_json()
    assert sub_of(body, shop.seller.id)["status"] == "shipped"
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (8, 0)  # sold
    pdf = client.get(f"{API}/labels/{shipment['id']}/", headers=shop.h_seller)
    assert (
        pdf.status_code == 200
        and pdf.mimetype == "application/pdf"
        and pdf.data.startswith(b"%PDF-")
    )
    # the customer tracks it, on the order and on its own
    tracked = client.get(f"{API}/tracking/{shipment['id']}/", headers=shop.h).get_json()
    assert tracked["tracking_number"] == shipment["tracking_number"]
    on_order = client.get(f"/api/v1/orders/{order['id']}/tracking/", headers=shop.h).get_json()
    assert [s["id"] for s in on_order["shipments"]] == [shipment["id"]]
    # delivered: the shipment's timeline says so
    assert patch(client, shop.h_seller, order["id"], status="delivered").status_code == 200
    tracked = client.get(f"{API}/tracking/{shipment['id']}/", headers=shop.h).get_json()
    assert tracked["status"] == "delivered" and [e["status"] for e in tracked["events"]] == [
        "label_created",
        "delivered",
    ]
    # twice: refused
    err = error(
        client.post(
            f"{API}/create-label/", headers=shop.h_seller, json={"sub_order_id": sub["id"]}
        ),
        409,
        "illegal_transition",
    )
    assert err["details"]["allowed"] == ["completed", "refund_requested", "refunded"]


def test_admin_creates_labels_and_the_machine_is_followed(client, shop):
    order = place(client, shop, payment=CARD_OK)
    sub2 = sub_of(order, shop.seller2.id)["id"]
    err = error(
        client.post(f"{API}/create-label/", headers=shop.h_admin, json={"sub_order_id": sub2}),
        409,
        "illegal_transition",
    )
    assert err["details"]["status"] == "paid"
    patch(client, shop.h_admin, order["id"], status="processing", sub_order_id=sub2)
    response = client.post(
        f"{API}/create-label/",
        headers=shop.h_admin,
        json={"sub_order_id": sub2, "weight_kg": "1.250"},
    )
    assert response.status_code == 201, response.get_json()


def test_validation_roles_ownership_and_tenancy(app, client, shop):
    order = _processing(client, shop)
    sub = sub_of(order, shop.seller.id)["id"]
    err = error(
        client.post(
            f"{API}/create-label/",
            headers=shop.h_seller,
            json={"sub_order_id": "x", "weight_kg": -1, "z": 1},
        ),
        422,
    )
    assert {"sub_order_id", "weight_kg", "z"} <= set(err["details"])
    error(client.post(f"{API}/create-label/", json={"sub_order_id": sub}), 401)
    error(
        client.post(f"{API}/create-label/", headers=shop.h, json={"sub_order_id": sub}),
        403,
        "forbidden",
    )
    error(
        client.post(f"{API}/create-label/", headers=shop.h_seller2, json={"sub_order_id": sub}), 404
    )
    error(
        client.post(f"{API}/create-label/", headers=shop.h_foreign, json={"sub_order_id": sub}), 403
    )
    shipment = client.post(
        f"{API}/create-label/", headers=shop.h_seller, json={"sub_order_id": sub}
    ).get_json()
    for h in (shop.h_other, shop.h_seller2, shop.h_foreign):
        error(client.get(f"{API}/tracking/{shipment['id']}/", headers=h), 404)
        error(
            client.get(f"{API}/labels/{shipment['id']}/", headers=h),
            403 if h is not shop.h_seller2 else 404,
        )
    error(client.get(f"{API}/tracking/{shipment['id']}/"), 401)
    error(client.get(f"{API}/labels/{shipment['id']}/", headers=shop.h), 403)
    assert client.get(f"{API}/tracking/{shipment['id']}/", headers=shop.h_admin).status_code == 200
