"""An Admin's refund of a whole Stripe payment that Stripe leaves pending already counts: while it is
on its way no refund request can ask for that money and the seller can neither process nor ship the
order (409 order_refunded); its webhook then completes it (the order and its sub-orders are
refunded) or fails it (the money counts again, fulfilment goes on). Only Stripe's HTTP API is faked
(conftest.FakeStripe); webhook signatures are verified for real."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.payments.models import Refund
from tests.builders.api import error
from tests.builders.payments import API, PM, post, refund_event

ORDERS = "/api/v1/orders"


@pytest.fixture
def refunding(app, client, payments, shop, fake_stripe):
    """A paid 40.00 order of one seller (Stripe), and an Admin's API refund of all of it that Stripe
    leaves pending. Returns (order id, the refund as the API answered, Stripe's refund object)."""
    order_id, payment = payments.paid_order(
        shop.tenant.id,
        total="40.00",
        user_id=shop.customer.user_id,
        seller_ids=(shop.seller.id,),
        method="stripe_card",
        details=PM,
    )
    fake_stripe.refund_status = "pending"
    response = client.post(
        f"{API}/refund/",
        headers=shop.h_admin,
        json={"payment_id": payment.id, "amount": "40.00", "reason": "fraud suspected"},
    )
    assert response.status_code == 201 and response.get_json()["status"] == "pending", (
        response.get_json()
    )
    refund = response.get_json()
    with app.app_context(), tenant_scope(shop.tenant.id):
        reference = db.session.get(Refund, refund["id"]).gateway_reference
        db.session.remove()
    stripe_refund = {
        "id": reference,
        "object": "refund",
        "amount": 4000,
        "currency": "usd",
        "payment_intent": payment.gateway_reference,
        "status": "pending",
        "metadata": {"refund_id": str(refund["id"]), "payment_id": str(payment.id)},
    }
    return order_id, refund, stripe_refund


def _order(client, shop, order_id) -> dict:
    response = client.get(f"{ORDERS}/{order_id}/", headers=shop.h)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_money_on_its_way_back_cannot_be_asked_for_nor_its_order_shipped(client, shop, refunding):
    order_id, _, stripe_refund = refunding
    body = _order(client, shop, order_id)
    assert body["status"] == "paid" and body["sub_orders"][0]["refundable"] == "0.00"
    err = error(
        client.patch(f"{ORDERS}/{order_id}/", headers=shop.h_seller, json={"status": "processing"}),
        409,
        "order_refunded",
    )
    assert err["details"]["sub_order_id"] == body["sub_orders"][0]["id"]
    error(
        client.post(
            f"{ORDERS}/{order_id}/refund/", headers=shop.h, json={"reason": "never arrived"}
        ),
        409,
        "nothing_to_refund",
    )
    error(
        client.post(
            "/api/v1/shipping/create-label/",
            headers=shop.h_seller,
            json={"sub_order_id": body["sub_orders"][0]["id"]},
        ),
        409,
        "illegal_transition",
    )

    # Stripe pays it out: the order and its sub-order are refunded
    assert (
        post(
            client,
            shop,
            refund_event(
                "refund.updated", stripe_refund, event_id="evt_whole_ok", status="succeeded"
            ),
        )
        == "processed"
    )
    body = _order(client, shop, order_id)
    assert (body["status"], body["payment_status"], body["refunded_total"]) == (
        "refunded",
        "refunded",
        "40.00",
    )
    assert body["sub_orders"][0]["status"] == "refunded"
    error(
        client.patch(f"{ORDERS}/{order_id}/", headers=shop.h_seller, json={"status": "processing"}),
        409,
        "illegal_transition",
    )


def test_when_stripe_fails_that_refund_the_money_counts_again(client, shop, refunding):
    order_id, _, stripe_refund = refunding
    body = refund_event(
        "refund.failed", stripe_refund, event_id="evt_whole_failed", status="failed"
    )
    assert post(client, shop, body) == "processed"
    order = _order(client, shop, order_id)
    assert (order["status"], order["refunded_total"]) == ("paid", "0.00")
    assert Decimal(order["sub_orders"][0]["refundable"]) == Decimal("40.00")
    response = client.patch(
        f"{ORDERS}/{order_id}/", headers=shop.h_seller, json={"status": "processing"}
    )
    assert response.status_code == 200, response.get_json()
