"""The records every payment use case keeps: the payment row (read, or locked for an update), one
PaymentTransaction per gateway call or webhook, and the events published in the same
transaction (dispatched after commit through the outbox): payment.authorized, payment.captured,
payment.failed, payment.voided with {order_id, payment_id, amount (string), currency, status}.
Amounts are Decimal with 2 places at most, none for a zero-decimal currency such as JPY (CLDR's
exponent via babel: app.core.types.money_places); inputs with more places are refused (422),
never rounded."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from app.core.errors import Conflict, NotFound, ValidationError
from app.core.types import money_places
from app.events.bus import publish
from app.extensions import db
from app.payments.errors import PaymentError
from app.payments.gateways.base import GatewayResult, mask_raw
from app.payments.models import Payment, PaymentTransaction

MAX_AMOUNT = Decimal("9999999999.99")


CURRENCY = re.compile(r"^[A-Z]{3}$")


class PaymentInProgress(Conflict):
    code = PaymentError.PAYMENT_IN_PROGRESS


def valid_amount(value: Any, field: str = "amount", currency: str | None = None) -> Decimal:
    """A positive amount with no more places than its currency has (money_places: 2; 0 for JPY);
    more places are refused, never rounded."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError("invalid amount", details={field: ["a decimal amount"]}) from exc
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise ValidationError(
            "invalid amount", details={field: [f"more than 0 and at most {MAX_AMOUNT}"]}
        )
    places = money_places(currency)
    if amount.normalize().as_tuple().exponent < -places:
        raise ValidationError(
            "invalid amount",
            details={
                field: [
                    f"at most {places} decimal places" + (f" in {currency}" if currency else "")
                ]
            },
        )
    return amount.quantize(Decimal("0.01"))


def get_payment(payment_id: int) -> Payment:
    payment = db.session.scalar(
        select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    )
    if payment is None:
        raise NotFound("no such payment", details={"payment_id": payment_id})
    return payment


def lock_payment(payment_id: int) -> Payment:
    payment = db.session.scalar(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if payment is None:
        raise NotFound("no such payment", details={"payment_id": payment_id})
    return payment


def publish_payment_event(name: str, payment: Payment, amount: Decimal, **extra: Any) -> None:
    publish(
        name,
        {
            "order_id": payment.order_id,
            "payment_id": payment.id,
            "amount": str(amount),
            "currency": payment.currency,
            "status": payment.status,
            **extra,
        },
        aggregate="payment",
        aggregate_id=payment.id,
    )


def record_transaction(
    payment: Payment,
    kind: str,
    result: GatewayResult,
    amount: Decimal,
    *,
    refund_id: int | None = None,
) -> PaymentTransaction:
    row = PaymentTransaction(
        payment_id=payment.id,
        order_id=payment.order_id,
        customer_user_id=payment.customer_user_id,
        kind=kind,
        status=result.status,
        amount=amount,
        currency=payment.currency,
        gateway=payment.gateway,
        gateway_reference=result.reference,
        error_code=result.error_code,
        raw_response=mask_raw(result.raw or {}),
        refund_id=refund_id,
    )
    db.session.add(row)
    return row
