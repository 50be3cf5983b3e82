"""Payment use cases: start, process (pay / confirm), capture, void, refund, cancel, webhooks.

Three steps around every gateway call, so that no row lock is held while a provider answers:
1. a short transaction claims the payment (a conditional UPDATE sets `processing_until`; a
   concurrent caller gets 409 payment_in_progress) or, for a refund, reserves the amount;
2. the gateway is called with no transaction open;
3. a short transaction locks the payment row, records a PaymentTransaction and the new status,
   and publishes the event (dispatched after commit through the outbox).

A refund never exceeds what was captured: the amount is reserved by
`UPDATE payments SET amount_refunded = amount_refunded + :x WHERE amount_captured - amount_refunded >= :x`
(atomic on MariaDB; a CHECK constraint backs it up) before the gateway is called, and given back if
the gateway refuses (at once, or later by webhook: a refund the gateway leaves pending is settled,
completed or failed, by its refund.updated / refund.failed / charge.refunded webhook, once).
A failed refund no refund request answers (a cancelled order's) is retried by an admin with
`retry_refund`: one new refund of the same amount, through `refund`.
Amounts are Decimal with 2 places at most, none for a zero-decimal currency such as JPY (CLDR's
exponent via babel: app.core.types.money_places); inputs with more places are refused (422),
never rounded.
Events: payment.authorized, payment.captured, payment.failed, payment.voided, refund.completed
with {order_id, payment_id, amount (string), currency, status}, refund.failed (a refund the
gateway refused after it had been left pending, or at once) with {..., failure_code}.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from sqlalchemy import false, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.core.db import transaction
from app.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from app.core.types import money_places, utcnow
from app.customers.services import paginate
from app.events.bus import publish
from app.extensions import db
from app.payments.gateways import METHODS, get_gateway
from app.payments.gateways.base import (
    FAILED,
    PENDING,
    REQUIRES_ACTION,
    SUCCEEDED,
    GatewayResult,
    PaymentRequest,
    luhn_ok,
    mask_raw,
)
from app.payments.models import (
    Payment,
    PaymentIdempotencyKey,
    PaymentMethodSetting,
    PaymentTransaction,
    ProcessedWebhook,
    Refund,
)
from app.security import roles

log = logging.getLogger(__name__)
CLAIM_SECONDS = 60
MAX_AMOUNT = Decimal("9999999999.99")
CURRENCY = re.compile(r"^[A-Z]{3}$")
STAFF_ROLES = frozenset({roles.ADMIN, roles.SUPER_ADMIN})
REFUNDABLE = ("captured", "partially_refunded")
VOIDABLE = ("pending", "requires_action", "authorized")


class PaymentInProgress(Conflict):
    code = "payment_in_progress"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


# --- small helpers -----------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _money(value: Any, field: str = "amount", currency: str | None = None) -> Decimal:
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


def _request_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _details_fingerprint(details: dict[str, Any] | None) -> dict[str, Any]:
    """What identifies the payment details in an idempotency hash, without the card number."""
    if not details:
        return {}
    number = str(details.get("card_number") or "")
    return {
        "card": number[-4:] if number else None,
        "pm": details.get("payment_method"),
        "exp": [details.get("exp_month"), details.get("exp_year")],
    }


def _scope(user_id: int | None, guest_token_hash: str | None) -> str:
    if user_id is not None:
        return f"user:{user_id}"
    if guest_token_hash:
        return f"guest:{guest_token_hash[:40]}"
    return "system"


def _claim_key(
    scope: str, key: str, operation: str, request_hash: str
) -> PaymentIdempotencyKey | None:
    """Take `key` for this request inside the current transaction. Returns the earlier row when the
    same request used it already (the caller answers with its result); 409 for another request."""
    _check_key(key)
    try:
        with db.session.begin_nested():
            db.session.add(
                PaymentIdempotencyKey(
                    scope=scope, key=key, operation=operation, request_hash=request_hash
                )
            )
        return None
    except IntegrityError:
        return _earlier_use(scope, key, operation, request_hash)


def _check_key(key: str | None) -> None:
    if not key or len(key) > 128:
        raise ValidationError(
            "invalid Idempotency-Key", details={"Idempotency-Key": ["1 to 128 characters"]}
        )


def _earlier_use(scope: str, key: str, operation: str, request_hash: str) -> PaymentIdempotencyKey:
    """After `key` clashed: the row of the same request that used it first; 409 for another
    request (or while the first one is still uncommitted)."""
    existing = db.session.scalar(
        select(PaymentIdempotencyKey).where(
            PaymentIdempotencyKey.scope == scope, PaymentIdempotencyKey.key == key
        )
    )
    if (
        existing is None
    ):  # pragma: no cover - the winner rolled back meanwhile; let the caller retry
        raise PaymentInProgress("this Idempotency-Key is being used by another request") from None
    if existing.operation != operation or existing.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with another request", details={"Idempotency-Key": key}
        ) from None
    return existing


def _set_key_result(scope: str, key: str | None, **ids: int) -> None:
    if key:
        db.session.execute(
            update(PaymentIdempotencyKey)
            .where(PaymentIdempotencyKey.scope == scope, PaymentIdempotencyKey.key == key)
            .values(**ids)
            .execution_options(synchronize_session=False)
        )


def _lock(payment_id: int) -> Payment:
    payment = db.session.scalar(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if payment is None:
        raise NotFound("no such payment", details={"payment_id": payment_id})
    return payment


def _get(payment_id: int) -> Payment:
    payment = db.session.scalar(
        select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    )
    if payment is None:
        raise NotFound("no such payment", details={"payment_id": payment_id})
    return payment


def _event(name: str, payment: Payment, amount: Decimal, **extra: Any) -> None:
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


def _record(
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


def _stripe_credentials() -> dict[str, str | None]:
    setting = db.session.scalar(
        select(PaymentMethodSetting).where(PaymentMethodSetting.method == "stripe_card")
    )
    if setting is None:
        return {}
    return {
        "stripe_secret_key": setting.stripe_secret_key,
        "stripe_webhook_secret": setting.stripe_webhook_secret,
    }


def _gateway_for(code: str):
    return get_gateway(code, **(_stripe_credentials() if code == "stripe" else {}))


def _request_of(payment: Payment) -> PaymentRequest:
    return PaymentRequest(
        payment_id=payment.id,
        order_id=payment.order_id,
        amount=payment.amount,
        currency=payment.currency,
        method=payment.method,
        reference=payment.gateway_reference,
        card_last4=payment.card_last4,
    )


def _claim(payment_id: int, statuses: tuple[str, ...]) -> PaymentRequest:
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
        payment = _get(payment_id)
        if result.rowcount != 1:
            if payment.status in statuses:
                raise PaymentInProgress(
                    "this payment is being processed; try again shortly",
                    details={"payment_id": payment_id},
                )
            raise Conflict(
                f"a {payment.status} payment cannot do this",
                code="invalid_payment_status",
                details={
                    "payment_id": payment_id,
                    "status": payment.status,
                    "allowed_statuses": list(statuses),
                },
            )
        request = _request_of(payment)
    return request


def _release(payment_id: int) -> None:
    with transaction():
        db.session.execute(
            update(Payment)
            .where(Payment.id == payment_id)
            .values(processing_until=None)
            .execution_options(synchronize_session=False)
        )


def _call(payment_id: int, fn, *args, **kwargs) -> GatewayResult:
    """Step 2: the gateway call, no transaction open; the claim is released if it raises."""
    db.session.commit()  # nothing may stay open (and locked) while the provider answers
    try:
        return fn(*args, **kwargs)
    except BaseException:
        _release(payment_id)
        raise


# --- methods -----------------------------------------------------------------------------------


def _configured_methods(rows: list[PaymentMethodSetting] | None = None) -> list[str]:
    if rows is None:
        rows = db.session.scalars(
            select(PaymentMethodSetting).order_by(PaymentMethodSetting.id)
        ).all()
    if rows:
        return [r.method for r in rows if r.enabled and r.method in METHODS]
    names = [
        m.strip() for m in current_app.config.get("PAYMENT_METHODS", "").split(",") if m.strip()
    ]
    return [m for m in names if m in METHODS]


def enabled_methods() -> list[dict[str, Any]]:
    """The current tenant's payment methods (Stripe only when it has credentials)."""
    with transaction():
        rows = db.session.scalars(
            select(PaymentMethodSetting).order_by(PaymentMethodSetting.id)
        ).all()
        settings = {r.method: r for r in rows}
        out = []
        for code in _configured_methods(rows):
            if code == "stripe_card" and not (
                _stripe_credentials().get("stripe_secret_key")
                or current_app.config.get("STRIPE_SECRET_KEY")
            ):
                continue
            meta, setting = METHODS[code], settings.get(code)
            out.append(
                {
                    "code": code,
                    "gateway": meta["gateway"],
                    "name": (
                        setting.display_name if setting and setting.display_name else meta["name"]
                    ),
                    "description": meta["description"],
                    "instructions": setting.instructions if setting else None,
                }
            )
        return out


