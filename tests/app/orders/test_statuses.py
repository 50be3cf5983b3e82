"""Statuses are StrEnum members in the code (app.orders.states.OrderStatus, the order models'
OrderPaymentStatus, ReservationStatus and RefundRequestStatus, app.payments.models' PaymentStatus
and RefundStatus): the database stores, and the API documents and answers, the same strings as
before, and no member leaks into a document as a Python object."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import text

from app.core.tenancy import tenant_scope
from app.extensions import db
from tests.builders.orders import CARD_OK, patch, place, sub_of


@pytest.mark.smoke
def test_no_status_member_reaches_the_yaml_schema(client):
    """A member that reached the OpenAPI document (a validator's choices) would be dumped by
    PyYAML as a python/object tag, which YAML clients do not read. (The document holds one such
    tag already, not a status: a Decimal default of the promotions API.)"""
    document = client.get("/api/schema.yaml").get_data(as_text=True)
    assert "python/object/apply:app." not in document
    start = document.index("\n    OrderUpdate:\n")
    block = document[start : document.index("\n        sub_order_id:", start)]
    assert yaml.safe_load(block)["OrderUpdate"]["properties"]["status"]["enum"] == [
        "completed",
        "delivered",
        "processing",
        "shipped",
    ]


def test_the_rows_hold_the_plain_strings(app, client, shop):
    order = place(client, shop, payment=CARD_OK)
    sub = sub_of(order, shop.seller.id)
    assert patch(client, shop.h_seller, order["id"], status="processing").status_code == 200
    answer = client.post(
        f"/api/v1/orders/{order['id']}/cancel/", headers=shop.h_seller, json={"reason": "gone"}
    )
    assert answer.status_code == 200, answer.get_json()
    with app.app_context(), tenant_scope(shop.tenant.id):

        def rows(sql: str) -> list[tuple]:
            return [tuple(r) for r in db.session.execute(text(sql), {"o": order["id"]})]

        assert rows("SELECT status, payment_status FROM orders WHERE id = :o") == [
            ("paid", "partially_refunded")
        ]
        assert sorted(rows("SELECT id, status FROM sub_orders WHERE order_id = :o")) == sorted(
            [(sub["id"], "cancelled"), (sub_of(order, shop.seller2.id)["id"], "paid")]
        )
        assert rows("SELECT status FROM payments WHERE order_id = :o") == [("partially_refunded",)]
        assert rows("SELECT status FROM refunds WHERE order_id = :o") == [("completed",)]
        assert rows("SELECT status FROM order_refund_requests WHERE order_id = :o") == [
            ("completed",)
        ]
        assert sorted(rows("SELECT status FROM order_stock_reservations WHERE order_id = :o")) == [
            ("held",),
            ("released",),
        ]
        db.session.remove()
