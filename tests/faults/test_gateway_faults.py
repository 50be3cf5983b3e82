"""Case 5: a checkout whose payment gateway answers 500, or does not answer in time.

The gateway is the one thing faked (harness.FakeGateway: Stripe's HTTP API, which cannot be reached
from here, with Stripe's idempotency keys); everything else is the real stack. The stack's Stripe
adapter gives the gateway STRIPE_TIMEOUT_SECONDS=3 to answer; the "timeout" fault makes the
PaymentIntent (the card is authorized) but answers after 8 s.

Promise: the checkout still answers 201 with the order and a failed payment (no 5xx, no web
worker killed by gunicorn's timeout); the order stays unpaid, its stock held; the customer pays
again with POST /api/v1/payments/process/ and the payment is captured ONCE: after the timeout the
retry carries the same idempotency key, so the gateway answers with the intent it made the first
time instead of authorizing the card a second time; a further retry is refused."""

from __future__ import annotations

import time
import uuid

import requests

from tests.faults.harness import ADDRESS, DEMO_PASSWORD, report, wait_for

STRIPE = {"method": "stripe_card", "details": {"payment_method": "pm_card_visa"}}


def _customer(stack) -> requests.Session:
    s = requests.Session()
    login = s.post(
        f"{stack.url}/api/v1/auth/login/",
        json={"login": stack.customers()[1], "password": DEMO_PASSWORD},
    )
    assert login.status_code == 200, login.text
    s.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    return s


def _pay_after(stack, s: requests.Session, fault: str) -> dict:
    variant = stack.variants()[1]
    assert s.post(f"{stack.url}/api/v1/cart/add/", json={"variant_id": variant, "quantity": 1}).ok
    stack.gateway.fault = fault
    started = time.monotonic()
    placed = s.post(
        f"{stack.url}/api/v1/orders/",
        json={"shipping_address": ADDRESS, "payment": STRIPE},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=60,
    )
    took = time.monotonic() - started
    assert placed.status_code == 201, placed.text
    order = placed.json()
    payment = order["payment"]
    after_fault = stack.sql(
        "SELECT o.status, p.status, p.amount_captured FROM orders o "
        "JOIN payments p ON p.order_id = o.id WHERE o.id = %s",
        (order["id"],),
    )
    retry = s.post(
        f"{stack.url}/api/v1/payments/process/",
        json={"payment_id": payment["id"], "payment_details": {"payment_method": "pm_card_visa"}},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=60,
    )
    again = s.post(
        f"{stack.url}/api/v1/payments/process/",
        json={"payment_id": payment["id"], "payment_details": {"payment_method": "pm_card_visa"}},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=60,
    )
    wait_for(
        lambda: (
            stack.sql("SELECT status FROM orders WHERE id = %s", (order["id"],))[0][0] == "paid"
        ),
        90,
        "the order marked paid (orders.mark_paid on the worker)",
    )
    payments = stack.sql(
        "SELECT status, amount, amount_captured FROM payments WHERE order_id = %s",
        (order["id"],),
    )
    intents = stack.gateway.for_order(order["id"])
    return {
        "order": order,
        "checkout took (s)": round(took, 1),
        "checkout's payment": (payment["status"], payment.get("error_code")),
        "after the fault (order, payment, captured)": after_fault,
        "retry": (retry.status_code, retry.json().get("status")),
        "second retry": (again.status_code, (again.json().get("error") or {}).get("code")),
        "payments (status, amount, captured)": payments,
        "intents at the gateway (status)": [i["status"] for i in intents],
    }


def test_gateway_500_and_timeout_then_retry_pays_once(live):
    stack = live
    s = _customer(stack)
    figures = {fault: _pay_after(stack, s, fault) for fault in ("500", "timeout")}
    for fault, f in figures.items():
        report(
            f"payment gateway fault: {fault}",
            **{k: v for k, v in f.items() if k != "order"},
        )
    assert stack.alive("web")
    for fault, f in figures.items():
        order = f["order"]
        assert f["checkout's payment"][0] == "failed", (fault, f)
        ((order_status, payment_status, captured),) = f[
            "after the fault (order, payment, captured)"
        ]
        assert (order_status, payment_status, float(captured)) == ("pending", "failed", 0.0)
        assert f["retry"] == (200, "captured"), (fault, f)
        assert f["second retry"][0] == 409, (fault, f)  # a captured payment is not paid again
        ((status, amount, amount_captured),) = f["payments (status, amount, captured)"]
        assert status == "captured" and amount_captured == amount
        assert str(amount) == str(order["total"]) or float(amount) == float(order["total"])
        # one authorization at the gateway, captured once: never a second charge
        assert f["intents at the gateway (status)"] == ["succeeded"], (fault, f)
    assert figures["timeout"]["checkout took (s)"] < 8  # the adapter's timeout, not the gateway's