def _check_method(method: str) -> str:
    enabled = [m["code"] for m in enabled_methods()]
    if method not in METHODS or method not in enabled:
        raise ValidationError(
            "this payment method is not available here",
            details={"method": [f"one of: {', '.join(enabled)}"]},
        )
    return METHODS[method]["gateway"]


def _check_details(gateway: str, details: dict[str, Any]) -> None:
    if gateway == "test":
        number = str(details.get("card_number") or "")
        if not luhn_ok(number):
            raise ValidationError(
                "invalid card",
                details={
                    "payment_details": {
                        "card_number": [
                            "a card number (12-19 digits, Luhn-valid); "
                            "see the test cards in GET /api/v1/payments/methods/"
                        ]
                    }
                },
            )
    if gateway == "stripe" and not details.get("payment_method"):
        raise ValidationError(
            "a Stripe PaymentMethod id is required",
            details={"payment_details": {"payment_method": ["required for stripe_card"]}},
        )


def _auto_capture() -> bool:
    return bool(current_app.config.get("PAYMENTS_AUTO_CAPTURE", True))


# --- the interface the orders package calls ----------------------------------------------------


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
        return _get(opened.payment_id)


@dataclass(frozen=True)
class OpenedPayment:
    """A payment written by open_payment, and what run_payment needs to pay it."""

    payment_id: int
    request: PaymentRequest
    gateway: Any = None  # None: nothing to ask the gateway now (no details, or an earlier payment)
    details: dict = field(default_factory=dict)
    capture: bool | None = None
    status: str = "pending"  # as written (or as the earlier payment is)
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
    amount = _money(amount, currency=currency)
    guest_hash = hash_token(guest_token) if guest_token else None
    with transaction():
        gateway = _check_method(method)
        if (payment_details or deferred) and gateway != "manual":
            _check_details(gateway, payment_details or {})
        calls = not deferred and (gateway == "manual" or bool(payment_details))
        payment = Payment(
            order_id=order_id,
            amount=amount,
            currency=currency,
            method=method,
            gateway=gateway,
            customer_user_id=customer_user_id,
            guest_token_hash=guest_hash,
            status="pending",
            processing_until=utcnow() + dt.timedelta(seconds=CLAIM_SECONDS) if calls else None,
        )
        if idempotency_key:
            earlier = _add_with_key(
                _scope(customer_user_id, guest_hash),
                idempotency_key,
                _request_hash(
                    {
                        "order_id": order_id,
                        "amount": str(amount),
                        "currency": currency,
                        "method": method,
                        "details": _details_fingerprint(payment_details),
                    }
                ),
                payment,
                savepoint=not new_order,
            )
            if earlier is not None:
                found = _get(earlier.payment_id)
                return OpenedPayment(
                    found.id,
                    _request_of(found),
                    status=found.status,
                    failure_code=found.failure_code,
                )
        else:
            db.session.add(payment)
            db.session.flush()
        return OpenedPayment(
            payment.id,
            _request_of(payment),
            _gateway_for(gateway) if calls else None,
            payment_details or {},
            capture,
        )


