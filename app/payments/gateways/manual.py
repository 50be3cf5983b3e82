"""Manual gateway: bank transfer and cash on delivery.

Authorizing only records the promise: the payment stays `pending` until an admin marks the money
received (`mark_received`), which captures it. Voiding cancels a pending payment; a refund is
paid back outside the platform and recorded here as done.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.core.errors import NotFound
from app.payments.gateways.base import (
    PENDING,
    SUCCEEDED,
    GatewayResult,
    PaymentRequest,
    WebhookEvent,
)

INSTRUCTIONS = {
    "bank_transfer": "Transfer the amount to the shop's bank account with the reference shown; the order "
    "is paid when the shop marks the transfer received.",
    "cash_on_delivery": "Pay the courier in cash on delivery; the order is paid when the shop marks the "
    "cash received.",
}


class ManualGateway:
    code = "manual"
    supports_webhooks = False
    synchronous = True  # answers in-process (its authorization is pending: never captured at once)

    def authorize(self, request: PaymentRequest, details: dict[str, Any]) -> GatewayResult:
        reference = f"MAN-{request.payment_id}"
        return GatewayResult(
            PENDING,
            reference=reference,
            next_action={
                "type": "offline_payment",
                "reference": reference,
                "instructions": INSTRUCTIONS.get(request.method, ""),
            },
            raw={"reference": reference, "method": request.method},
        )

    def confirm(self, request: PaymentRequest, details: dict[str, Any]) -> GatewayResult:
        return self.authorize(request, details)

    def capture(self, request: PaymentRequest, amount: Decimal) -> GatewayResult:
        """The money arrived (an admin says so)."""
        return GatewayResult(SUCCEEDED, reference=request.reference, raw={"received": str(amount)})

    def void(self, request: PaymentRequest) -> GatewayResult:
        return GatewayResult(SUCCEEDED, reference=request.reference, raw={"voided": True})

    def refund(self, request: PaymentRequest, amount: Decimal, *, refund_id: int) -> GatewayResult:
        return GatewayResult(
            SUCCEEDED,
            reference=f"MAN-R{refund_id}",
            raw={"refunded": str(amount), "note": "paid back outside the platform"},
        )

    def verify_webhook(self, payload: bytes, headers: dict[str, str]) -> dict[str, Any]:
        raise NotFound("the manual gateway has no webhooks", details={"gateway": self.code})

    def parse_webhook(self, payload: bytes, headers: dict[str, str]) -> WebhookEvent:
        return self.verify_webhook(payload, headers)  # type: ignore[return-value]
