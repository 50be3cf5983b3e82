"""Gateways' webhooks (POST /api/v1/payments/webhooks/<gateway>/): the signature is verified, then
the event is applied once per (gateway, event id): a payment's outcome moves it (captured,
authorized, failed, voided) when its status allows, a refund's outcome settles the refund; a
replay changes nothing and answers `duplicate`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core.db import transaction
from app.core.errors import NotFound
from app.extensions import db
from app.payments.charges import VOIDABLE
from app.payments.gateway_calls import gateway_for
from app.payments.gateways.base import FAILED, PENDING, SUCCEEDED, GatewayResult
from app.payments.ledger import publish_payment_event, record_transaction
from app.payments.models import Payment, PaymentStatus, ProcessedWebhook, Refund, RefundStatus
from app.payments.refunds import complete_refund, fail_refund

# what a webhook answers: its event moved a payment or settled a refund, was only recorded (a
# transaction row), named no payment of ours, or was applied already
PROCESSED, RECORDED, IGNORED, DUPLICATE = "processed", "recorded", "ignored", "duplicate"


@dataclass(frozen=True)
class WebhookOutcome:
    """What a gateway's event did (one of the statuses above), and the event's id."""

    status: str
    event_id: str


_WEBHOOK_MOVES = {
    PaymentStatus.CAPTURED: (
        PaymentStatus.PENDING,
        PaymentStatus.REQUIRES_ACTION,
        PaymentStatus.AUTHORIZED,
    ),
    PaymentStatus.AUTHORIZED: (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION),
    PaymentStatus.FAILED: (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION),
    PaymentStatus.VOIDED: VOIDABLE,
}


def handle_webhook(gateway_code: str, payload: bytes, headers: dict[str, str]) -> WebhookOutcome:
    """Verify the signature (400 otherwise), then apply the event once: a replay (same gateway and
    event id) changes nothing and answers `duplicate`."""
    with transaction():
        gateway = gateway_for(gateway_code)
    if not gateway.supports_webhooks:
        raise NotFound("this gateway has no webhooks", details={"gateway": gateway_code})
    event = gateway.parse_webhook(payload, headers)
    with transaction():
        try:
            with db.session.begin_nested():
                seen = ProcessedWebhook(
                    gateway=gateway_code, event_id=event.event_id, event_type=event.type
                )
                db.session.add(seen)
        except IntegrityError:
            return WebhookOutcome(DUPLICATE, event.event_id)
        payment = None
        if event.reference:
            payment = db.session.scalar(
                select(Payment)
                .where(
                    Payment.gateway == gateway_code, Payment.gateway_reference == event.reference
                )
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        if payment is None:
            return WebhookOutcome(IGNORED, event.event_id)
        seen.payment_id = payment.id
        if event.refunds:
            settled = _settle_refunds(payment, event)
            return WebhookOutcome(PROCESSED if settled else RECORDED, event.event_id)
        amount = event.amount if event.amount is not None else payment.amount
        amount = min(amount, payment.amount)
        record_transaction(
            payment,
            "webhook",
            GatewayResult(
                SUCCEEDED if event.outcome != PaymentStatus.FAILED else FAILED,
                reference=event.reference,
                raw=event.raw,
            ),
            amount,
        )
        outcome = event.outcome
        if (
            outcome is None
            or outcome not in _WEBHOOK_MOVES
            or payment.status not in _WEBHOOK_MOVES[outcome]
        ):
            return WebhookOutcome(RECORDED, event.event_id)
        if outcome == PaymentStatus.CAPTURED:
            payment.status, payment.amount_authorized, payment.amount_captured = (
                PaymentStatus.CAPTURED,
                payment.amount,
                amount,
            )
            publish_payment_event("payment.captured", payment, amount)
        elif outcome == PaymentStatus.AUTHORIZED:
            payment.status, payment.amount_authorized = PaymentStatus.AUTHORIZED, payment.amount
            publish_payment_event("payment.authorized", payment, payment.amount)
        elif outcome == PaymentStatus.FAILED:
            payment.status, payment.failure_code = PaymentStatus.FAILED, "webhook_failed"
            publish_payment_event("payment.failed", payment, payment.amount)
        else:
            payment.status = PaymentStatus.VOIDED
            publish_payment_event("payment.voided", payment, payment.amount)
        return WebhookOutcome(PROCESSED, event.event_id)


def _settle_refunds(payment: Payment, event) -> bool:
    """Apply a webhook's refund outcomes: a pending refund becomes completed or failed, once (a
    settled refund is left as it is). Found by the gateway's refund id, else by our id echoed back
    (the webhook may arrive before the refund call returned). Each refund the event names is
    recorded as a webhook transaction of its own, linked to our refund when it is one of ours
    (who may see it follows its refund: app.orders.shares). Returns whether anything changed."""
    changed = False
    for update_ in event.refunds:
        row = None
        if update_.reference:
            row = db.session.scalar(
                select(Refund)
                .where(
                    Refund.payment_id == payment.id, Refund.gateway_reference == update_.reference
                )
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        if row is None and update_.refund_id:
            row = db.session.scalar(
                select(Refund)
                .where(Refund.payment_id == payment.id, Refund.id == update_.refund_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        amount = (
            update_.amount
            if update_.amount is not None
            else (row.amount if row is not None else None)
        )
        amount = min(
            amount if amount is not None else (event.amount or payment.amount), payment.amount
        )
        status = {RefundStatus.FAILED: FAILED, RefundStatus.PENDING: PENDING}.get(
            update_.status, SUCCEEDED
        )
        record_transaction(
            payment,
            "webhook",
            GatewayResult(status, reference=event.reference, raw=event.raw),
            amount,
            refund_id=row.id if row is not None else None,
        )
        if (
            update_.status == RefundStatus.PENDING
            or row is None
            or row.status != RefundStatus.PENDING
        ):
            continue
        row.gateway_reference = row.gateway_reference or update_.reference
        if update_.status == RefundStatus.COMPLETED:
            complete_refund(row, payment)
        else:
            fail_refund(row, payment, update_.failure_code)
        changed = True
    return changed
