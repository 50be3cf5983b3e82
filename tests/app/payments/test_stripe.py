"""The Stripe adapter. Its remote calls go through the real `stripe` package to a local fake of
Stripe's HTTP API (conftest.FakeStripe): the ONLY thing faked, since api.stripe.com cannot be
reached here. Webhook signatures are verified for real: the test computes a Stripe-Signature
header with HMAC-SHA256 and the app checks it with stripe.Webhook.construct_event."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from app.core.errors import ValidationError
from app.core.tenancy import tenant_scope
from app.events.models import OutboxEvent
from app.extensions import db
from app.payments import refunds as payment_refunds
from app.payments.models import PaymentMethodSetting, PaymentTransaction, ProcessedWebhook
from tests.builders.api import error
from tests.builders.auth import api_headers
from tests.builders.payments import API, PM, event, signed


def _counts(app, tenant_id, payment_id):
    with app.app_context(), tenant_scope(tenant_id):
        tx = db.session.scalar(
            select(func.count())
            .select_from(PaymentTransaction)
            .where(PaymentTransaction.payment_id == payment_id)
        )
        ev = db.session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(
                OutboxEvent.aggregate_id == str(payment_id),
                OutboxEvent.aggregate == "payment",
                OutboxEvent.tenant_id == tenant_id,
            )
        )
        return tx, ev


def test_stripe_card_is_offered_only_when_configured(client, shop, fake_stripe):
    methods = {m["code"] for m in client.get(f"{API}/methods/", headers=shop.anon).get_json()}
    assert "stripe_card" in methods


def test_stripe_authorize_and_capture_through_the_http_api(app, payments, shop, fake_stripe):
    p = payments.start(
        shop.tenant.id,
        amount="19.99",
        method="stripe_card",
        details=PM,
        user_id=shop.customer.user_id,
    )
    assert (
        p.status == "captured" and p.gateway == "stripe" and p.gateway_reference.startswith("pi_")
    )
    (m1, path1, form1, h1), (m2, path2, form2, h2) = fake_stripe.requests
    assert (m1, path1) == ("POST", "/v1/payment_intents")
    assert (
        form1["amount"],
        form1["currency"],
        form1["capture_method"],
        form1["payment_method"],
    ) == ("1999", "usd", "manual", "pm_card_visa")
    assert h1["Idempotency-Key"] == f"payment-{p.id}-authorize"
    assert (m2, path2, form2["amount_to_capture"]) == (
        "POST",
        f"/v1/payment_intents/{p.gateway_reference}/capture",
        "1999",
    )
    with app.app_context(), tenant_scope(shop.tenant.id):
        raw = db.session.scalars(
            select(PaymentTransaction.raw_response).where(PaymentTransaction.payment_id == p.id)
        ).all()
    assert "pi_secret_should_be_masked" not in str(raw) and "***" in str(raw)
    refund = payments.run(shop.tenant.id, payment_refunds.refund, p.id, Decimal("5.00"), "partial")
    assert refund.status == "completed" and refund.gateway_reference.startswith("re_")
    assert fake_stripe.requests[-1][2]["amount"] == "500"


def test_stripe_decline_fails_the_payment(payments, shop, fake_stripe):
    fake_stripe.decline = "insufficient_funds"
    p = payments.start(shop.tenant.id, method="stripe_card", details=PM)
    assert p.status == "failed" and p.failure_code == "insufficient_funds"


def test_stripe_needs_a_payment_method_id(payments, shop, fake_stripe):
    with pytest.raises(ValidationError) as exc:
        payments.start(
            shop.tenant.id, method="stripe_card", details={"card_number": "4242424242424242"}
        )
    assert "payment_details" in exc.value.details


# --- webhooks -----------------------------------------------------------------------------------


@pytest.fixture
def authorized(payments, shop, fake_stripe):
    """A Stripe payment authorized but not captured: its capture is announced by webhook."""
    return payments.start(
        shop.tenant.id, amount="19.99", method="stripe_card", details=PM, capture=False
    )


@pytest.mark.smoke
def test_signed_webhook_is_applied_once_and_a_replay_is_a_no_op(
    app, client, payments, shop, authorized
):
    url = f"{API}/webhooks/stripe/"
    body = event("payment_intent.succeeded", authorized.gateway_reference)
    response = client.post(url, data=body, headers=dict(signed(body), **shop.anon))
    assert response.status_code == 200 and response.get_json()["status"] == "processed"
    p = payments.get(shop.tenant.id, authorized.id)
    assert p.status == "captured" and p.amount_captured == Decimal("19.99")
    before = _counts(app, shop.tenant.id, authorized.id)
    replay = client.post(url, data=body, headers=dict(signed(body), **shop.anon))
    assert replay.status_code == 200 and replay.get_json() == {
        "status": "duplicate",
        "event_id": f"evt_{p.gateway_reference}_payment_intent.succeeded",
    }
    assert _counts(app, shop.tenant.id, authorized.id) == before
    with app.app_context(), tenant_scope(shop.tenant.id):
        assert db.session.scalar(select(func.count()).select_from(ProcessedWebhook)) == 1


def test_bad_signatures_are_400_and_change_nothing(app, client, payments, shop, authorized):
    url = f"{API}/webhooks/stripe/"
    body = event("payment_intent.succeeded", authorized.gateway_reference)
    tampered = body.replace(b"1999", b"9999")
    cases = [
        (tampered, signed(body)),  # body changed after signing
        (body, signed(body, timestamp=int(time.time()) - 3600)),  # stale timestamp (> 300 s)
        (body, signed(body, secret="whsec_someone_else")),  # wrong secret
        (body, {"Content-Type": "application/json"}),  # no signature
        (b"not json", signed(b"not json")),  # signed garbage
    ]
    for payload, h in cases:
        error(
            client.post(url, data=payload, headers=dict(h, **shop.anon)), 400, "invalid_signature"
        )
    assert payments.get(shop.tenant.id, authorized.id).status == "authorized"
    assert _counts(app, shop.tenant.id, authorized.id) == (
        1,
        1,
    )  # the authorize call and its event only


def test_webhook_for_another_tenants_payment_changes_nothing(
    app, client, payments, shop, authorized
):
    body = event(
        "payment_intent.succeeded", authorized.gateway_reference, event_id="evt_cross_tenant"
    )
    response = client.post(
        f"{API}/webhooks/stripe/",
        data=body,
        headers=dict(signed(body), **{"X-Tenant": shop.foreign.slug}),
    )
    assert response.status_code == 200 and response.get_json()["status"] == "ignored"
    assert payments.get(shop.tenant.id, authorized.id).status == "authorized"


def test_webhook_failed_and_canceled_events(app, client, payments, shop, fake_stripe):
    url = f"{API}/webhooks/stripe/"
    fake_stripe.decline = None
    p = payments.start(shop.tenant.id, method="stripe_card", details=PM, capture=False)
    body = event("payment_intent.canceled", p.gateway_reference)
    assert (
        client.post(url, data=body, headers=dict(signed(body), **shop.anon)).get_json()["status"]
        == "processed"
    )
    assert payments.get(shop.tenant.id, p.id).status == "voided"
    # an event of a kind we only record
    body = event("charge.dispute.created", p.gateway_reference)
    assert (
        client.post(url, data=body, headers=dict(signed(body), **shop.anon)).get_json()["status"]
        == "ignored"
    )


def test_unknown_gateway_or_one_without_webhooks_is_404(client, shop, fake_stripe):
    body = b"{}"
    error(client.post(f"{API}/webhooks/paypal/", data=body, headers=shop.anon), 404)
    error(client.post(f"{API}/webhooks/manual/", data=body, headers=shop.anon), 404)
    error(client.post(f"{API}/webhooks/test/", data=body, headers=shop.anon), 404)


def test_tenant_stripe_credentials_are_encrypted_at_rest(app, client, shop, fake_stripe):
    with app.app_context(), tenant_scope(shop.tenant.id):
        setting = PaymentMethodSetting(
            method="stripe_card",
            stripe_secret_key="sk_test_fake",
            stripe_webhook_secret="whsec_tenant_own",
        )
        db.session.add(setting)
        db.session.commit()
        raw = db.session.execute(
            text(
                "SELECT stripe_secret_key, stripe_webhook_secret FROM payment_method_settings "
                "WHERE id = :id"
            ),
            {"id": setting.id},
        ).one()
        assert "sk_test_fake" not in raw[0] and "whsec_tenant_own" not in raw[1]
    methods = client.get(f"{API}/methods/", headers=shop.anon).get_json()
    assert [m["code"] for m in methods] == ["stripe_card"]
    # the tenant's own webhook secret is the one checked
    body = event("payment_intent.succeeded", "pi_unknown", event_id="evt_tenant_secret")
    error(
        client.post(f"{API}/webhooks/stripe/", data=body, headers=dict(signed(body), **shop.anon)),
        400,
    )
    ok = client.post(
        f"{API}/webhooks/stripe/",
        data=body,
        headers=dict(signed(body, secret="whsec_tenant_own"), **shop.anon),
    )
    assert ok.status_code == 200 and ok.get_json()["status"] == "ignored"


def test_concurrent_replays_of_one_webhook_apply_it_once(app, client, payments, shop, authorized):
    import threading

    body = event(
        "payment_intent.succeeded", authorized.gateway_reference, event_id="evt_concurrent"
    )
    barrier = threading.Barrier(8)
    statuses: list = []

    def worker():
        c = app.test_client()
        barrier.wait()
        statuses.append(
            c.post(
                f"{API}/webhooks/stripe/", data=body, headers=dict(signed(body), **shop.anon)
            ).get_json()["status"]
        )

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == ["duplicate"] * 7 + ["processed"], statuses
    assert payments.get(shop.tenant.id, authorized.id).status == "captured"
    assert _counts(app, shop.tenant.id, authorized.id) == (
        2,
        2,
    )  # authorize + webhook; authorized + captured


def test_the_gateway_is_called_outside_any_row_lock(app, payments, shop, fake_stripe):
    """While Stripe is still answering the authorization, another connection can lock the payment
    row at once (innodb_lock_wait_timeout 1 s): the pending row was committed before the call."""
    import threading

    from app.payments.models import Payment

    fake_stripe.hold = threading.Event()
    result: dict = {}
    order_id = payments.order(shop.tenant.id)

    def pay():
        result["payment"] = payments.start(
            shop.tenant.id, method="stripe_card", details=PM, order_id=order_id
        )

    payer = threading.Thread(target=pay)
    payer.start()
    try:
        assert fake_stripe.holding.wait(10), "the gateway was never called"
        with app.app_context(), tenant_scope(shop.tenant.id):
            if db.engine.dialect.name != "sqlite":
                db.session.execute(text("SET SESSION innodb_lock_wait_timeout = 1"))
            row = db.session.scalar(
                select(Payment).where(Payment.order_id == order_id).with_for_update()
            )
            assert row is not None and row.status == "pending" and row.processing_until is not None
            db.session.rollback()
            db.session.remove()
    finally:
        fake_stripe.hold.set()
        payer.join()
    assert result["payment"].status == "captured"


def test_a_refused_refund_gives_its_amount_back(app, payments, shop, fake_stripe):
    p = payments.start(shop.tenant.id, amount="30.00", method="stripe_card", details=PM)
    fake_stripe.fail_refund = True
    refund = payments.run(
        shop.tenant.id, payment_refunds.refund, p.id, Decimal("10.00"), "disputed"
    )
    assert refund.status == "failed" and refund.failure_code == "charge_disputed"
    after = payments.get(shop.tenant.id, p.id)
    assert (
        after.status == "captured"
        and after.amount_refunded == 0
        and after.refundable == Decimal("30.00")
    )
    fake_stripe.fail_refund = False
    assert (
        payments.run(shop.tenant.id, payment_refunds.refund, p.id, Decimal("30.00"), "ok").status
        == "completed"
    )
    assert payments.get(shop.tenant.id, p.id).status == "refunded"


def test_stripe_requires_action_then_confirm(app, client, payments, shop, fake_stripe):
    p = payments.start(
        shop.tenant.id,
        method="stripe_card",
        user_id=shop.customer.user_id,
        details={"payment_method": "pm_card_threeDSecure2Required"},
    )
    assert p.status == "requires_action"
    # the shopper completes 3-D Secure with Stripe.js: Stripe now holds the authorization
    fake_stripe.intents[p.gateway_reference]["status"] = "requires_capture"
    response = client.post(
        f"{API}/process/",
        headers=api_headers(app, shop.customer.user, shop.tenant.slug),
        json={"payment_id": p.id, "confirm": True},
    )
    assert response.status_code == 200 and response.get_json()["status"] == "captured"
    assert ("GET", f"/v1/payment_intents/{p.gateway_reference}") in [
        (m, path) for m, path, *_ in fake_stripe.requests
    ]


def test_minor_units_round_half_up():
    from app.payments.gateways.stripe import from_minor, to_minor

    assert to_minor(Decimal("19.99"), "USD") == 1999 and to_minor(Decimal("0.01"), "eur") == 1
    assert to_minor(Decimal("100.50"), "JPY") == 101 and to_minor(Decimal("100.49"), "JPY") == 100
    assert from_minor(1999, "usd") == Decimal("19.99") and from_minor(500, "JPY") == Decimal(500)
