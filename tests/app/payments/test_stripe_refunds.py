"""Stripe refunds that Stripe leaves pending are settled by its webhooks (refund.updated,
refund.failed, charge.refunded): completed (the order's refunded total follows) or failed (the
amount can be refunded again), once. Signatures are verified for real (stripe.Webhook), as in
test_stripe.py; only Stripe's HTTP API is faked (conftest.FakeStripe)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.events.models import OutboxEvent
from app.extensions import db
from app.orders.models import Order
from app.payments import refunds as payment_refunds
from app.payments.models import PaymentTransaction, Refund
from tests.builders.payments import PM, URL, post, refund_event, signed


def charge_refunded(intent_id: str, refunds: list[dict], *, event_id: str) -> bytes:
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": intent_id,
        "currency": "usd",
        "amount_refunded": sum(r["amount"] for r in refunds),
        "refunds": {"object": "list", "data": refunds},
    }
    return json.dumps(
        {"id": event_id, "object": "event", "type": "charge.refunded", "data": {"object": charge}}
    ).encode()


def state(app, tenant_id, refund_id):
    with app.app_context(), tenant_scope(tenant_id):
        row = db.session.get(Refund, refund_id)
        payment = row.payment
        order = db.session.get(Order, payment.order_id)
        names = list(
            db.session.scalars(
                select(OutboxEvent.name).where(
                    OutboxEvent.tenant_id == tenant_id,
                    OutboxEvent.aggregate == "payment",
                    OutboxEvent.aggregate_id == str(payment.id),
                    OutboxEvent.name.like("refund.%"),
                )
            )
        )
        out = {
            "refund": row.status,
            "failure": row.failure_code,
            "payment": payment.status,
            "refunded": payment.amount_refunded,
            "refundable": payment.refundable,
            "order_refunded": order.refunded_total,
            "events": names,
        }
        db.session.remove()
        return out


@pytest.fixture
def pending_refund(app, payments, shop, fake_stripe):
    """A captured 19.99 Stripe payment with a 5.00 refund Stripe left pending."""
    p = payments.start(
        shop.tenant.id,
        amount="19.99",
        method="stripe_card",
        details=PM,
        user_id=shop.customer.user_id,
    )
    fake_stripe.refund_status = "pending"
    r = payments.run(shop.tenant.id, payment_refunds.refund, p.id, Decimal("5.00"), "damaged")
    assert r.status == "pending" and r.gateway_reference.startswith("re_")
    stripe_refund = {
        "id": r.gateway_reference,
        "object": "refund",
        "amount": 500,
        "currency": "usd",
        "payment_intent": p.gateway_reference,
        "status": "pending",
        "metadata": {"refund_id": str(r.id), "payment_id": str(p.id)},
    }
    return p, r, stripe_refund


def test_a_pending_refund_is_completed_by_refund_updated_once(app, client, shop, pending_refund):
    p, r, stripe_refund = pending_refund
    before = state(app, shop.tenant.id, r.id)
    assert (
        before["refund"],
        before["payment"],
        before["refunded"],
        before["order_refunded"],
        before["events"],
    ) == ("pending", "captured", Decimal("5.00"), Decimal("0.00"), [])
    body = refund_event("refund.updated", stripe_refund, event_id="evt_re_ok", status="succeeded")
    assert post(client, shop, body) == "processed"
    after = state(app, shop.tenant.id, r.id)
    assert (
        after["refund"],
        after["payment"],
        after["refunded"],
        after["refundable"],
        after["order_refunded"],
    ) == ("completed", "partially_refunded", Decimal("5.00"), Decimal("14.99"), Decimal("5.00"))
    assert after["events"] == ["refund.completed"]
    # the replay, and another event about the same refund (charge.refunded), change nothing
    assert post(client, shop, body) == "duplicate"
    again = charge_refunded(
        p.gateway_reference, [dict(stripe_refund, status="succeeded")], event_id="evt_ch_ref"
    )
    assert post(client, shop, again) == "recorded"
    assert state(app, shop.tenant.id, r.id) == after


def test_a_pending_refund_that_fails_gives_the_amount_back(
    app, client, payments, shop, fake_stripe, pending_refund
):
    p, r, stripe_refund = pending_refund
    body = refund_event("refund.failed", stripe_refund, event_id="evt_re_failed", status="failed")
    body = body.replace(b'"metadata"', b'"failure_reason": "expired_or_canceled_card", "metadata"')
    assert post(client, shop, body) == "processed"
    after = state(app, shop.tenant.id, r.id)
    assert (
        after["refund"],
        after["failure"],
        after["payment"],
        after["refunded"],
        after["refundable"],
    ) == ("failed", "expired_or_canceled_card", "captured", Decimal("0.00"), Decimal("19.99"))
    assert after["events"] == ["refund.failed"] and after["order_refunded"] == Decimal("0.00")
    # a later "succeeded" about that refund does not resurrect it
    late = refund_event("refund.updated", stripe_refund, event_id="evt_re_late", status="succeeded")
    assert post(client, shop, late) == "recorded"
    assert state(app, shop.tenant.id, r.id)["refund"] == "failed"
    # the whole amount can be refunded again
    fake_stripe.refund_status = "succeeded"
    full = payments.run(shop.tenant.id, payment_refunds.refund, p.id, Decimal("19.99"), "again")
    assert full.status == "completed" and payments.get(shop.tenant.id, p.id).status == "refunded"


def test_charge_refunded_settles_the_refunds_it_lists(app, client, shop, pending_refund):
    p, r, stripe_refund = pending_refund
    body = charge_refunded(
        p.gateway_reference, [dict(stripe_refund, status="succeeded")], event_id="evt_charge"
    )
    assert post(client, shop, body) == "processed"
    assert state(app, shop.tenant.id, r.id)["refund"] == "completed"


def test_refund_calls_and_webhooks_are_recorded_per_refund_and_linked_to_it(
    app, client, shop, pending_refund
):
    """The refund call's transaction, and one webhook transaction per refund the event names, name
    our refund (a seller sees them as it sees the refund: app.orders.shares); a refund made outside
    the platform (Stripe's dashboard) is recorded unlinked."""
    p, r, stripe_refund = pending_refund
    outside = {
        "id": "re_dashboard",
        "object": "refund",
        "amount": 250,
        "currency": "usd",
        "payment_intent": p.gateway_reference,
        "status": "succeeded",
        "metadata": {},
    }
    body = charge_refunded(
        p.gateway_reference,
        [dict(stripe_refund, status="succeeded"), outside],
        event_id="evt_two_refunds",
    )
    assert post(client, shop, body) == "processed"
    with app.app_context(), tenant_scope(shop.tenant.id):
        rows = db.session.execute(
            select(
                PaymentTransaction.kind,
                PaymentTransaction.refund_id,
                PaymentTransaction.amount,
                PaymentTransaction.status,
            )
            .where(
                PaymentTransaction.payment_id == p.id,
                PaymentTransaction.kind.in_(("refund", "webhook")),
            )
            .order_by(PaymentTransaction.id)
        ).all()
        db.session.remove()
    assert [tuple(row) for row in rows] == [
        ("refund", r.id, Decimal("5.00"), "pending"),
        ("webhook", r.id, Decimal("5.00"), "succeeded"),
        ("webhook", None, Decimal("2.50"), "succeeded"),
    ]
    assert state(app, shop.tenant.id, r.id)["refund"] == "completed"


def test_a_webhook_that_names_only_our_refund_id_settles_it(app, client, shop, pending_refund):
    """The webhook can overtake the refund call's answer: then only the metadata names the refund."""
    p, r, stripe_refund = pending_refund
    body = refund_event(
        "refund.updated",
        dict(stripe_refund, id="re_not_seen_yet"),
        event_id="evt_meta",
        status="succeeded",
    )
    assert post(client, shop, body) == "processed"
    assert state(app, shop.tenant.id, r.id)["refund"] == "completed"


def test_refund_webhooks_need_a_valid_signature_and_stay_in_their_tenant(
    app, client, shop, pending_refund
):
    p, r, stripe_refund = pending_refund
    body = refund_event("refund.updated", stripe_refund, event_id="evt_forged", status="succeeded")
    bad = client.post(
        URL, data=body, headers=dict(signed(body, secret="whsec_someone_else"), **shop.anon)
    )
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_signature"
    foreign = client.post(
        URL, data=body, headers=dict(signed(body), **{"X-Tenant": shop.foreign.slug})
    )
    assert foreign.status_code == 200 and foreign.get_json()["status"] == "ignored"
    assert state(app, shop.tenant.id, r.id)["refund"] == "pending"


def test_a_webhook_that_overtakes_the_refund_call_is_not_undone_by_its_answer(
    app, client, payments, shop, fake_stripe
):
    """Stripe's refund.updated (succeeded) arrives while our refund call still waits for its
    "pending" answer: the refund stays completed, its event is published once."""
    import threading

    p = payments.start(shop.tenant.id, amount="19.99", method="stripe_card", details=PM)
    fake_stripe.refund_status, fake_stripe.refund_hold = "pending", threading.Event()
    result: dict = {}
    caller = threading.Thread(
        target=lambda: result.update(
            refund=payments.run(
                shop.tenant.id, payment_refunds.refund, p.id, Decimal("5.00"), "early webhook"
            )
        )
    )
    caller.start()
    try:
        assert fake_stripe.holding.wait(10), "the refund was never sent to Stripe"
        with app.app_context(), tenant_scope(shop.tenant.id):
            refund_id = db.session.scalar(select(Refund.id).where(Refund.payment_id == p.id))
            db.session.remove()
        body = refund_event(
            "refund.updated",
            {
                "id": "re_early",
                "object": "refund",
                "amount": 500,
                "currency": "usd",
                "payment_intent": p.gateway_reference,
                "metadata": {"refund_id": str(refund_id)},
                "status": "succeeded",
            },
            event_id="evt_early",
        )
        assert post(client, shop, body) == "processed"
    finally:
        fake_stripe.refund_hold.set()
        caller.join()
    after = state(app, shop.tenant.id, refund_id)
    assert (after["refund"], after["payment"], after["refunded"], after["events"]) == (
        "completed",
        "partially_refunded",
        Decimal("5.00"),
        ["refund.completed"],
    )
    assert (
        result["refund"].status == "completed" and result["refund"].gateway_reference == "re_early"
    )
