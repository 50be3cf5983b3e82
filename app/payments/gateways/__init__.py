"""Payment gateways by code, and the payment methods (what a shopper picks) each one serves.

| method           | gateway | what happens                                                          |
|------------------|---------|-----------------------------------------------------------------------|
| bank_transfer    | manual  | pending until an admin marks the transfer received (then captured)     |
| cash_on_delivery | manual  | pending until an admin marks the cash received (then captured)         |
| test_card        | test    | outcome chosen by the documented test card numbers (gateways/test.py)  |
| stripe_card      | stripe  | Stripe PaymentIntents with a PaymentMethod id from Stripe.js           |
"""

from __future__ import annotations

from flask import current_app

from app.core.errors import NotFound
from app.payments.gateways.base import Gateway
from app.payments.gateways.manual import ManualGateway
from app.payments.gateways.stripe import StripeGateway
from app.payments.gateways.test import TEST_CARDS_DOC, TestGateway

METHODS: dict[str, dict[str, str]] = {
    "bank_transfer": {
        "gateway": "manual",
        "name": "Bank transfer",
        "description": "Pay by bank transfer; the order is paid once the shop receives it.",
    },
    "cash_on_delivery": {
        "gateway": "manual",
        "name": "Cash on delivery",
        "description": "Pay the courier in cash; the order is paid once the shop receives it.",
    },
    "test_card": {"gateway": "test", "name": "Test card", "description": TEST_CARDS_DOC},
    "stripe_card": {
        "gateway": "stripe",
        "name": "Card (Stripe)",
        "description": "Card payment through Stripe: send payment_details.payment_method, a "
        "PaymentMethod id made by Stripe.js (card numbers never reach this API).",
    },
}
GATEWAY_CODES = ("manual", "test", "stripe")


def get_gateway(
    code: str, *, stripe_secret_key: str | None = None, stripe_webhook_secret: str | None = None
) -> Gateway:
    """The gateway adapter registered under `code` (404 for an unknown code)."""
    if code == "manual":
        return ManualGateway()
    if code == "test":
        return TestGateway()
    if code == "stripe":
        config = current_app.config
        return StripeGateway(
            stripe_secret_key or config.get("STRIPE_SECRET_KEY"),
            stripe_webhook_secret or config.get("STRIPE_WEBHOOK_SECRET"),
            config.get("STRIPE_API_BASE"),
            timeout=float(config.get("STRIPE_TIMEOUT_SECONDS") or 20),
        )
    raise NotFound("no such payment gateway", details={"gateway": code})