def _add_with_key(
    scope: str, key: str, request_hash: str, payment: Payment, *, savepoint: bool = True
) -> PaymentIdempotencyKey | None:
    """Write `payment` with its idempotency key (payment_id set) in one savepoint; like _claim_key,
    returns the earlier key row when the same request used the key, 409 for another request."""
    _check_key(key)

    def write() -> None:
        db.session.add(payment)
        db.session.flush()
        db.session.add(
            PaymentIdempotencyKey(
                scope=scope,
                key=key,
                operation="payment",
                request_hash=request_hash,
                payment_id=payment.id,
            )
        )

    if not savepoint:  # the caller knows the key is new (a clash would fail its whole transaction)
        write()
        return None
    try:
        with db.session.begin_nested():
            write()
        return None
    except IntegrityError:
        return _earlier_use(scope, key, "payment", request_hash)


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
        statuses=("pending", "failed"),
    )


def _authorize(
    payment_id: int,
    details: dict[str, Any],
    *,
    capture: bool | None = None,
    confirming: bool = False,
) -> None:
    statuses = ("requires_action",) if confirming else ("pending", "failed")
    request = _claim(payment_id, statuses)
    with transaction():
        gateway = _gateway_for(_get(payment_id).gateway)
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
    result = _call(payment_id, fn, request, details)
    auto = _auto_capture() if capture is None else capture
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
            payment = _get(payment_id)
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
        payment = _lock(payment_id)
        authorized = _apply_authorization(payment, kind, result, statuses)
        if authorized and captured is not None:
            _apply_capture(payment, "capture", captured, ("authorized",))
        return authorized, PaymentOutcome(payment.id, payment.status, payment.failure_code)


