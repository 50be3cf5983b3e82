"""Refunds. A refund never exceeds what was captured: the amount is reserved by
`UPDATE payments SET amount_refunded = amount_refunded + :x WHERE amount_captured - amount_refunded >= :x`
(atomic on MariaDB; a CHECK constraint backs it up) before the gateway is called, and given back if
the gateway refuses (at once, or later by webhook: a refund the gateway leaves pending is settled,
completed or failed, by its refund.updated / refund.failed / charge.refunded webhook, once:
app.payments.webhooks). A failed refund no refund request answers (a cancelled order's) is
retried by an admin with `retry_refund`: one new refund of the same amount, through `refund`.
Events: refund.completed with {order_id, payment_id, refund_id, amount (string), currency,
status}, refund.failed (a refund the gateway refused after it had been left pending, or at once)
with {..., failure_code}."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import func, select, update

from app.core.db import transaction
from app.core.errors import Conflict, DomainError, NotFound
from app.events.bus import publish
from app.events.idempotency import request_hash
from app.extensions import db
from app.payments.access import visible_payment
from app.payments.charges import VOIDABLE, void
from app.payments.errors import PaymentError
from app.payments.gateway_calls import gateway_for, request_of
from app.payments.gateways.base import FAILED, SUCCEEDED, GatewayResult
from app.payments.idempotency import claim_key, scope_of, set_key_result
from app.payments.ledger import (
    PaymentInProgress,
    get_payment,
    lock_payment,
    record_transaction,
    valid_amount,
)
from app.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from app.security.actor import Actor

log = logging.getLogger(__name__)

REFUNDABLE = (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED)


def refund(
    payment_id: int,
    amount: Decimal,
    reason: str | None,
    *,
    idempotency_key: str | None = None,
    user_id: int | None = None,
    key_scope: str | None = None,
    retry_of: int | None = None,
    on_created: Callable[[int], None] | None = None,
) -> Refund:
    """Refund part or all of what was captured and not yet refunded (409 refund_exceeds_captured).
    The idempotency key belongs to `user_id` unless `key_scope` names another owner (a key that
    must hold whoever calls, as retry_refund's); `retry_of`: the failed refund this one retries.
    `on_created(refund_id)` runs in the transaction that writes the refund row, before the gateway
    is called: a caller links its own record to the refund (orders: the refund request it pays
    out) in the same commit, so no outcome of the refund (its answer, a webhook that overtakes
    it) can ever be seen without that link. Not called when the key replays an earlier refund."""
    amount = valid_amount(amount)
    scope = key_scope or scope_of(user_id, None)
    with transaction():
        payment = get_payment(payment_id)
        valid_amount(amount, currency=payment.currency)  # no fraction of a yen
        if idempotency_key:
            earlier = claim_key(
                scope,
                idempotency_key,
                "refund",
                request_hash(
                    {"payment_id": payment_id, "amount": str(amount), "reason": reason or ""}
                ),
            )
            if earlier is not None:
                found = db.session.get(Refund, earlier.result_id("refund_id"))
                if found is None:  # pragma: no cover - the key is always set with its refund
                    raise PaymentInProgress("this refund is being processed")
                return found
        reserved = db.session.execute(
            update(Payment)
            .where(
                Payment.id == payment_id,
                Payment.status.in_(REFUNDABLE),
                Payment.amount_captured - Payment.amount_refunded >= amount,
            )
            .values(amount_refunded=Payment.amount_refunded + amount)
            .execution_options(synchronize_session=False)
        )
        if reserved.rowcount != 1:
            payment = get_payment(payment_id)
            if payment.status not in REFUNDABLE:
                raise Conflict(
                    f"a {payment.status} payment cannot be refunded",
                    code=PaymentError.INVALID_PAYMENT_STATUS,
                    details={
                        "payment_id": payment_id,
                        "status": payment.status,
                        "allowed_statuses": list(REFUNDABLE),
                    },
                )
            raise Conflict(
                "the refund is more than what remains to refund",
                code=PaymentError.REFUND_EXCEEDS_CAPTURED,
                details={
                    "payment_id": payment_id,
                    "refundable": str(payment.refundable),
                    "requested": str(amount),
                },
            )
        row = Refund(
            payment_id=payment_id,
            order_id=payment.order_id,
            amount=amount,
            currency=payment.currency,
            reason=(reason or None) and reason[:255],
            status=RefundStatus.PENDING,
            created_by_user_id=user_id,
            retry_of_refund_id=retry_of,
        )
        db.session.add(row)
        db.session.flush()
        set_key_result(scope, idempotency_key, payment_id=payment_id, refund_id=row.id)
        if on_created is not None:
            on_created(row.id)
        refund_id, request = row.id, request_of(payment)
        gateway = gateway_for(payment.gateway)
    db.session.commit()
    try:
        result = gateway.refund(request, amount, refund_id=refund_id)
    except BaseException:
        _finish_refund(refund_id, GatewayResult(FAILED, error_code="gateway_error"))
        raise
    return _finish_refund(refund_id, result)


def retry_refund(
    refund_id: int, *, answered_request_id: int | None, user_id: int | None = None
) -> Refund:
    """Admin: pay out again a refund the gateway refused (status failed) that no refund request
    answers, e.g. a cancelled order's (void_or_refund_for_cancel): the same amount from the same
    payment, through `refund` (so what remains to refund, the locking and the events apply as to
    any refund). Returns the new refund, as the gateway left it (completed, pending, or failed
    again: then it is the one to retry next).

    One retry per failed refund: the new refund records `retry_of_refund_id` (unique), and its
    idempotency key is "retry-refund-<failed id>" in the system scope, not the admin's, so a
    double click or two admins at once make one refund (the second caller gets the same refund,
    or 409 refund_already_retried once the first is committed). A retry that fails too is a new
    failed refund with its own id, hence its own key: retrying it is possible, and never reuses
    an earlier key. Errors: 404 not_found, 409 refund_not_failed, refund_has_request (its request
    failed with it: a new refund request pays it out), refund_already_retried, and what `refund`
    raises (invalid_payment_status, refund_exceeds_captured, payment_in_progress).

    `answered_request_id`: the refund request the failed refund paid out, if any. Refund requests
    are orders' (a layer above): the caller reads it (app.orders.refunds.retry_failed_refund,
    what the admin's action calls) and this refuses such a refund at the same point as before."""
    with transaction():
        failed = db.session.scalar(select(Refund).where(Refund.id == refund_id))
        if failed is None:
            raise NotFound("no such refund", details={"refund_id": refund_id})
        if failed.status != RefundStatus.FAILED:
            raise Conflict(
                f"only a failed refund can be retried; this one is {failed.status}",
                code=PaymentError.REFUND_NOT_FAILED,
                details={"refund_id": refund_id, "status": failed.status},
            )
        request_id = answered_request_id
        if request_id is not None:
            raise Conflict(
                "this refund answered a refund request, which failed with it: a new refund request "
                "for that money is the way to pay it out",
                code=PaymentError.REFUND_HAS_REQUEST,
                details={"refund_id": refund_id, "request_id": request_id},
            )
        retry = db.session.scalar(select(Refund).where(Refund.retry_of_refund_id == refund_id))
        if retry is not None:
            raise Conflict(
                f"this refund was retried already, by refund #{retry.id} ({retry.status})"
                + ("; retry that one" if retry.status == RefundStatus.FAILED else ""),
                code=PaymentError.REFUND_ALREADY_RETRIED,
                details={
                    "refund_id": refund_id,
                    "retry_refund_id": retry.id,
                    "status": retry.status,
                },
            )
        payment_id, amount, reason = failed.payment_id, failed.amount, failed.reason
    return refund(
        payment_id,
        amount,
        reason,
        idempotency_key=f"retry-refund-{refund_id}",
        user_id=user_id,
        key_scope="system",
        retry_of=refund_id,
    )


def _finish_refund(refund_id: int, result: GatewayResult) -> Refund:
    with transaction():
        row = db.session.get(Refund, refund_id)
        payment = lock_payment(row.payment_id)
        row = db.session.scalar(
            select(Refund)
            .where(Refund.id == refund_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )  # as a webhook may have left it
        record_transaction(payment, "refund", result, row.amount, refund_id=row.id)
        row.gateway_reference = row.gateway_reference or result.reference
        if (
            row.status != RefundStatus.PENDING
        ):  # a webhook settled it while the gateway was answering
            return row
        if result.status == FAILED:
            fail_refund(row, payment, result.error_code)
        elif result.status == SUCCEEDED:
            complete_refund(row, payment)
        return row  # pending: the gateway's webhook settles it (refund.updated, charge.refunded)


def complete_refund(row: Refund, payment: Payment) -> None:
    """A refund the gateway paid out (inside the caller's transaction, the payment row locked)."""
    row.status = RefundStatus.COMPLETED
    db.session.flush()
    done = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment.id, Refund.status == RefundStatus.COMPLETED
        )
    )
    payment.status = (
        PaymentStatus.REFUNDED
        if Decimal(done) >= payment.amount_captured
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    publish(
        "refund.completed",
        {
            "order_id": payment.order_id,
            "payment_id": payment.id,
            "refund_id": row.id,
            "amount": str(row.amount),
            "currency": row.currency,
            "status": payment.status,
        },
        aggregate="payment",
        aggregate_id=payment.id,
    )


def fail_refund(row: Refund, payment: Payment, code: str | None) -> None:
    """A refund the gateway refused: its reserved amount can be refunded again."""
    row.status, row.failure_code = RefundStatus.FAILED, (code or "refund_failed")[:64]
    db.session.execute(
        update(Payment)
        .where(Payment.id == payment.id)
        .values(amount_refunded=Payment.amount_refunded - row.amount)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(payment)
    publish(
        "refund.failed",
        {
            "order_id": payment.order_id,
            "payment_id": payment.id,
            "refund_id": row.id,
            "amount": str(row.amount),
            "currency": row.currency,
            "failure_code": row.failure_code,
        },
        aggregate="payment",
        aggregate_id=payment.id,
    )


def void_or_refund_for_cancel(order_id: int) -> list[Payment]:
    """An order was cancelled: void what is only authorized (or pending), refund what was captured.
    Idempotent (the refund's key is the payment and the amount left): the cancel and a capture that
    lands meanwhile (orders' consumer `refund_if_order_cancelled`) may both call it and refund once. A payment the
    gateway will not void or refund now (in progress, refused) is logged and left as it is: the
    others are still handled, and its capture, if it comes, is refunded by the consumer."""
    with transaction():
        ids = list(
            db.session.scalars(
                select(Payment.id).where(Payment.order_id == order_id).order_by(Payment.id)
            )
        )
    out = []
    for payment_id in ids:
        with transaction():
            payment = get_payment(payment_id)
            status, remaining = payment.status, payment.refundable
        try:
            if status in VOIDABLE:
                void(payment_id)
            elif status in REFUNDABLE and remaining > 0:
                refund(
                    payment_id,
                    remaining,
                    "order cancelled",
                    idempotency_key=f"cancel-{payment_id}-{remaining}",
                )
        except DomainError as exc:
            log.warning(
                "payment %s of cancelled order %s not voided or refunded: %s (%s)",
                payment_id,
                order_id,
                exc.code,
                exc.message,
            )
        with transaction():
            out.append(get_payment(payment_id))
    return out


def refund_for_api(
    actor: Actor,
    *,
    payment_id: int,
    amount: Decimal,
    reason: str | None,
    idempotency_key: str | None,
) -> Refund:
    with transaction():
        visible_payment(payment_id, actor, None)
    refund_row = refund(
        payment_id, amount, reason, idempotency_key=idempotency_key, user_id=actor.user_id
    )
    with transaction():
        return db.session.get(Refund, refund_row.id)
