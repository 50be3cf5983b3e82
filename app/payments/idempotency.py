"""Idempotency-Key for payments and refunds: a key belongs to its caller (a user, a guest, or the
system); the same key and body give the first result (no second charge or refund), the same key
with another body is a 409 idempotency_key_reused."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.core.crypto import hash_token
from app.core.errors import Conflict, ValidationError
from app.extensions import db
from app.payments.ledger import PaymentInProgress
from app.payments.models import Payment, PaymentIdempotencyKey


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


def hash_request(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def details_fingerprint(details: dict[str, Any] | None) -> dict[str, Any]:
    """What identifies the payment details in an idempotency hash, without the card number."""
    if not details:
        return {}
    number = str(details.get("card_number") or "")
    return {
        "card": number[-4:] if number else None,
        "pm": details.get("payment_method"),
        "exp": [details.get("exp_month"), details.get("exp_year")],
    }


def scope_of(user_id: int | None, guest_token_hash: str | None) -> str:
    if user_id is not None:
        return f"user:{user_id}"
    if guest_token_hash:
        return f"guest:{guest_token_hash[:40]}"
    return "system"


def claim_key(
    scope: str, key: str, operation: str, request_hash: str
) -> PaymentIdempotencyKey | None:
    """Take `key` for this request inside the current transaction. Returns the earlier row when the
    same request used it already (the caller answers with its result); 409 for another request."""
    check_key(key)
    try:
        with db.session.begin_nested():
            db.session.add(
                PaymentIdempotencyKey(
                    scope=scope, key=key, operation=operation, request_hash=request_hash
                )
            )
        return None
    except IntegrityError:
        return earlier_use(scope, key, operation, request_hash)


def check_key(key: str | None) -> None:
    if not key or len(key) > 128:
        raise ValidationError(
            "invalid Idempotency-Key", details={"Idempotency-Key": ["1 to 128 characters"]}
        )


def earlier_use(scope: str, key: str, operation: str, request_hash: str) -> PaymentIdempotencyKey:
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


def set_key_result(scope: str, key: str | None, **ids: int) -> None:
    if key:
        db.session.execute(
            update(PaymentIdempotencyKey)
            .where(PaymentIdempotencyKey.scope == scope, PaymentIdempotencyKey.key == key)
            .values(**ids)
            .execution_options(synchronize_session=False)
        )


def add_with_key(
    scope: str, key: str, request_hash: str, payment: Payment, *, savepoint: bool = True
) -> PaymentIdempotencyKey | None:
    """Write `payment` with its idempotency key (payment_id set) in one savepoint; like claim_key,
    returns the earlier key row when the same request used the key, 409 for another request."""
    check_key(key)

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
        return earlier_use(scope, key, "payment", request_hash)


def replayed_payment_id(
    user, guest_token: str | None, idempotency_key: str | None, order_id: int
) -> int | None:
    """The payment of `order_id` that this caller's `idempotency_key` already paid through
    process_payment, if any: a replay of that request answers it (process_payment returns it
    without charging again), whatever the order's status has become since."""
    if not idempotency_key:
        return None
    scope = scope_of(user.id if user else None, hash_token(guest_token) if guest_token else None)
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
