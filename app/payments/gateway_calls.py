"""Three steps around every gateway call, so that no row lock is held while a provider answers:
1. a short transaction claims the payment (a conditional UPDATE sets `processing_until`; a
   concurrent caller gets 409 payment_in_progress) or, for a refund, reserves the amount;
2. the gateway is called with no transaction open;
3. a short transaction locks the payment row, records a PaymentTransaction and the new status,
   and publishes the event (app.payments.ledger).
This module holds steps 1 and 2 and picks the gateway (a tenant's own Stripe keys, encrypted)."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import or_, select, update

from app.core.db import transaction
from app.core.errors import Conflict
from app.core.types import utcnow
from app.extensions import db
from app.payments.errors import PaymentError
from app.payments.gateways import get_gateway
from app.payments.gateways.base import GatewayResult, PaymentRequest
from app.payments.ledger import PaymentInProgress, get_payment
from app.payments.models import Payment, PaymentMethodSetting

CLAIM_SECONDS = 60


def stripe_credentials() -> dict[str, str | None]:
    setting = db.session.scalar(
        select(PaymentMethodSetting).where(PaymentMethodSetting.method == "stripe_card")
    )
    if setting is None:
        return {}
    return {
        "stripe_secret_key": setting.stripe_secret_key,
        "stripe_webhook_secret": setting.stripe_webhook_secret,
    }


def gateway_for(code: str):
    return get_gateway(code, **(stripe_credentials() if code == "stripe" else {}))


def request_of(payment: Payment) -> PaymentRequest:
    return PaymentRequest(
        payment_id=payment.id,
        order_id=payment.order_id,
        amount=payment.amount,
        currency=payment.currency,
        method=payment.method,
        reference=payment.gateway_reference,
        card_last4=payment.card_last4,
    )


def claim(payment_id: int, statuses: tuple[str, ...]) -> PaymentRequest:
    """Step 1: mark the payment as being worked on (committed), or 409. Returns what the gateway needs."""
    now = utcnow()
    with transaction():
        result = db.session.execute(
            update(Payment)
            .where(
                Payment.id == payment_id,
                Payment.status.in_(statuses),
                or_(Payment.processing_until.is_(None), Payment.processing_until < now),
            )
            .values(processing_until=now + dt.timedelta(seconds=CLAIM_SECONDS))
            .execution_options(synchronize_session=False)
        )
        payment = get_payment(payment_id)
        if result.rowcount != 1:
            if payment.status in statuses:
                raise PaymentInProgress(
                    "this payment is being processed; try again shortly",
                    details={"payment_id": payment_id},
                )
            raise Conflict(
                f"a {payment.status} payment cannot do this",
                code=PaymentError.INVALID_PAYMENT_STATUS,
                details={
                    "payment_id": payment_id,
                    "status": payment.status,
                    "allowed_statuses": list(statuses),
                },
            )
        request = request_of(payment)
    return request


def release(payment_id: int) -> None:
    with transaction():
        db.session.execute(
            update(Payment)
            .where(Payment.id == payment_id)
            .values(processing_until=None)
            .execution_options(synchronize_session=False)
        )


def call_gateway(payment_id: int, fn, *args, **kwargs) -> GatewayResult:
    """Step 2: the gateway call, no transaction open; the claim is released if it raises."""
    db.session.commit()  # nothing may stay open (and locked) while the provider answers
    try:
        return fn(*args, **kwargs)
    except BaseException:
        release(payment_id)
        raise


def auto_capture() -> bool:
    return bool(current_app.config.get("PAYMENTS_AUTO_CAPTURE", True))
