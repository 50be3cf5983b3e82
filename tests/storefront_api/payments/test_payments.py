"""/api/v1/payments over HTTP: process (customers, guests; test cards; Idempotency-Key), methods,
refund (Admins), transactions; validation (422), auth (401), role (403), ownership and tenancy (404)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.payments.gateways import METHODS
from app.payments.models import PaymentMethodSetting, PaymentTransaction, Refund
from tests.builders.api import error
from tests.builders.payments import API, CARD_OK, card


def _count(app, tenant_id, model, *where):
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def pending(payments, shop):
    """A test-card payment of the customer's order, not paid yet (checkout made it without details)."""
    return payments.start(shop.tenant.id, amount="25.50", user_id=shop.customer.user_id)


# --- process ------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_process_pays_with_the_success_card(app, client, shop, pending):
    response = client.post(
        f"{API}/process/",
        headers=shop.h,
        json={"payment_id": pending.id, "payment_details": CARD_OK},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["amount"], body["amount_captured"], body["refundable"]) == (
        "captured",
        "25.50",
        "25.50",
        "25.50",
    )
    assert (body["card_brand"], body["card_last4"], body["next_action"]) == ("visa", "4242", None)
    assert "4242424242424242" not in response.get_data(as_text=True)
    assert body["created_at"].endswith("+00:00")


@pytest.mark.parametrize(
    "number, status, code",
    [
        ("4242424242424242", "captured", None),
        ("4000000000000002", "failed", "card_declined"),
        ("4000000000009995", "failed", "insufficient_funds"),
        ("4000000000003220", "requires_action", None),
    ],
)
def test_each_test_card_gives_its_documented_outcome(client, shop, pending, number, status, code):
    body = client.post(
        f"{API}/process/",
        headers=shop.h,
        json={"payment_id": pending.id, "payment_details": card(number)},
    ).get_json()
    assert (body["status"], body["failure_code"]) == (status, code)
    if status == "requires_action":
        assert body["next_action"] == {
            "type": "confirm",
            "hint": f'POST /api/v1/payments/process/ with {{"payment_id": {pending.id}, "confirm": true}}',
        }
        confirmed = client.post(
            f"{API}/process/", headers=shop.h, json={"payment_id": pending.id, "confirm": True}
        )
        assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "captured"


def test_a_failed_payment_can_be_retried_with_another_card(client, shop, pending):
    first = client.post(
        f"{API}/process/",
        headers=shop.h,
        json={"payment_id": pending.id, "payment_details": card("4000000000009995")},
    )
    assert first.get_json()["status"] == "failed"
    retry = client.post(
        f"{API}/process/",
        headers=shop.h,
        json={"payment_id": pending.id, "payment_details": CARD_OK},
    )
    assert retry.get_json()["status"] == "captured" and retry.get_json()["failure_code"] is None
    again = client.post(
        f"{API}/process/",
        headers=shop.h,
        json={"payment_id": pending.id, "payment_details": CARD_OK},
    )
    error(again, 409, "invalid_payment_status")


def test_process_validation_422_changes_nothing(app, client, shop, pending):
    cases = [
        ({}, "payment_id"),
        ({"payment_id": "abc"}, "payment_id"),
        ({"payment_id": pending.id, "bogus": 1}, "bogus"),
        ({"payment_id": pending.id, "payment_details": {"card_number": "4242"}}, "payment_details"),
        (
            {"payment_id": pending.id, "payment_details": dict(CARD_OK, exp_year=2001)},
            "payment_details",
        ),
        (
            {"payment_id": pending.id, "payment_details": card("4242424242424241")},
            "payment_details",
        ),  # Luhn
        ({"payment_id": pending.id}, "payment_details"),  # a card payment needs a card
    ]
    for body, field in cases:
        refusal = error(client.post(f"{API}/process/", headers=shop.h, json=body), 422)
        assert field in refusal["details"] or field in str(refusal["details"]), (body, refusal)
    error(
        client.post(
            f"{API}/process/", headers=shop.h, data="not json", content_type="application/json"
        ),
        400,
    )
    assert (
        _count(app, shop.tenant.id, PaymentTransaction, PaymentTransaction.payment_id == pending.id)
        == 0
    )


