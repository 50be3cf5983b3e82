"""The gateway interface every payment provider adapter implements, and the values it returns.

A gateway is called OUTSIDE any database transaction or row lock (the services commit the pending
state first, call the gateway, then record the outcome), so a slow provider never holds locks.
Amounts are Decimal in the payment's currency; adapters convert to what their API wants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from app.core.errors import DomainError
from app.payments.errors import PaymentError

# outcomes of one gateway call
SUCCEEDED, PENDING, REQUIRES_ACTION, FAILED = "succeeded", "pending", "requires_action", "failed"


class WebhookSignatureError(DomainError):
    """The webhook's signature is missing, wrong or too old: the body is not trusted."""

    code = PaymentError.INVALID_SIGNATURE
    status = 400


class GatewayUnavailable(DomainError):
    code = PaymentError.GATEWAY_UNAVAILABLE
    status = 503


@dataclass
class GatewayResult:
    status: str  # succeeded | pending | requires_action | failed
    reference: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    # what the storefront needs to show (manual instructions, the requires-action hint)
    next_action: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == SUCCEEDED


@dataclass(frozen=True)
class PaymentRequest:
    """What a gateway is told about the payment it works on (never a live ORM object)."""

    payment_id: int
    order_id: int
    amount: Decimal
    currency: str
    method: str
    reference: str | None = None  # the gateway's id of this payment, once known
    card_last4: str | None = None  # of the card that paid, once known


@dataclass(frozen=True)
class RefundUpdate:
    """What a gateway event says about one of its refunds."""

    reference: str | None  # the gateway's id of the refund
    refund_id: int | None  # our Refund id, when the gateway echoes it back (metadata)
    status: str  # completed | failed | pending
    amount: Decimal | None = None
    failure_code: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    """A verified gateway event, reduced to what the payment services act on."""

    event_id: str
    type: str
    reference: str | None  # the gateway's payment reference it concerns
    # captured | authorized | failed | voided | refunded | None (an event we only record)
    outcome: str | None
    amount: Decimal | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    # refunds the event settles (completed or failed), e.g. Stripe's refund.updated, charge.refunded
    refunds: tuple[RefundUpdate, ...] = ()


class Gateway(Protocol):
    code: str
    supports_webhooks: bool
    # True when the adapter answers in-process (no remote call): the services then capture right
    # after a successful authorization and record both in one transaction
    synchronous: bool

    def authorize(self, request: PaymentRequest, details: dict[str, Any]) -> GatewayResult:
        """Ask for the money (authorize only: the services call capture when they want the money)."""

    def confirm(self, request: PaymentRequest, details: dict[str, Any]) -> GatewayResult:
        """Complete a payment that required an action (3-D Secure and the like)."""

    def capture(self, request: PaymentRequest, amount: Decimal) -> GatewayResult: ...

    def void(self, request: PaymentRequest) -> GatewayResult: ...

    def refund(
        self, request: PaymentRequest, amount: Decimal, *, refund_id: int
    ) -> GatewayResult: ...

    def verify_webhook(self, payload: bytes, headers: dict[str, str]) -> dict[str, Any]:
        """Check the signature; return the decoded event (WebhookSignatureError otherwise)."""

    def parse_webhook(self, payload: bytes, headers: dict[str, str]) -> WebhookEvent:
        """verify_webhook, then reduce the event to a WebhookEvent."""


_PAN = re.compile(r"\b\d{12,19}\b")
_SECRET_KEYS = (
    "number",
    "card_number",
    "cvc",
    "cvv",
    "client_secret",
    "secret",
    "api_key",
    "password",
    "token",
)


def mask_raw(value: Any) -> Any:
    """A gateway response fit for storage: card numbers cut to their last 4, secrets hidden."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if (
                isinstance(key, str)
                and any(
                    word == key.lower() or key.lower().endswith("_" + word) for word in _SECRET_KEYS
                )
                and item not in (None, "")
            ):
                out[key] = "***"
            else:
                out[key] = mask_raw(item)
        return out
    if isinstance(value, list):
        return [mask_raw(item) for item in value]
    if isinstance(value, str):
        return _PAN.sub(lambda m: "•" * 4 + m.group(0)[-4:], value)
    return value


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number.startswith("6011") or number.startswith("65"):
        return "discover"
    return "card"


def luhn_ok(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, digit in enumerate(reversed(number)):
        d = int(digit)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
