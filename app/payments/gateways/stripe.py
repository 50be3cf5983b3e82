"""Stripe adapter (PaymentIntents), switched on by configuration.

Credentials: the tenant's own (PaymentMethodSetting, encrypted at rest) or STRIPE_SECRET_KEY /
STRIPE_WEBHOOK_SECRET from the environment. The storefront collects the card with Stripe.js and
sends only a PaymentMethod id (`payment_method`: "pm_..."): card numbers never reach us.
Remote calls go through the official `stripe` package; STRIPE_API_BASE can point it elsewhere (the
tests point it at a local fake of Stripe's HTTP API, since api.stripe.com cannot be reached here).
Webhooks are verified with stripe.Webhook.construct_event (HMAC-SHA256 Stripe-Signature, 300 s
tolerance).
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import stripe as stripe_lib

from app.core.errors import ValidationError
from app.core.types import currency_exponent, quantize_money
from app.payments.gateways.base import (
    FAILED,
    PENDING,
    REQUIRES_ACTION,
    SUCCEEDED,
    GatewayResult,
    GatewayUnavailable,
    PaymentRequest,
    RefundUpdate,
    WebhookEvent,
    WebhookSignatureError,
    mask_raw,
)

WEBHOOK_TOLERANCE_SECONDS = 300

_INTENT_OUTCOMES = {
    "payment_intent.succeeded": "captured",
    "payment_intent.amount_capturable_updated": "authorized",
    "payment_intent.payment_failed": "failed",
    "payment_intent.canceled": "voided",
}


# where Stripe's API amounts do not follow ISO 4217: ISK is zero-decimal, but Stripe takes it as a
# two-decimal amount whose decimals are 00 (https://docs.stripe.com/currencies, special cases)
STRIPE_EXPONENT_OVERRIDES = {"ISK": 2}


def stripe_exponent(currency: str) -> int:
    code = currency.upper()
    return STRIPE_EXPONENT_OVERRIDES.get(code, currency_exponent(code))


def to_minor(amount: Decimal, currency: str) -> int:
    """Stripe's integer amount in the currency's minor unit (ISO 4217 exponent from CLDR via babel):
    cents for USD, whole yen for JPY, fils (x1000) for KWD and BHD, rounded half-up. Amounts of a
    3-decimal currency are kept in hundredths, so their last minor digit is 0, as Stripe requires."""
    units = amount.scaleb(stripe_exponent(currency))
    return int(units.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(value: int, currency: str) -> Decimal:
    """Stripe's integer amount back to a Decimal of the currency, rounded to the places kept."""
    return quantize_money(Decimal(value).scaleb(-stripe_exponent(currency)), currency)