def test_process_auth_role_ownership_and_tenancy(app, client, payments, shop, pending):
    body = {"payment_id": pending.id, "payment_details": CARD_OK}
    error(client.post(f"{API}/process/", headers=shop.anon, json=body), 401, "unauthorized")
    error(client.post(f"{API}/process/", headers=shop.h_seller, json=body), 403, "forbidden")
    error(client.post(f"{API}/process/", headers=shop.h_admin, json=body), 403, "forbidden")
    error(client.post(f"{API}/process/", headers=shop.h_other, json=body), 404, "not_found")
    # another tenant's customer, at its own storefront, asking for our payment id
    error(client.post(f"{API}/process/", headers=shop.h_foreign, json=body), 404, "not_found")
    # our customer's token at the other storefront
    error(
        client.post(
            f"{API}/process/", headers=dict(shop.h, **{"X-Tenant": shop.foreign.slug}), json=body
        ),
        401,
    )
    assert payments.get(shop.tenant.id, pending.id).status == "pending"


def test_guest_pays_with_its_cart_token(client, payments, shop):
    token = "cart-token-" + "x" * 32  # checkout keys a guest's payment to its cart token
    p = payments.start(shop.tenant.id, guest_token=token)
    body = {"payment_id": p.id, "payment_details": CARD_OK}
    error(
        client.post(
            f"{API}/process/",
            headers=dict(shop.anon, **{"X-Guest-Token": "wrong-token-" + "y" * 20}),
            json=body,
        ),
        404,
    )
    response = client.post(
        f"{API}/process/", headers=dict(shop.anon, **{"X-Guest-Token": token}), json=body
    )
    assert response.status_code == 200 and response.get_json()["status"] == "captured"
    # a customer cannot pay a guest's payment
    error(client.post(f"{API}/process/", headers=shop.h, json=body), 404)


def test_bank_transfer_process_shows_the_instructions(client, payments, shop):
    p = payments.start(shop.tenant.id, method="bank_transfer", user_id=shop.customer.user_id)
    body = client.post(f"{API}/process/", headers=shop.h, json={"payment_id": p.id}).get_json()
    assert body["status"] == "pending" and body["next_action"] == {
        "type": "offline_payment",
        "reference": f"MAN-{p.id}",
        "instructions": "Transfer the amount to the shop's bank account with the reference shown; "
        "the order is paid when the shop marks the transfer received.",
    }


def test_process_idempotency_key(app, client, shop, pending):
    h = dict(shop.h, **{"Idempotency-Key": "pay-once"})
    body = {"payment_id": pending.id, "payment_details": CARD_OK}
    first = client.post(f"{API}/process/", headers=h, json=body)
    second = client.post(f"{API}/process/", headers=h, json=body)
    assert first.status_code == second.status_code == 200
    assert (
        first.get_json()["id"] == second.get_json()["id"]
        and second.get_json()["status"] == "captured"
    )
    assert (
        _count(
            app,
            shop.tenant.id,
            PaymentTransaction,
            PaymentTransaction.payment_id == pending.id,
            PaymentTransaction.kind == "authorize",
        )
        == 1
    )
    other = client.post(
        f"{API}/process/",
        headers=h,
        json={"payment_id": pending.id, "payment_details": card("4000000000000002")},
    )
    error(other, 409, "idempotency_key_reused")


def test_writes_are_rate_limited(app, client, shop, pending):
    saved = app.config["API_WRITE_RATE_LIMIT"]
    app.config["API_WRITE_RATE_LIMIT"] = "3 per hour"
    try:
        statuses = [
            client.post(f"{API}/process/", headers=shop.h, json={}).status_code for _ in range(5)
        ]
    finally:
        app.config["API_WRITE_RATE_LIMIT"] = saved
    assert statuses[:3] == [422, 422, 422] and 429 in statuses[3:]


