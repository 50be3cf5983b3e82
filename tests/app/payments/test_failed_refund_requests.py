"""Refund requests whose Stripe refund fails: refused at once by Stripe (an API error), or left
pending and failed later by the refund.failed webhook. Either way the request ends "failed" with
the failure code, the sub-order goes back to where it was, the order's refunded total is unchanged,
and a second request for the same money is then approved and paid out. Only Stripe's HTTP API is
faked (conftest.FakeStripe); webhook signatures are verified for real."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.orders.models import Order, RefundRequest, SubOrder
from app.payments.models import Refund
from tests.builders.api import error
from tests.builders.payments import PM, post, refund_event

ORDERS = "/api/v1/orders"


@pytest.fixture
def paid(app, payments, shop, fake_stripe):
    """A paid 40.00 order of one seller, captured by Stripe."""
    order_id, payment = payments.paid_order(
        shop.tenant.id,
        total="40.00",
        user_id=shop.customer.user_id,
        seller_ids=(shop.seller.id,),
        method="stripe_card",
        details=PM,
    )
    assert payment.status == "captured"
    return order_id, payment


def _ask(client, shop, order_id):
    response = client.post(
        f"{ORDERS}/{order_id}/refund/", headers=shop.h, json={"reason": "never arrived"}
    )
    assert response.status_code == 200, response.get_json()
    with client.application.app_context(), tenant_scope(shop.tenant.id):
        request_id = db.session.scalar(
            select(RefundRequest.id)
            .where(RefundRequest.order_id == order_id)
            .order_by(RefundRequest.id.desc())
        )
        db.session.remove()
    return request_id


def _approve(client, shop, order_id, request_id):
    return client.post(
        f"{ORDERS}/{order_id}/refund/",
        headers=shop.h_admin,
        json={"request_id": request_id, "approve": True},
    )


def _state(app, shop, order_id, request_id):
    with app.app_context(), tenant_scope(shop.tenant.id):
        request = db.session.get(RefundRequest, request_id)
        order = db.session.get(Order, order_id)
        sub = db.session.get(SubOrder, request.sub_order_id)
        refund = (
            db.session.get(Refund, request.payment_refund_id) if request.payment_refund_id else None
        )
        out = {
            "request": request.status,
            "failure": request.failure_code,
            "sub": sub.status,
            "order": order.status,
            "refunded_total": order.refunded_total,
            "payment_refund": refund and refund.status,
            "refund_amount": refund and refund.amount,
        }
        db.session.remove()
        return out


def _refundable(app, payments, shop, payment_id):
    return payments.get(shop.tenant.id, payment_id).refundable


def test_a_refund_stripe_refuses_at_once_fails_its_request(
    app, client, payments, shop, fake_stripe, paid
):
    order_id, payment = paid
    request_id = _ask(client, shop, order_id)
    fake_stripe.fail_refund = True
    error(_approve(client, shop, order_id, request_id), 409, "refund_failed")
    assert _state(app, shop, order_id, request_id) == {
        "request": "failed",
        "failure": "charge_disputed",
        "sub": "paid",
        "order": "paid",
        "refunded_total": Decimal("0.00"),
        "payment_refund": "failed",
        "refund_amount": Decimal("40.00"),
    }
    assert _refundable(app, payments, shop, payment.id) == Decimal("40.00")
    # decided already: the same request is not approved twice
    error(_approve(client, shop, order_id, request_id), 409, "refund_decided")

    # the same money can be asked for again, and this time Stripe pays it out
    fake_stripe.fail_refund = False
    second = _ask(client, shop, order_id)
    assert second != request_id
    response = _approve(client, shop, order_id, second)
    assert response.status_code == 200, response.get_json()
    assert _state(app, shop, order_id, second) == {
        "request": "completed",
        "failure": None,
        "sub": "refunded",
        "order": "refunded",
        "refunded_total": Decimal("40.00"),
        "payment_refund": "completed",
        "refund_amount": Decimal("40.00"),
    }
    assert (
        _state(app, shop, order_id, request_id)["request"] == "failed"
    )  # the first one stays as it was
    assert _refundable(app, payments, shop, payment.id) == Decimal("0.00")


def _requests(app, shop, order_id):
    with app.app_context(), tenant_scope(shop.tenant.id):
        rows = db.session.execute(
            select(
                RefundRequest.id,
                RefundRequest.sub_order_id,
                RefundRequest.status,
                RefundRequest.payment_refund_id,
            )
            .where(RefundRequest.order_id == order_id)
            .order_by(RefundRequest.id)
        ).all()
        db.session.remove()
        return rows


def test_a_pending_refund_failed_by_webhook_fails_exactly_its_request(
    app, client, factory, payments, shop, fake_stripe
):
    """Two sub-orders of 20.00 each, both refunds left pending by Stripe: the webhook failing the
    second refund fails the second request (found by its refund, not by its amount)."""
    s2 = factory.seller(shop.tenant)
    order_id, payment = payments.paid_order(
        shop.tenant.id,
        total="40.00",
        user_id=shop.customer.user_id,
        seller_ids=(shop.seller.id, s2.id),
        method="stripe_card",
        details=PM,
    )
    _ask(client, shop, order_id)  # every paid sub-order: one request each
    first, second = _requests(app, shop, order_id)
    fake_stripe.refund_status = "pending"
    for request_id in (first.id, second.id):
        response = _approve(client, shop, order_id, request_id)
        assert response.status_code == 200, response.get_json()
    first, second = _requests(app, shop, order_id)
    assert (first.status, second.status) == ("approved", "approved")
    assert first.payment_refund_id and second.payment_refund_id  # linked to their refunds at once
    with app.app_context(), tenant_scope(shop.tenant.id):
        refund = db.session.get(Refund, second.payment_refund_id)
        stripe_refund = {
            "id": refund.gateway_reference,
            "object": "refund",
            "amount": 2000,
            "currency": "usd",
            "payment_intent": payment.gateway_reference,
            "status": "pending",
            "metadata": {"refund_id": str(refund.id), "payment_id": str(payment.id)},
        }
        db.session.remove()
    body = refund_event(
        "refund.failed", stripe_refund, event_id=f"evt_rf_{second.id}", status="failed"
    )
    body = body.replace(b'"metadata"', b'"failure_reason": "expired_or_canceled_card", "metadata"')
    assert post(client, shop, body) == "processed"
    assert _state(app, shop, order_id, second.id) == {
        "request": "failed",
        "failure": "expired_or_canceled_card",
        "sub": "paid",
        "order": "paid",
        "refunded_total": Decimal("0.00"),
        "payment_refund": "failed",
        "refund_amount": Decimal("20.00"),
    }
    assert (
        _requests(app, shop, order_id)[0].status == "approved"
    )  # the other one still waits for Stripe
    assert _refundable(app, payments, shop, payment.id) == Decimal(
        "20.00"
    )  # 20.00 still reserved by it
    assert post(client, shop, body) == "duplicate"  # the replay changes nothing

    # the other refund completes; the failed sub-order's money is asked for again and paid out
    with app.app_context(), tenant_scope(shop.tenant.id):
        other = db.session.get(Refund, first.payment_refund_id)
        ok = dict(
            stripe_refund,
            id=other.gateway_reference,
            metadata={"refund_id": str(other.id), "payment_id": str(payment.id)},
        )
        db.session.remove()
    assert (
        post(
            client,
            shop,
            refund_event("refund.updated", ok, event_id=f"evt_ok_{first.id}", status="succeeded"),
        )
        == "processed"
    )
    fake_stripe.refund_status = "succeeded"
    response = client.post(
        f"{ORDERS}/{order_id}/refund/",
        headers=shop.h,
        json={"reason": "never arrived", "sub_order_id": second.sub_order_id},
    )
    assert response.status_code == 200, response.get_json()
    third = _requests(app, shop, order_id)[2]
    response = _approve(client, shop, order_id, third.id)
    assert response.status_code == 200, response.get_json()
    assert [r.status for r in _requests(app, shop, order_id)] == [
        "completed",
        "failed",
        "completed",
    ]
    with app.app_context(), tenant_scope(shop.tenant.id):
        order = db.session.get(Order, order_id)
        assert (order.status, order.refunded_total) == ("refunded", Decimal("40.00"))
        db.session.remove()
    assert _refundable(app, payments, shop, payment.id) == Decimal("0.00")


def test_a_refund_outcome_meets_only_the_request_it_pays_out(
    app, client, factory, payments, shop, fake_stripe
):
    """The request is linked to its refund in the commit that writes the refund row, before Stripe
    is called; so while that call is still on its way, a refund that answers no request (here an
    admin's API refund of the same 20.00, refused by Stripe) does not fail the request, which then
    completes with its own refund. (When the link came after the call, the refused refund was
    taken for the request's: the request ended failed although its money was paid out, and the
    customer could have asked for it again.)"""
    import threading

    from app.payments import refunds as payment_refunds

    s2 = factory.seller(shop.tenant)
    order_id, payment = payments.paid_order(
        shop.tenant.id,
        total="40.00",
        user_id=shop.customer.user_id,
        seller_ids=(shop.seller.id, s2.id),
        method="stripe_card",
        details=PM,
    )
    with app.app_context(), tenant_scope(shop.tenant.id):
        first_sub = db.session.scalar(
            select(SubOrder.id).where(SubOrder.order_id == order_id).order_by(SubOrder.id)
        )
        db.session.remove()
    response = client.post(
        f"{ORDERS}/{order_id}/refund/",
        headers=shop.h,
        json={"reason": "never arrived", "sub_order_id": first_sub},
    )
    assert response.status_code == 200, response.get_json()
    (request,) = _requests(app, shop, order_id)

    fake_stripe.refund_hold = threading.Event()
    approval: dict = {}
    approver = threading.Thread(
        target=lambda: approval.update(
            response=_approve(app.test_client(), shop, order_id, request.id)
        )
    )
    approver.start()
    try:
        assert fake_stripe.holding.wait(10), "the request's refund never reached Stripe"
        with app.app_context(), tenant_scope(shop.tenant.id):
            in_flight = db.session.scalar(select(Refund.id).where(Refund.payment_id == payment.id))
            db.session.remove()
        assert (
            _requests(app, shop, order_id)[0].payment_refund_id == in_flight
        )  # linked before the call

        fake_stripe.fail_refund = True  # the admin's refund of the other 20.00 is refused at once
        made = payments.run(
            shop.tenant.id, payment_refunds.refund, payment.id, Decimal("20.00"), "goodwill"
        )
        assert made.status == "failed" and made.id != in_flight
        assert (
            _requests(app, shop, order_id)[0].status == "approved"
        )  # not taken for the request's refund
    finally:
        fake_stripe.fail_refund = False
        fake_stripe.refund_hold.set()
        approver.join(30)
    assert approval["response"].status_code == 200, approval["response"].get_json()
    assert _state(app, shop, order_id, request.id) == {
        "request": "completed",
        "failure": None,
        "sub": "refunded",
        "order": "paid",  # the other sub-order's
        "refunded_total": Decimal("20.00"),
        "payment_refund": "completed",
        "refund_amount": Decimal("20.00"),
    }
    assert _refundable(app, payments, shop, payment.id) == Decimal("20.00")