class StripeGateway:
    code = "stripe"
    supports_webhooks = True
    synchronous = False  # remote: the authorization is recorded before the capture is asked for

    def __init__(
        self,
        secret_key: str | None,
        webhook_secret: str | None,
        api_base: str | None = None,
        timeout: float = 20,
    ):
        self._secret_key = secret_key
        self._webhook_secret = webhook_secret
        self._api_base = api_base
        self._timeout = timeout

    def _client(self) -> stripe_lib.StripeClient:
        if not self._secret_key:
            raise GatewayUnavailable("Stripe is not configured for this shop")
        # the stripe package waits 80 s for an answer by default: past gunicorn's 30 s timeout,
        # which would kill the worker mid-checkout. A timeout is an APIConnectionError: the payment
        # fails (StripeError below) and its retry sends the same idempotency key, so Stripe answers
        # with the first attempt's PaymentIntent should that one have gone through after all.
        kwargs: dict[str, Any] = {
            "max_network_retries": 0,
            "http_client": stripe_lib.RequestsClient(timeout=self._timeout),
        }
        if self._api_base:
            kwargs["base_addresses"] = {"api": self._api_base}
        return stripe_lib.StripeClient(self._secret_key, **kwargs)

    # --- payments -------------------------------------------------------------------------------
    def _intent_result(self, intent: Any) -> GatewayResult:
        data = intent.to_dict() if hasattr(intent, "to_dict") else dict(intent)
        status = data.get("status")
        card = (
            (data.get("payment_method_details") or {}).get("card")
            or (
                (data.get("latest_charge") or {})
                if isinstance(data.get("latest_charge"), dict)
                else {}
            )
            .get("payment_method_details", {})
            .get("card")
            or {}
        )
        common = {
            "reference": data.get("id"),
            "card_brand": card.get("brand"),
            "card_last4": card.get("last4"),
            "raw": mask_raw(data),
        }
        if status in ("requires_capture", "succeeded"):
            return GatewayResult(SUCCEEDED, **common)
        if status == "requires_action":
            return GatewayResult(
                REQUIRES_ACTION,
                next_action={
                    "type": "stripe_sdk",
                    "hint": "complete it with Stripe.js, then confirm",
                },
                **common,
            )
        if status == "processing":
            return GatewayResult(PENDING, **common)
        error = data.get("last_payment_error") or {}
        return GatewayResult(
            FAILED,
            error_code=error.get("decline_code") or error.get("code") or status,
            error_message=error.get("message"),
            **common,
        )

    def _call(self, fn, *args, **kwargs) -> GatewayResult:
        try:
            return self._intent_result(fn(*args, **kwargs))
        except stripe_lib.CardError as exc:
            err = exc.error
            return GatewayResult(
                FAILED,
                error_code=(err.decline_code if err else None) or exc.code or "card_error",
                error_message=exc.user_message,
                raw=mask_raw(exc.json_body or {}),
            )
        except stripe_lib.StripeError as exc:
            return GatewayResult(
                FAILED,
                error_code=exc.code or type(exc).__name__,
                error_message="the payment provider refused the request",
                raw=mask_raw(exc.json_body or {"error": type(exc).__name__}),
            )

    def authorize(self, request: PaymentRequest, details: dict[str, Any]) -> GatewayResult:
        payment_method = details.get("payment_method")
        if not payment_method:
            raise ValidationError(
                "a Stripe PaymentMethod id is required",
                details={"payment_details": {"payment_method": ["required for Stripe"]}},
            )
        params = {
            "amount": to_minor(request.amount, request.currency),
            "currency": request.currency.lower(),
            "payment_method": payment_method,
            "payment_method_types": ["card"],
            "confirm": True,
            "capture_method": "manual",
            "metadata": {"payment_id": str(request.payment_id), "order_id": str(request.order_id)},
        }
        return self._call(
            self._client().v1.payment_intents.create,
            params=params,
            options={"idempotency_key": f"payment-{request.payment_id}-authorize"},
        )

    def confirm(self, request: PaymentRequest, details: dict[str, Any]) -> GatewayResult:
        return self._call(self._client().v1.payment_intents.retrieve, request.reference)

    def capture(self, request: PaymentRequest, amount: Decimal) -> GatewayResult:
        return self._call(
            self._client().v1.payment_intents.capture,
            request.reference,
            params={"amount_to_capture": to_minor(amount, request.currency)},
            options={"idempotency_key": f"payment-{request.payment_id}-capture"},
        )

    def void(self, request: PaymentRequest) -> GatewayResult:
        result = self._call(
            self._client().v1.payment_intents.cancel,
            request.reference,
            options={"idempotency_key": f"payment-{request.payment_id}-void"},
        )
        if result.raw.get("status") == "canceled":
            result.status, result.error_code, result.error_message = SUCCEEDED, None, None
        return result

    def refund(self, request: PaymentRequest, amount: Decimal, *, refund_id: int) -> GatewayResult:
        try:
            refund = self._client().v1.refunds.create(
                params={
                    "payment_intent": request.reference,
                    "amount": to_minor(amount, request.currency),
                    "metadata": {
                        "refund_id": str(refund_id),
                        "payment_id": str(request.payment_id),
                    },
                },
                options={"idempotency_key": f"refund-{refund_id}"},
            )
        except stripe_lib.StripeError as exc:
            return GatewayResult(
                FAILED,
                error_code=exc.code or type(exc).__name__,
                error_message="the payment provider refused the refund",
                raw=mask_raw(exc.json_body or {"error": type(exc).__name__}),
            )
        data = refund.to_dict()
        status = {"succeeded": SUCCEEDED, "pending": PENDING}.get(data.get("status"), FAILED)
        return GatewayResult(
            status,
            reference=data.get("id"),
            error_code=None if status != FAILED else "refund_failed",
            raw=mask_raw(data),
        )

    # --- webhooks -------------------------------------------------------------------------------
    def verify_webhook(self, payload: bytes, headers: dict[str, str]) -> dict[str, Any]:
        if not self._webhook_secret:
            raise WebhookSignatureError("Stripe webhooks are not configured for this shop")
        try:
            stripe_lib.Webhook.construct_event(
                payload,
                headers.get("Stripe-Signature"),
                self._webhook_secret,
                tolerance=WEBHOOK_TOLERANCE_SECONDS,
            )
        except stripe_lib.SignatureVerificationError as exc:
            raise WebhookSignatureError(
                "the webhook signature is missing, wrong or too old"
            ) from exc
        except ValueError as exc:
            raise WebhookSignatureError("the webhook body is not a Stripe event") from exc
        try:
            return json.loads(payload)
        except ValueError as exc:  # pragma: no cover - construct_event parsed it already
            raise WebhookSignatureError("the webhook body is not JSON") from exc

    def parse_webhook(self, payload: bytes, headers: dict[str, str]) -> WebhookEvent:
        event = self.verify_webhook(payload, headers)
        if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
            raise WebhookSignatureError("the webhook body is not a Stripe event")
        obj = ((event.get("data") or {}).get("object")) or {}
        kind = event["type"]
        if kind.startswith("payment_intent."):
            reference = obj.get("id")
        else:
            reference = obj.get("payment_intent")
        outcome = _INTENT_OUTCOMES.get(kind)
        amount = None
        currency = obj.get("currency") or "usd"
        if outcome == "captured" and isinstance(obj.get("amount_received"), int):
            amount = from_minor(obj["amount_received"], currency)
        elif outcome == "authorized" and isinstance(obj.get("amount_capturable"), int):
            amount = from_minor(obj["amount_capturable"], currency)
        refunds = _refund_updates(kind, obj, currency)
        if refunds:
            outcome = "refunded"
            amount = sum((r.amount for r in refunds if r.amount is not None), Decimal(0)) or None
        return WebhookEvent(
            event_id=str(event["id"])[:128],
            type=str(kind)[:64],
            reference=reference,
            outcome=outcome,
            amount=amount,
            raw=mask_raw(event),
            refunds=refunds,
        )