# --- methods ------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_methods_lists_the_shops_methods_with_the_test_cards(app, client, shop):
    response = client.get(f"{API}/methods/", headers=shop.anon)
    assert response.status_code == 200
    methods = {m["code"]: m for m in response.get_json()}
    assert {"bank_transfer", "cash_on_delivery", "test_card"} <= set(methods)
    assert "stripe_card" not in methods  # no Stripe key configured
    for number in ("4242424242424242", "4000000000000002", "4000000000009995", "4000000000003220"):
        assert number in methods["test_card"]["description"]
    error(client.get(f"{API}/methods/?bogus=1", headers=shop.anon), 422)


def test_methods_follow_the_tenants_settings(app, client, shop):
    with app.app_context(), tenant_scope(shop.tenant.id):
        db.session.add_all(
            [
                PaymentMethodSetting(
                    method="bank_transfer", display_name="Wire", instructions="IBAN X"
                ),
                PaymentMethodSetting(method="test_card", enabled=False),
            ]
        )
        db.session.commit()
    methods = client.get(f"{API}/methods/", headers=shop.anon).get_json()
    assert methods == [
        {
            "code": "bank_transfer",
            "gateway": "manual",
            "name": "Wire",
            "description": METHODS["bank_transfer"]["description"],
            "instructions": "IBAN X",
        }
    ]
    foreign = client.get(f"{API}/methods/", headers={"X-Tenant": shop.foreign.slug}).get_json()
    assert "test_card" in {m["code"] for m in foreign}


def test_openapi_documents_the_test_cards(client):
    spec = client.get("/api/schema/").get_json()
    text = str(spec["paths"][f"{API}/methods/"]) + str(spec["components"]["schemas"])
    for number in ("4242424242424242", "4000000000000002", "4000000000009995", "4000000000003220"):
        assert number in text
    assert "bearerAuth" not in str(spec["paths"][f"{API}/webhooks/{{gateway}}/"])


# --- refund -------------------------------------------------------------------------------------


@pytest.fixture
def captured(payments, shop):
    return payments.start(
        shop.tenant.id, amount="60.00", details=CARD_OK, user_id=shop.customer.user_id
    )


