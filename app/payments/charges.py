"""Charging: a payment is opened (in the caller's transaction: checkout's, or orders' for an order
paid later), authorized and captured (automatic capture: PAYMENTS_AUTO_CAPTURE), confirmed when
the card requires an action, paid by the storefront (`process_payment`), marked received by an
admin (manual methods), or voided. Every gateway call follows the three steps of
app.payments.gateway_calls."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from app.core.crypto import hash_token
from app.core.db import transaction
from app.core.errors import Conflict, PermissionDenied, ValidationError
from app.core.types import utcnow
from app.events.idempotency import request_hash
from app.extensions import db
from app.payments.access import visible_payment
from app.payments.errors import PaymentError
from app.payments.gateway_calls import (
    CLAIM_SECONDS,
    auto_capture,
    call_gateway,
    claim,
    gateway_for,
    request_of,
)
from app.payments.gateways.base import (
    FAILED,
    PENDING,
    REQUIRES_ACTION,
    SUCCEEDED,
    GatewayResult,
    PaymentRequest,
)
from app.payments.idempotency import (
    add_with_key,
    claim_key,
    details_fingerprint,
    scope_of,
    set_key_result,
)
from app.payments.ledger import (
    CURRENCY,
    get_payment,
    lock_payment,
    publish_payment_event,
    record_transaction,
    valid_amount,
)
from app.payments.methods import check_details, check_method
from app.payments.models import Payment, PaymentStatus
from app.security.actor import Actor

VOIDABLE = (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION, PaymentStatus.AUTHORIZED)


def start_payment(
    *,
    order_id: int,
    amount: Decimal,
    currency: str,
    method: str,
    customer_user_id: int | None,
    payment_details: dict | None = None,
    idempotency_key: str | None = None,
    guest_token: str | None = None,
    capture: bool | None = None,
) -> Payment:
    """Create the order's Payment (committed, status pending), then authorize it with the gateway
    outside any row lock when details are given (manual methods: always), then capture it when
    capture is automatic (PAYMENTS_AUTO_CAPTURE, or `capture`). Returns the payment as it ends."""
    with transaction():
        opened = open_payment(
            order_id=order_id,
            amount=amount,
            currency=currency,
            method=method,
            customer_user_id=customer_user_id,
            payment_details=payment_details,
            idempotency_key=idempotency_key,
            guest_token=guest_token,
            capture=capture,
        )
    run_payment(opened)
    with transaction():
        return get_payment(opened.payment_id)


@dataclass(frozen=True)
class OpenedPayment:
    """A payment written by open_payment, and what run_payment needs to pay it."""

    payment_id: int
    request: PaymentRequest
    gateway: Any = None  # None: nothing to ask the gateway now (no details, or an earlier payment)
    details: dict = field(default_factory=dict)
    capture: bool | None = None
    status: str = PaymentStatus.PENDING  # as written (or as the earlier payment is)
    failure_code: str | None = None


@dataclass(frozen=True)
class PaymentOutcome:
    """How run_payment left the payment (read before its commit: no reload needed)."""

    id: int
    status: str
    failure_code: str | None


def open_payment(
    *,
    order_id: int,
    amount: Decimal,
    currency: str,
    method: str,
    customer_user_id: int | None,
    payment_details: dict | None = None,
    idempotency_key: str | None = None,
    guest_token: str | None = None,
    capture: bool | None = None,
    new_order: bool = False,
    deferred: bool = False,
) -> OpenedPayment:
    """Step 1 of start_payment, in the CALLER's transaction (e.g. the checkout's, so the order and
    its payment commit together): check the method and details, then write the pending Payment,
    already claimed (processing_until) when the gateway is to be called. Every DomainError is
    raised before anything is written (or after its savepoint was rolled back), so a caller may
    catch it and still commit its own work. The same Idempotency-Key and body give the earlier
    payment (and no gateway call). `new_order`: the order was written in this same transaction,
    so no other request can have used its key yet: key and payment are written without a savepoint.
    `deferred`: the caller pays it next through process_payment (an order paid later by its id):
    it is written unclaimed and nothing is called, but the details a card method needs are checked
    first (422), so a request that could not pay writes nothing."""
    if not isinstance(order_id, int) or order_id < 1:
        raise ValidationError("invalid order", details={"order_id": ["a positive integer"]})
    currency = (currency or "").upper()
    if not CURRENCY.match(currency):
        raise ValidationError(
            "invalid currency", details={"currency": ["an ISO 4217 code such as USD"]}
        )
    amount = valid_amount(amount, currency=currency)
    guest_hash = hash_token(guest_token) if guest_token else None
    with transaction():
        gateway = check_method(method)
        if (payment_details or deferred) and gateway != "manual":
            check_details(gateway, payment_details or {})
        calls = not deferred and (gateway == "manual" or bool(payment_details))
        payment = Payment(
            order_id=order_id,
            amount=amount,
            currency=currency,
            method=method,
            gateway=gateway,
            customer_user_id=customer_user_id,
            guest_token_hash=guest_hash,
            status=PaymentStatus.PENDING,
            processing_until=utcnow() + dt.timedelta(seconds=CLAIM_SECONDS) if calls else None,
        )
        if idempotency_key:
            earlier = add_with_key(
                scope_of(customer_user_id, guest_hash),
                idempotency_key,
                request_hash(
                    {
                        "order_id": order_id,
                        "amount": str(amount),
                        "currency": currency,
                        "method": method,
                        "details": details_fingerprint(payment_details),
                    }
                ),
                payment,
                savepoint=not new_order,
            )
            if earlier is not None:
                found = get_payment(earlier.result_id("payment_id"))
                return OpenedPayment(
                    found.id,
                    request_of(found),
                    status=found.status,
                    failure_code=found.failure_code,
                )
        else:
            db.session.add(payment)
            db.session.flush()
        return OpenedPayment(
            payment.id,
            request_of(payment),
            gateway_for(gateway) if calls else None,
            payment_details or {},
            capture,
        )


def run_payment(opened: OpenedPayment) -> PaymentOutcome | None:
    """Step 2 of start_payment, after the payment's commit: the gateway call(s) with no transaction
    open, then one short transaction records the outcome. None when there was nothing to call."""
    if opened.gateway is None:
        return None
    return _pay(
        opened.payment_id,
        opened.request,
        opened.gateway,
        opened.details,
        capture=opened.capture,
        statuses=(PaymentStatus.PENDING, PaymentStatus.FAILED),
    )


def _authorize(
    payment_id: int,
    details: dict[str, Any],
    *,
    capture: bool | None = None,
    confirming: bool = False,
) -> None:
    statuses = (
        (PaymentStatus.REQUIRES_ACTION,)
        if confirming
        else (PaymentStatus.PENDING, PaymentStatus.FAILED)
    )
    request = claim(payment_id, statuses)
    with transaction():
        gateway = gateway_for(get_payment(payment_id).gateway)
    _pay(
        payment_id,
        request,
        gateway,
        details,
        capture=capture,
        statuses=statuses,
        confirming=confirming,
    )


def _pay(
    payment_id: int,
    request: PaymentRequest,
    gateway,
    details: dict[str, Any],
    *,
    capture: bool | None,
    statuses: tuple[str, ...],
    confirming: bool = False,
) -> PaymentOutcome:
    """The claimed payment's authorization (or confirmation), and its capture when capture is
    automatic. A synchronous gateway (in-process: test, manual) is asked to capture right after
    it authorized, and both outcomes are recorded in ONE transaction (both transaction rows, both
    events); a remote gateway (Stripe) gets the authorization recorded first (its reference is
    then known should the process die), then the usual capture cycle."""
    fn = gateway.confirm if confirming else gateway.authorize
    result = call_gateway(payment_id, fn, request, details)
    auto = auto_capture() if capture is None else capture
    captured = None
    if result.status == SUCCEEDED and auto and getattr(gateway, "synchronous", False):
        try:
            captured = gateway.capture(
                replace(request, reference=result.reference or request.reference), request.amount
            )
        except (
            BaseException
        ):  # the authorization stands (recorded, claim released); the capture did not happen
            _settle(payment_id, "confirm" if confirming else "authorize", result, statuses, None)
            raise
    authorized, outcome = _settle(
        payment_id, "confirm" if confirming else "authorize", result, statuses, captured
    )
    if authorized and auto and captured is None:
        capture_payment(payment_id)
        with transaction():
            payment = get_payment(payment_id)
            outcome = PaymentOutcome(payment.id, payment.status, payment.failure_code)
    return outcome


def _settle(
    payment_id: int,
    kind: str,
    result: GatewayResult,
    statuses: tuple[str, ...],
    captured: GatewayResult | None,
) -> tuple[bool, PaymentOutcome]:
    """Step 3: one short transaction locks the payment and records the authorization and, when
    the gateway captured at once, the capture. Returns (authorized, how the payment is left)."""
    with transaction():
        payment = lock_payment(payment_id)
        authorized = _apply_authorization(payment, kind, result, statuses)
        if authorized and captured is not None:
            _apply_capture(payment, "capture", captured, (PaymentStatus.AUTHORIZED,))
        return authorized, PaymentOutcome(payment.id, payment.status, payment.failure_code)


def _apply_authorization(
    payment: Payment, kind: str, result: GatewayResult, statuses: tuple[str, ...]
) -> bool:
    """Record an authorize/confirm outcome on the locked payment (and release its claim). True
    when it is now authorized."""
    record_transaction(payment, kind, result, payment.amount)
    payment.processing_until = None
    if payment.status not in statuses:  # a webhook moved it meanwhile: it wins
        return False
    payment.gateway_reference = result.reference or payment.gateway_reference
    payment.card_brand = result.card_brand or payment.card_brand
    payment.card_last4 = result.card_last4 or payment.card_last4
    if result.status == SUCCEEDED:
        payment.status, payment.amount_authorized = PaymentStatus.AUTHORIZED, payment.amount
        payment.failure_code = payment.failure_message = None
        publish_payment_event("payment.authorized", payment, payment.amount)
        return True
    if result.status == REQUIRES_ACTION:
        payment.status = PaymentStatus.REQUIRES_ACTION
    elif result.status == PENDING:
        payment.status = PaymentStatus.PENDING
    else:
        payment.status = PaymentStatus.FAILED
        payment.failure_code = (result.error_code or "failed")[:64]
        payment.failure_message = (result.error_message or "")[:255] or None
        publish_payment_event(
            "payment.failed", payment, payment.amount, failure_code=payment.failure_code
        )
    return False


def _apply_capture(
    payment: Payment, kind: str, result: GatewayResult, statuses: tuple[str, ...]
) -> None:
    """Record a capture outcome on the locked payment (and release its claim)."""
    record_transaction(payment, kind, result, payment.amount)
    payment.processing_until = None
    if payment.status in statuses and result.status == SUCCEEDED:
        payment.status = PaymentStatus.CAPTURED
        payment.amount_authorized = payment.amount
        payment.amount_captured = payment.amount
        publish_payment_event("payment.captured", payment, payment.amount)
    elif result.status == FAILED:
        payment.failure_code = (result.error_code or "capture_failed")[:64]


def capture_payment(payment_id: int, *, kind: str = "capture") -> Payment:
    """Capture an authorized payment in full (manual gateway: a pending one, via mark_received)."""
    with transaction():
        gateway_code = get_payment(payment_id).gateway
    statuses = RECEIVABLE if gateway_code == "manual" else (PaymentStatus.AUTHORIZED,)
    request = claim(payment_id, statuses)
    gateway = gateway_for(gateway_code)
    result = call_gateway(payment_id, gateway.capture, request, request.amount)
    with transaction():
        payment = lock_payment(payment_id)
        _apply_capture(payment, kind, result, statuses)
        return payment


def capture(payment_id: int) -> Payment:
    return capture_payment(payment_id)


RECEIVABLE = (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED)


def can_mark_received(payment: Payment) -> bool:
    """Whether `mark_received` would take the payment: a manual one (bank transfer, cash on
    delivery) whose money has not arrived yet."""
    return payment.gateway == "manual" and payment.status in RECEIVABLE


def mark_received(payment_id: int) -> Payment:
    """Admin: the bank transfer or the cash of a manual payment arrived; the payment is captured."""
    with transaction():
        payment = get_payment(payment_id)
        if payment.gateway != "manual":
            raise Conflict(
                "only bank transfer and cash on delivery payments are marked received",
                code=PaymentError.NOT_A_MANUAL_PAYMENT,
                details={"payment_id": payment_id},
            )
    return capture_payment(payment_id, kind="mark_received")


def void(payment_id: int) -> Payment:
    """Cancel a payment that has not been captured (pending, requires_action or authorized)."""
    request = claim(payment_id, VOIDABLE)
    with transaction():
        gateway = gateway_for(get_payment(payment_id).gateway)
    if request.reference:
        result = call_gateway(payment_id, gateway.void, request)
    else:  # never reached the gateway: nothing to cancel there
        db.session.commit()
        result = GatewayResult(SUCCEEDED, raw={"voided": True, "note": "never sent to the gateway"})
    with transaction():
        payment = lock_payment(payment_id)
        record_transaction(payment, "void", result, payment.amount)
        payment.processing_until = None
        if payment.status in VOIDABLE and result.status == SUCCEEDED:
            payment.status = PaymentStatus.VOIDED
            publish_payment_event("payment.voided", payment, payment.amount)
        elif result.status != SUCCEEDED:
            raise Conflict(
                "the gateway refused to void this payment",
                code=PaymentError.VOID_FAILED,
                details={"payment_id": payment_id, "gateway_code": result.error_code},
            )
        return payment


def process_payment(
    actor: Actor | None,
    *,
    payment_id: int,
    payment_details: dict | None,
    confirm: bool = False,
    guest_token: str | None = None,
    idempotency_key: str | None = None,
) -> Payment:
    """Pay one of the caller's payments: authorize (and capture) with card details, retry a failed
    one, or confirm one that requires an action. The same Idempotency-Key and body returns the
    payment without charging again; another body with that key is a 409. (By order id, a payment
    is found or opened by orders: app.orders.pay_later.pay_order.)"""
    details = payment_details or {}
    with transaction():
        payment = visible_payment(payment_id, actor, guest_token)
        if actor is not None and actor.is_admin:
            raise PermissionDenied("staff do not pay customers' payments")
        if idempotency_key:
            scope = scope_of(
                actor.user_id if actor else None, hash_token(guest_token) if guest_token else None
            )
            earlier = claim_key(
                scope,
                idempotency_key,
                "process",
                request_hash(
                    {
                        "payment_id": payment_id,
                        "confirm": confirm,
                        "details": details_fingerprint(details),
                    }
                ),
            )
            if earlier is not None:
                return get_payment(payment_id)
            set_key_result(scope, idempotency_key, payment_id=payment_id)
        gateway, status, reference = payment.gateway, payment.status, payment.gateway_reference
        if not confirm and gateway != "manual":
            check_details(gateway, details)
    if confirm:
        _authorize(payment_id, details, confirming=True)
    elif gateway == "manual":
        if status in (PaymentStatus.PENDING, PaymentStatus.FAILED) and not reference:
            _authorize(payment_id, {})
        elif status != PaymentStatus.PENDING:
            raise Conflict(
                f"a {status} payment cannot be paid",
                code=PaymentError.INVALID_PAYMENT_STATUS,
                details={"payment_id": payment_id, "status": status},
            )
    else:
        _authorize(payment_id, details)
    with transaction():
        return get_payment(payment_id)