# a Refund object's status -> ours (Stripe: pending, requires_action, succeeded, failed, canceled)
_REFUND_STATUSES = {
    "succeeded": "completed",
    "failed": "failed",
    "canceled": "failed",
    "pending": "pending",
    "requires_action": "pending",
}
_REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated")


def _refund_updates(kind: str, obj: dict[str, Any], currency: str) -> tuple[RefundUpdate, ...]:
    """The refunds a Stripe event settles: the Refund object of refund.* events, or the refunds a
    charge.refunded event lists (when Stripe includes them; the refund.updated that follows
    settles them otherwise)."""
    if kind in _REFUND_EVENTS:
        objects = [obj]
    elif kind == "charge.refunded":
        objects = [r for r in ((obj.get("refunds") or {}).get("data") or []) if isinstance(r, dict)]
    else:
        return ()
    out = []
    for refund in objects:
        status = "failed" if kind == "refund.failed" else _REFUND_STATUSES.get(refund.get("status"))
        if status is None:
            continue
        ours = str((refund.get("metadata") or {}).get("refund_id") or "")
        amount = refund.get("amount")
        out.append(
            RefundUpdate(
                reference=(str(refund["id"])[:128] if refund.get("id") else None),
                refund_id=int(ours) if ours.isdigit() else None,
                status=status,
                amount=from_minor(amount, refund.get("currency") or currency)
                if isinstance(amount, int)
                else None,
                failure_code=(
                    str(refund.get("failure_reason"))[:64] if refund.get("failure_reason") else None
                ),
            )
        )
    return tuple(out)
