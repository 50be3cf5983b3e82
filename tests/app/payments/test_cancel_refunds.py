"""Cancelled orders and their money: a cancel voids what is only authorized and refunds what was
captured; a capture that lands after the cancel (late capture, Stripe webhook) is refunded at
once, once (a refund transaction, refund.completed, the order's refunded total)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update

from app.core.tenancy import tenant_scope
from app.events.models import OutboxEvent
from app.extensions import db
from app.orders import lifecycle as orders
from app.orders.models import Order
from app.payments import charges
from app.payments import refunds as payment_refunds
from app.payments.models import PaymentTransaction, Refund
from app.security.models import User
from app.sellers.actors import actor_for
from tests.builders.payments import API, CARD_OK, PM, event, signed


def _money_trail(app, tenant_id, payment_id, order_id):
    with app.app_context(), tenant_scope(tenant_id):
        refunds = [
            (r.amount, r.status, r.reason)
            for r in db.session.scalars(
                select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id)
            )
        ]
        kinds = list(
            db.session.scalars(
                select(PaymentTransaction.kind)
                .where(PaymentTransaction.payment_id == payment_id)
                .order_by(PaymentTransaction.id)
            )
        )
        events = list(
            db.session.scalars(
                select(OutboxEvent.name)
                .where(
                    OutboxEvent.tenant_id == tenant_id,
                    OutboxEvent.aggregate == "payment",
                    OutboxEvent.aggregate_id == str(payment_id),
                )
                .order_by(OutboxEvent.id)
            )
        )
        order = db.session.get(Order, order_id)
        result = refunds, kinds, events, (order.status, order.refunded_total, order.payment_status)
        db.session.remove()
        return result


def _cancel_in_db(app, tenant_id, order_id):
    """The order was cancelled while its payment was being captured (the cancel could not void it)."""
    with app.app_context(), tenant_scope(tenant_id):
        db.session.execute(update(Order).where(Order.id == order_id).values(status="cancelled"))
        db.session.commit()
        db.session.remove()


def test_a_late_capture_of_a_cancelled_order_is_refunded_once(app, payments, shop):
    order_id = payments.order(shop.tenant.id, total="30.00")
    p = payments.start(
        shop.tenant.id, amount="30.00", order_id=order_id, details=CARD_OK, capture=False
    )
    assert p.status == "authorized"
    _cancel_in_db(app, shop.tenant.id, order_id)
    payments.run(shop.tenant.id, charges.capture, p.id)
    after = payments.get(shop.tenant.id, p.id)
    assert (after.status, after.amount_captured, after.amount_refunded) == (
        "refunded",
        Decimal("30.00"),
        Decimal("30.00"),
    )
    refunds, kinds, events, order = _money_trail(app, shop.tenant.id, p.id, order_id)
    assert refunds == [(Decimal("30.00"), "completed", "order cancelled")]
    assert kinds == ["authorize", "capture", "refund"]
    assert events == ["payment.authorized", "payment.captured", "refund.completed"]
    assert order == ("cancelled", Decimal("30.00"), "refunded")
    # the cancel path running again (or a redelivered event) refunds nothing more
    payments.run(shop.tenant.id, payment_refunds.void_or_refund_for_cancel, order_id)
    assert _money_trail(app, shop.tenant.id, p.id, order_id)[0] == refunds


def test_a_capture_of_a_live_order_is_not_refunded(app, payments, shop):
    p = payments.start(shop.tenant.id, amount="12.00", details=CARD_OK)
    assert (p.status, p.amount_refunded) == ("captured", Decimal("0.00"))
    assert _money_trail(app, shop.tenant.id, p.id, p.order_id)[0] == []


def test_cancelling_an_unpaid_order_voids_its_authorized_payment(app, payments, shop):
    order_id = payments.order(
        shop.tenant.id, total="25.00", user_id=shop.customer.user_id, seller_ids=(shop.seller.id,)
    )
    p = payments.start(
        shop.tenant.id,
        amount="25.00",
        order_id=order_id,
        user_id=shop.customer.user_id,
        details=CARD_OK,
        capture=False,
    )
    with app.app_context(), tenant_scope(shop.tenant.id):
        view = orders.cancel_order(
            actor_for(db.session.get(User, shop.customer.user_id)), order_id, "changed my mind"
        )
        db.session.remove()
    assert view.status == "cancelled"
    assert payments.get(shop.tenant.id, p.id).status == "voided"
    refunds, kinds, _events, _order = _money_trail(app, shop.tenant.id, p.id, order_id)
    assert refunds == [] and kinds == ["authorize", "void"]


def test_a_stripe_capture_webhook_after_the_cancel_refunds_at_stripe_once(
    app, client, payments, shop, fake_stripe
):
    p = payments.start(
        shop.tenant.id, amount="19.99", method="stripe_card", details=PM, capture=False
    )
    _cancel_in_db(app, shop.tenant.id, p.order_id)
    body = event("payment_intent.succeeded", p.gateway_reference, event_id="evt_late_capture")
    url = f"{API}/webhooks/stripe/"
    response = client.post(url, data=body, headers=dict(signed(body), **shop.anon))
    assert response.status_code == 200 and response.get_json()["status"] == "processed"
    refunds_at_stripe = [r for r in fake_stripe.requests if r[1] == "/v1/refunds"]
    assert len(refunds_at_stripe) == 1
    (_m, _path, form, headers) = refunds_at_stripe[0]
    assert (form["amount"], form["payment_intent"]) == ("1999", p.gateway_reference)
    after = payments.get(shop.tenant.id, p.id)
    assert (after.status, after.amount_refunded) == ("refunded", Decimal("19.99"))
    refunds, kinds, events, order = _money_trail(app, shop.tenant.id, p.id, p.order_id)
    assert refunds == [(Decimal("19.99"), "completed", "order cancelled")]
    assert headers["Idempotency-Key"].startswith("refund-")
    assert kinds == ["authorize", "webhook", "refund"] and events[-1] == "refund.completed"
    assert order[1:] == (Decimal("19.99"), "refunded")
    # the same webhook again: a duplicate, no second refund
    replay = client.post(url, data=body, headers=dict(signed(body), **shop.anon))
    assert replay.get_json()["status"] == "duplicate"
    assert len([r for r in fake_stripe.requests if r[1] == "/v1/refunds"]) == 1