def _apply_authorization(
    payment: Payment, kind: str, result: GatewayResult, statuses: tuple[str, ...]
) -> bool:
    """Record an authorize/confirm outcome on the locked payment (and release its claim). True
    when it is now authorized."""
    _record(payment, kind, result, payment.amount)
    payment.processing_until = None
    if payment.status not in statuses:  # a webhook moved it meanwhile: it wins
        return False
    payment.gateway_reference = result.reference or payment.gateway_reference
    payment.card_brand = result.card_brand or payment.card_brand
    payment.card_last4 = result.card_last4 or payment.card_last4
    if result.status == SUCCEEDED:
        payment.status, payment.amount_authorized = "authorized", payment.amount
        payment.failure_code = payment.failure_message = None
        _event("payment.authorized", payment, payment.amount)
        return True
    if result.status == REQUIRES_ACTION:
        payment.status = "requires_action"
    elif result.status == PENDING:
        payment.status = "pending"
    else:
        payment.status = "failed"
        payment.failure_code = (result.error_code or "failed")[:64]
        payment.failure_message = (result.error_message or "")[:255] or None
        _event("payment.failed", payment, payment.amount, failure_code=payment.failure_code)
    return False


def _apply_capture(
    payment: Payment, kind: str, result: GatewayResult, statuses: tuple[str, ...]
) -> None:
    """Record a capture outcome on the locked payment (and release its claim)."""
    _record(payment, kind, result, payment.amount)
    payment.processing_until = None
    if payment.status in statuses and result.status == SUCCEEDED:
        payment.status = "captured"
        payment.amount_authorized = payment.amount
        payment.amount_captured = payment.amount
        _event("payment.captured", payment, payment.amount)
    elif result.status == FAILED:
        payment.failure_code = (result.error_code or "capture_failed")[:64]


def capture_payment(payment_id: int, *, kind: str = "capture") -> Payment:
    """Capture an authorized payment in full (manual gateway: a pending one, via mark_received)."""
    with transaction():
        gateway_code = _get(payment_id).gateway
    statuses = ("authorized", "pending") if gateway_code == "manual" else ("authorized",)
    request = _claim(payment_id, statuses)
    gateway = _gateway_for(gateway_code)
    result = _call(payment_id, gateway.capture, request, request.amount)
    with transaction():
        payment = _lock(payment_id)
        _apply_capture(payment, kind, result, statuses)
        return payment


