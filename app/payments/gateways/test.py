"""Test gateway: deterministic outcomes chosen by documented test card numbers.

| card number        | outcome                                                           |
|--------------------|-------------------------------------------------------------------|
| 4242424242424242   | success: authorized (and captured when capture is automatic)      |
| 4000000000000002   | declined: failed, failure_code `card_declined`                    |
| 4000000000009995   | insufficient funds: failed, failure_code `insufficient_funds`     |
| 4000000000003220   | requires action: `requires_action`; confirming it then succeeds   |
| 4000000000005126   | success, but every refund of the payment is refused: failed,      |
|                    | failure_code `expired_or_canceled_card` (Stripe's test card too)  |
| any other number   | declined: failed, failure_code `card_declined`                    |

Any expiry in the future and any 3-4 digit CVC are accepted. Only the brand and last 4 digits are
kept; the number and CVC never reach the database, logs or responses.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from app.core.errors import NotFound
from app.payments.gateways.base import (
    FAILED,
    REQUIRES_ACTION,
    SUCCEEDED,
    GatewayResult,
    PaymentRequest,
    WebhookEvent,
    card_brand,
)

CARD_SUCCESS = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_INSUFFICIENT_FUNDS = "4000000000009995"
CARD_REQUIRES_ACTION = "4000000000003220"
CARD_REFUND_FAILS = "4000000000005126"
REFUND_REFUSED = "expired_or_canceled_card"

TEST_CARDS = (
    (CARD_SUCCESS, "success: the payment is authorized (captured at once with automatic capture)"),
    (CARD_DECLINED, "declined: the payment fails with failure_code card_declined"),
    (
        CARD_INSUFFICIENT_FUNDS,
        "insufficient funds: the payment fails with failure_code insufficient_funds",
    ),
    (
        CARD_REQUIRES_ACTION,
        "requires action: status requires_action; POST /process/ again with "
        '{"payment_id": ..., "confirm": true} completes it',
    ),
    (CARD_REFUND_FAILS, f"success, but its refunds are refused (failure_code {REFUND_REFUSED})"),
)
TEST_CARDS_DOC = (
    "Test gateway cards (method test_card): "
    + "; ".join(f"{n} = {t}" for n, t in TEST_CARDS)
    + "; any other number is declined (card_declined). Any future expiry and any CVC work."
)

_DECLINES = {
    CARD_DECLINED: ("card_declined", "Your card was declined."),
    CARD_INSUFFICIENT_FUNDS: ("insufficient_funds", "Your card has insufficient funds."),
}


def _ref() -> str:
    return "test_" + uuid.uuid4().hex[:20]


class TestGateway:
    __test__ = False  # not a pytest class
    code = "test"
    synchronous = True  # answers in-process: authorize and capture are recorded together
    supports_webhooks = False

    def authorize(self, request: PaymentRequest, details: dict[str, Any]) -> GatewayResult:
        number = str(details.get("card_number", ""))
        brand, last4 = card_brand(number), number[-4:]
        raw = {
            "card": {"brand": brand, "last4": last4},
            "amount": str(request.amount),
            "currency": request.currency,
        }
        reference = request.reference or _ref()
        if number in (CARD_SUCCESS, CARD_REFUND_FAILS):
            return GatewayResult(
                SUCCEEDED,
                reference=reference,
                card_brand=brand,
                card_last4=last4,
                raw={**raw, "outcome": "authorized"},
            )
        if number == CARD_REQUIRES_ACTION:
            return GatewayResult(
                REQUIRES_ACTION,
                reference=reference,
                card_brand=brand,
                card_last4=last4,
                next_action={
                    "type": "confirm",
                    "hint": "POST /api/v1/payments/process/ with "
                    '{"payment_id": <id>, "confirm": true}',
                },
                raw={**raw, "outcome": "requires_action"},
            )
        code, message = _DECLINES.get(number, ("card_declined", "Your card was declined."))
        return GatewayResult(
            FAILED,
            reference=reference,
            error_code=code,
            error_message=message,
            card_brand=brand,
            card_last4=last4,
            raw={**raw, "outcome": "failed", "decline_code": code},
        )

    def confirm(self, request: PaymentRequest, details: dict[str, Any]) -> GatewayResult:
        return GatewayResult(
            SUCCEEDED, reference=request.reference, raw={"outcome": "authorized", "confirmed": True}
        )

    def capture(self, request: PaymentRequest, amount: Decimal) -> GatewayResult:
        return GatewayResult(SUCCEEDED, reference=request.reference, raw={"captured": str(amount)})

    def void(self, request: PaymentRequest) -> GatewayResult:
        return GatewayResult(SUCCEEDED, reference=request.reference, raw={"voided": True})

    def refund(self, request: PaymentRequest, amount: Decimal, *, refund_id: int) -> GatewayResult:
        if (
            request.card_last4 == CARD_REFUND_FAILS[-4:]
        ):  # no other card ending so is ever authorized
            return GatewayResult(
                FAILED,
                error_code=REFUND_REFUSED,
                error_message="The card was closed.",
                raw={"refunded": "0", "refund_id": refund_id, "outcome": "failed"},
            )
        return GatewayResult(
            SUCCEEDED, reference="test_re_" + uuid.uuid4().hex[:16], raw={"refunded": str(amount)}
        )

    def verify_webhook(self, payload: bytes, headers: dict[str, str]) -> dict[str, Any]:
        raise NotFound("the test gateway has no webhooks", details={"gateway": self.code})

    def parse_webhook(self, payload: bytes, headers: dict[str, str]) -> WebhookEvent:
        return self.verify_webhook(payload, headers)  # type: ignore[return-value]