@pytest.mark.smoke
def test_admin_refunds_part_then_409_beyond_what_remains(client, payments, shop, captured):
    response = client.post(
        f"{API}/refund/",
        headers=shop.h_admin,
        json={"payment_id": captured.id, "amount": "20.00", "reason": "scratched"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["amount"], body["status"], body["reason"], body["currency"]) == (
        "20.00",
        "completed",
        "scratched",
        "USD",
    )
    refusal = error(
        client.post(
            f"{API}/refund/",
            headers=shop.h_admin,
            json={"payment_id": captured.id, "amount": "40.01"},
        ),
        409,
        "refund_exceeds_captured",
    )
    assert refusal["details"]["refundable"] == "40.00"
    assert payments.get(shop.tenant.id, captured.id).amount_refunded == Decimal("20.00")


def test_refund_validation_auth_role_and_tenancy(app, client, payments, shop, captured):
    for body, field in [
        ({"amount": "1.00"}, "payment_id"),
        ({"payment_id": captured.id, "amount": "-1"}, "amount"),
        ({"payment_id": captured.id, "amount": "abc"}, "amount"),
        ({"payment_id": captured.id, "amount": "1.001"}, "amount"),
        ({"payment_id": captured.id, "amount": "1", "bogus": True}, "bogus"),
    ]:
        refusal = error(client.post(f"{API}/refund/", headers=shop.h_admin, json=body), 422)
        assert field in refusal["details"], (body, refusal)
    body = {"payment_id": captured.id, "amount": "1.00"}
    error(client.post(f"{API}/refund/", headers=shop.anon, json=body), 401)
    error(client.post(f"{API}/refund/", headers=shop.h, json=body), 403)
    error(client.post(f"{API}/refund/", headers=shop.h_seller, json=body), 403)
    # the other tenant's admin cannot reach our payment
    error(client.post(f"{API}/refund/", headers=shop.h_foreign_admin, json=body), 404)
    error(
        client.post(
            f"{API}/refund/", headers=shop.h_admin, json={"payment_id": 2**31 - 1, "amount": "1"}
        ),
        404,
    )
    assert _count(app, shop.tenant.id, Refund, Refund.payment_id == captured.id) == 0
    assert payments.get(shop.tenant.id, captured.id).amount_refunded == 0


def test_refund_idempotency_key(app, client, shop, captured):
    h = dict(shop.h_admin, **{"Idempotency-Key": "refund-1"})
    first = client.post(
        f"{API}/refund/", headers=h, json={"payment_id": captured.id, "amount": "10.00"}
    )
    second = client.post(
        f"{API}/refund/", headers=h, json={"payment_id": captured.id, "amount": "10.00"}
    )
    assert (
        first.status_code == second.status_code == 201
        and first.get_json()["id"] == second.get_json()["id"]
    )
    assert _count(app, shop.tenant.id, Refund, Refund.payment_id == captured.id) == 1
    error(
        client.post(
            f"{API}/refund/", headers=h, json={"payment_id": captured.id, "amount": "11.00"}
        ),
        409,
        "idempotency_key_reused",
    )


# --- transactions -------------------------------------------------------------------------------


def test_transactions_customer_sees_own_admin_sees_the_shop(app, client, payments, shop, captured):
    theirs = payments.start(shop.tenant.id, details=CARD_OK, user_id=shop.other.user_id)
    foreign = payments.start(
        shop.foreign.id, details=CARD_OK, user_id=shop.foreign_customer.user_id
    )
    mine = client.get(f"{API}/transactions/", headers=shop.h).get_json()
    assert mine["total"] == 2 and {t["payment_id"] for t in mine["items"]} == {captured.id}
    assert [t["kind"] for t in mine["items"]] == ["capture", "authorize"]  # newest first
    everyone = client.get(f"{API}/transactions/?page_size=100", headers=shop.h_admin).get_json()
    assert {t["payment_id"] for t in everyone["items"]} == {captured.id, theirs.id}
    filtered = client.get(
        f"{API}/transactions/?payment_id={theirs.id}", headers=shop.h_admin
    ).get_json()
    assert filtered["total"] == 2
    error(client.get(f"{API}/transactions/?payment_id={theirs.id}", headers=shop.h), 404)
    error(client.get(f"{API}/transactions/?payment_id={foreign.id}", headers=shop.h_admin), 404)
    error(client.get(f"{API}/transactions/?page_size=1000", headers=shop.h), 422)
    error(client.get(f"{API}/transactions/?bogus=1", headers=shop.h), 422)
    error(client.get(f"{API}/transactions/", headers=shop.anon), 401)
    error(client.get(f"{API}/transactions/", headers=shop.h_seller), 403)


def test_process_by_order_id(client, payments, shop):
    p = payments.start(shop.tenant.id, amount="9.00", user_id=shop.customer.user_id)
    body = {"order_id": p.order_id, "payment_details": CARD_OK}
    error(client.post(f"{API}/process/", headers=shop.h_other, json=body), 404)
    response = client.post(f"{API}/process/", headers=shop.h, json=body)
    assert response.status_code == 200 and response.get_json()["id"] == p.id
    assert response.get_json()["status"] == "captured"
    refusal = error(
        client.post(f"{API}/process/", headers=shop.h, json=dict(body, payment_id=p.id)), 422
    )
    assert "payment_id" in refusal["details"]


def test_concurrent_process_calls_charge_once(app, shop, pending):
    """10 threads pay the same payment at once (no Idempotency-Key): one is charged (200), the others
    get 409 (payment_in_progress while the gateway answers, invalid_payment_status after)."""
    import threading

    barrier = threading.Barrier(10)
    results: list = []

    def worker():
        client = app.test_client()
        barrier.wait()
        response = client.post(
            f"{API}/process/",
            headers=shop.h,
            json={"payment_id": pending.id, "payment_details": CARD_OK},
        )
        results.append((response.status_code, (response.get_json().get("error") or {}).get("code")))

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r for r in results if r[0] == 200] == [(200, None)], results
    assert {r[1] for r in results if r[0] != 200} <= {
        "payment_in_progress",
        "invalid_payment_status",
    }
    assert (
        _count(
            app,
            shop.tenant.id,
            PaymentTransaction,
            PaymentTransaction.payment_id == pending.id,
            PaymentTransaction.kind == "authorize",
        )
        == 1
    )