def capture(payment_id: int) -> Payment:
    return capture_payment(payment_id)


def mark_received(payment_id: int) -> Payment:
    """Admin: the bank transfer or the cash of a manual payment arrived; the payment is captured."""
    with transaction():
        payment = _get(payment_id)
        if payment.gateway != "manual":
            raise Conflict(
                "only bank transfer and cash on delivery payments are marked received",
                code="not_a_manual_payment",
                details={"payment_id": payment_id},
            )
    return capture_payment(payment_id, kind="mark_received")


def void(payment_id: int) -> Payment:
    """Cancel a payment that has not been captured (pending, requires_action or authorized)."""
    request = _claim(payment_id, VOIDABLE)
    with transaction():
        gateway = _gateway_for(_get(payment_id).gateway)
    if request.reference:
        result = _call(payment_id, gateway.void, request)
    else:  # never reached the gateway: nothing to cancel there
        db.session.commit()
        result = GatewayResult(SUCCEEDED, raw={"voided": True, "note": "never sent to the gateway"})
    with transaction():
        payment = _lock(payment_id)
        _record(payment, "void", result, payment.amount)
        payment.processing_until = None
        if payment.status in VOIDABLE and result.status == SUCCEEDED:
            payment.status = "voided"
            _event("payment.voided", payment, payment.amount)
        elif result.status != SUCCEEDED:
            raise Conflict(
                "the gateway refused to void this payment",
                code="void_failed",
                details={"payment_id": payment_id, "gateway_code": result.error_code},
            )
        return payment


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
    amount = _money(amount)
    scope = key_scope or _scope(user_id, None)
    with transaction():
        payment = _get(payment_id)
        _money(amount, currency=payment.currency)  # no fraction of a yen
        if idempotency_key:
            earlier = _claim_key(
                scope,
                idempotency_key,
                "refund",
                _request_hash(
                    {"payment_id": payment_id, "amount": str(amount), "reason": reason or ""}
                ),
            )
            if earlier is not None:
                found = db.session.get(Refund, earlier.refund_id)
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
            payment = _get(payment_id)
            if payment.status not in REFUNDABLE:
                raise Conflict(
                    f"a {payment.status} payment cannot be refunded",
                    code="invalid_payment_status",
                    details={
                        "payment_id": payment_id,
                        "status": payment.status,
                        "allowed_statuses": list(REFUNDABLE),
                    },
                )
            raise Conflict(
                "the refund is more than what remains to refund",
                code="refund_exceeds_captured",
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
            status="pending",
            created_by_user_id=user_id,
            retry_of_refund_id=retry_of,
        )
        db.session.add(row)
        db.session.flush()
        _set_key_result(scope, idempotency_key, payment_id=payment_id, refund_id=row.id)
        if on_created is not None:
            on_created(row.id)
        refund_id, request = row.id, _request_of(payment)
        gateway = _gateway_for(payment.gateway)
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
        if failed.status != "failed":
            raise Conflict(
                f"only a failed refund can be retried; this one is {failed.status}",
                code="refund_not_failed",
                details={"refund_id": refund_id, "status": failed.status},
            )
        request_id = answered_request_id
        if request_id is not None:
            raise Conflict(
                "this refund answered a refund request, which failed with it: a new refund request "
                "for that money is the way to pay it out",
                code="refund_has_request",
                details={"refund_id": refund_id, "request_id": request_id},
            )
        retry = db.session.scalar(select(Refund).where(Refund.retry_of_refund_id == refund_id))
        if retry is not None:
            raise Conflict(
                f"this refund was retried already, by refund #{retry.id} ({retry.status})"
                + ("; retry that one" if retry.status == "failed" else ""),
                code="refund_already_retried",
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
        payment = _lock(row.payment_id)
        row = db.session.scalar(
            select(Refund)
            .where(Refund.id == refund_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )  # as a webhook may have left it
        _record(payment, "refund", result, row.amount, refund_id=row.id)
        row.gateway_reference = row.gateway_reference or result.reference
        if row.status != "pending":  # a webhook settled it while the gateway was answering
            return row
        if result.status == FAILED:
            _fail_refund(row, payment, result.error_code)
        elif result.status == SUCCEEDED:
            _complete_refund(row, payment)
        return row  # pending: the gateway's webhook settles it (refund.updated, charge.refunded)


def _complete_refund(row: Refund, payment: Payment) -> None:
    """A refund the gateway paid out (inside the caller's transaction, the payment row locked)."""
    row.status = "completed"
    db.session.flush()
    done = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment.id, Refund.status == "completed"
        )
    )
    payment.status = (
        "refunded" if Decimal(done) >= payment.amount_captured else "partially_refunded"
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


def _fail_refund(row: Refund, payment: Payment, code: str | None) -> None:
    """A refund the gateway refused: its reserved amount can be refunded again."""
    row.status, row.failure_code = "failed", (code or "refund_failed")[:64]
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
        status = {"failed": FAILED, "pending": PENDING}.get(update_.status, SUCCEEDED)
        _record(
            payment,
            "webhook",
            GatewayResult(status, reference=event.reference, raw=event.raw),
            amount,
            refund_id=row.id if row is not None else None,
        )
        if update_.status == "pending" or row is None or row.status != "pending":
            continue
        row.gateway_reference = row.gateway_reference or update_.reference
        if update_.status == "completed":
            _complete_refund(row, payment)
        else:
            _fail_refund(row, payment, update_.failure_code)
        changed = True
    return changed


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
            payment = _get(payment_id)
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
            out.append(_get(payment_id))
    return out


# --- the storefront API's use cases ------------------------------------------------------------


def is_staff(user) -> bool:
    return user is not None and bool(user.role_names & STAFF_ROLES)


def _visible_payment(payment_id: int, user, guest_token: str | None) -> Payment:
    """The caller's payment (admins: any of the tenant's); another's answers 404."""
    payment = db.session.scalar(select(Payment).where(Payment.id == payment_id))
    if payment is not None:
        if is_staff(user):
            return payment
        if user is not None and payment.customer_user_id == user.id:
            return payment
        if user is None and guest_token and payment.guest_token_hash == hash_token(guest_token):
            return payment
    raise NotFound("no such payment", details={"payment_id": payment_id})


def latest_payment_of(order_id: int, user, guest_token: str | None) -> Payment | None:
    """The caller's latest payment of `order_id` (a customer's, or the guest's whose token made it);
    None when it has none. Orders pays an order by its id with it (app.orders.pay_later.pay_order)."""
    stmt = select(Payment).where(Payment.order_id == order_id).order_by(Payment.id.desc()).limit(1)
    if user is not None:
        stmt = stmt.where(Payment.customer_user_id == user.id)
    elif guest_token:
        stmt = stmt.where(Payment.guest_token_hash == hash_token(guest_token))
    else:
        stmt = stmt.where(false())
    return db.session.scalar(stmt)


def replayed_payment_id(
    user, guest_token: str | None, idempotency_key: str | None, order_id: int
) -> int | None:
    """The payment of `order_id` that this caller's `idempotency_key` already paid through
    process_payment, if any: a replay of that request answers it (process_payment returns it
    without charging again), whatever the order's status has become since."""
    if not idempotency_key:
        return None
    scope = _scope(user.id if user else None, hash_token(guest_token) if guest_token else None)
    row = db.session.scalar(
        select(PaymentIdempotencyKey).where(
            PaymentIdempotencyKey.scope == scope,
            PaymentIdempotencyKey.key == idempotency_key,
            PaymentIdempotencyKey.operation == "process",
        )
    )
    if row is None or row.payment_id is None:
        return None
    return (
        row.payment_id
        if db.session.scalar(select(Payment.order_id).where(Payment.id == row.payment_id))
        == order_id
        else None
    )


def process_payment(
    user,
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
        payment = _visible_payment(payment_id, user, guest_token)
        if is_staff(user):
            raise PermissionDenied("staff do not pay customers' payments")
        if idempotency_key:
            scope = _scope(
                user.id if user else None, hash_token(guest_token) if guest_token else None
            )
            earlier = _claim_key(
                scope,
                idempotency_key,
                "process",
                _request_hash(
                    {
                        "payment_id": payment_id,
                        "confirm": confirm,
                        "details": _details_fingerprint(details),
                    }
                ),
            )
            if earlier is not None:
                return _get(payment_id)
            _set_key_result(scope, idempotency_key, payment_id=payment_id)
        gateway, status, reference = payment.gateway, payment.status, payment.gateway_reference
        if not confirm and gateway != "manual":
            _check_details(gateway, details)
    if confirm:
        _authorize(payment_id, details, confirming=True)
    elif gateway == "manual":
        if status in ("pending", "failed") and not reference:
            _authorize(payment_id, {})
        elif status not in ("pending",):
            raise Conflict(
                f"a {status} payment cannot be paid",
                code="invalid_payment_status",
                details={"payment_id": payment_id, "status": status},
            )
    else:
        _authorize(payment_id, details)
    with transaction():
        return _get(payment_id)


def refund_for_api(
    user, *, payment_id: int, amount: Decimal, reason: str | None, idempotency_key: str | None
) -> Refund:
    with transaction():
        _visible_payment(payment_id, user, None)
    refund_row = refund(
        payment_id, amount, reason, idempotency_key=idempotency_key, user_id=user.id
    )
    with transaction():
        return db.session.get(Refund, refund_row.id)


def list_transactions(
    user, *, payment_id: int | None, order_id: int | None, page: int, page_size: int
) -> dict:
    """Staff: every transaction of the tenant; a customer: those of their own payments."""
    with transaction():
        stmt = select(PaymentTransaction)
        if payment_id is not None:
            _visible_payment(payment_id, user, None)
            stmt = stmt.where(PaymentTransaction.payment_id == payment_id)
        if order_id is not None:
            stmt = stmt.where(PaymentTransaction.order_id == order_id)
        if not is_staff(user):
            stmt = stmt.where(PaymentTransaction.customer_user_id == user.id)
        return paginate(stmt.order_by(PaymentTransaction.id.desc()), page, page_size)


# --- webhooks ----------------------------------------------------------------------------------

_WEBHOOK_MOVES = {
    "captured": ("pending", "requires_action", "authorized"),
    "authorized": ("pending", "requires_action"),
    "failed": ("pending", "requires_action"),
    "voided": VOIDABLE,
}


def handle_webhook(gateway_code: str, payload: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """Verify the signature (400 otherwise), then apply the event once: a replay (same gateway and
    event id) changes nothing and answers `duplicate`."""
    with transaction():
        gateway = _gateway_for(gateway_code)
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
            return {"status": "duplicate", "event_id": event.event_id}
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
            return {"status": "ignored", "event_id": event.event_id}
        seen.payment_id = payment.id
        if event.refunds:
            settled = _settle_refunds(payment, event)
            return {"status": "processed" if settled else "recorded", "event_id": event.event_id}
        amount = event.amount if event.amount is not None else payment.amount
        amount = min(amount, payment.amount)
        _record(
            payment,
            "webhook",
            GatewayResult(
                SUCCEEDED if event.outcome != "failed" else FAILED,
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
            return {"status": "recorded", "event_id": event.event_id}
        if outcome == "captured":
            payment.status, payment.amount_authorized, payment.amount_captured = (
                "captured",
                payment.amount,
                amount,
            )
            _event("payment.captured", payment, amount)
        elif outcome == "authorized":
            payment.status, payment.amount_authorized = "authorized", payment.amount
            _event("payment.authorized", payment, payment.amount)
        elif outcome == "failed":
            payment.status, payment.failure_code = "failed", "webhook_failed"
            _event("payment.failed", payment, payment.amount)
        else:
            payment.status = "voided"
            _event("payment.voided", payment, payment.amount)
        return {"status": "processed", "event_id": event.event_id}
