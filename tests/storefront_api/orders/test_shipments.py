"""/api/v1/shipping/create-label/ and /tracking/<id>/: labels by the sub-order's seller or an
admin (a real PDF from the manual carrier), the sub-order shipped and its stock sold; tracking
for the customer; roles, ownership and tenancy."""

from __future__ import annotations

import datetime as dt

import pytest
from marshmallow import fields
from sqlalchemy import select

from app.core.tenancy import tenant_scope, unscoped
from app.events import bus
from app.events.models import OutboxEvent
from app.extensions import db
from app.shipments.models import Shipment
from app.shipping.carriers import is_valid_tracking_number
from storefront_api.cart import CartSchema
from storefront_api.orders import OrderSchema, OrderShipmentSchema, OrderTrackingSchema
from tests.builders.api import error
from tests.builders.orders import ADDRESS, CARD_OK, fill, patch, place, stock_of, sub_of

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


def test_a_delivered_sub_order_s_shipment_follows_through_the_outbox_once(app, client, shop):
    """Shipments sits above orders: the delivered transition publishes order.delivered in its
    transaction and shipments' consumer marks the shipment delivered, at the transition's moment;
    a redelivered event changes nothing."""
    order = _processing(client, shop)
    sub = sub_of(order, shop.seller.id)
    label = client.post(
        f"{API}/create-label/", headers=shop.h_seller, json={"sub_order_id": sub["id"]}
    )
    assert label.status_code == 201, label.get_json()
    shipment_id = label.get_json()["id"]
    before = dt.datetime.now(dt.UTC)
    response = patch(client, shop.h_seller, order["id"], status="delivered")
    assert response.status_code == 200
    assert sub_of(response.get_json(), shop.seller.id)["status"] == "delivered"
    with app.app_context(), unscoped():
        event = db.session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.name == "order.delivered", OutboxEvent.tenant_id == shop.tenant.id
            )
        ).one()
        assert event.dispatched_at is not None
        assert {k: event.payload[k] for k in ("order_id", "sub_order_id", "seller_id")} == {
            "order_id": order["id"],
            "sub_order_id": sub["id"],
            "seller_id": shop.seller.id,
        }
        delivered_at = dt.datetime.fromisoformat(event.payload["delivered_at"])
        assert before <= delivered_at <= dt.datetime.now(dt.UTC)
        assert bus.consume(event.id, "shipments.record_delivery") is False  # a redelivery
        db.session.remove()
    with app.app_context(), tenant_scope(shop.tenant.id):
        shipment = db.session.get(Shipment, shipment_id)
        assert shipment.status == "delivered"
        delivered = shipment.events[1:]
        assert [e.status for e in delivered] == ["delivered"]
        # at the transition, not when the consumer ran (DATETIME keeps whole seconds)
        assert abs(delivered[0].occurred_at - delivered_at) < dt.timedelta(seconds=1)
        db.session.remove()
    tracked = client.get(f"/api/v1/orders/{order['id']}/tracking/", headers=shop.h).get_json()
    assert [e["status"] for e in tracked["shipments"][0]["events"]] == [
        "label_created",
        "delivered",
    ]


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


def _documented(body: dict, schema, where: str = "") -> None:
    """The answer holds exactly its schema's fields, nested answers too: nothing more than is
    documented, nothing missing (the services return values that the API's schemas shape)."""
    names = {field.data_key or name for name, field in schema.dump_fields.items()}
    assert set(body) == names, (where, set(body) ^ names)
    for name, field in schema.dump_fields.items():
        value = body[field.data_key or name]
        many = isinstance(field, fields.List)
        inner = field.inner if many else field
        if isinstance(inner, fields.Nested) and value is not None:
            for item in value if many else [value]:
                _documented(item, inner.schema, f"{where}.{name}")


def test_order_cart_and_tracking_answers_hold_their_documented_fields(client, shop):
    placed = place(client, shop, payment=CARD_OK)
    _documented(placed, OrderSchema(), "placed")
    assert placed["payment"]["status"] and placed["access_token"] is None
    line = sub_of(placed, shop.seller2.id)["lines"][0]
    asked = client.post(
        f"/api/v1/orders/{placed['id']}/refund/",
        headers=shop.h,
        json={"reason": "broken", "lines": [{"line_id": line["id"], "quantity": 1}]},
    )
    assert asked.status_code == 200, asked.get_json()
    _documented(asked.get_json(), OrderSchema(), "refund")
    assert asked.get_json()["refund_requests"][0]["lines"][0]["line_id"] == line["id"]
    assert patch(client, shop.h_seller, placed["id"], status="processing").status_code == 200
    sub = sub_of(placed, shop.seller.id)
    shipment = client.post(
        f"{API}/create-label/", headers=shop.h_seller, json={"sub_order_id": sub["id"]}
    ).get_json()
    _documented(shipment, OrderShipmentSchema(), "label")
    for h in (shop.h, shop.h_seller, shop.h_admin):
        body = client.get(f"/api/v1/orders/{placed['id']}/", headers=h).get_json()
        _documented(body, OrderSchema(), "detail")
        assert "payment" in body and body["payment"] is None and body["access_token"] is None
        listed = client.get("/api/v1/orders/", headers=h).get_json()
        assert set(listed) == {"items", "page", "page_size", "total"}
        for item in listed["items"]:
            _documented(item, OrderSchema(), "list")
        tracking = client.get(f"/api/v1/orders/{placed['id']}/tracking/", headers=h).get_json()
        _documented(tracking, OrderTrackingSchema(), "tracking")
        assert tracking["shipments"] and tracking["timeline"]
    tracked = client.get(f"{API}/tracking/{shipment['id']}/", headers=shop.h).get_json()
    _documented(tracked, OrderShipmentSchema(), "tracking")
    h = fill(client, shop.h, (shop.product.variant_id, 1))
    cart = client.get(f"/api/v1/cart/?country={ADDRESS['country']}", headers=h).get_json()
    _documented(cart, CartSchema(), "cart")
    assert cart["items"] and cart["shipping"] and cart["items"][0]["tax"]
