"""Idempotency-Key for payments and refunds, through the one mechanism (app.events.idempotency,
domain "payments"): a key belongs to its caller (a user, a guest, or the system); the same key and
body give the first result (no second charge or refund), the same key with another body is a 409
idempotency_key_reused. What is payments' own: the caller's scope, what of the card details
identifies a request, a key of at most 128 characters, and a key whose first request is still in
flight answering 409 payment_in_progress."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.core.crypto import hash_token
from app.events import idempotency
from app.events.idempotency import IdempotencyKey, KeyReleased
from app.extensions import db
from app.payments.ledger import PaymentInProgress
from app.payments.models import Payment
from app.security.actor import Actor

DOMAIN = "payments"
KEY_MAX_LENGTH = 128


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
    scope: str,
    key: str,
    operation: str,
    request_hash: str,
    *,
    write: Callable[[], dict[str, int]] | None = None,
    savepoint: bool = True,
) -> IdempotencyKey | None:
    """Take `key` for this request inside the current transaction (idempotency.claim). Returns the
    earlier row when the same request used it already (the caller answers with its result); 409
    for another request, or while the first one is still uncommitted."""
    idempotency.check_key(key, KEY_MAX_LENGTH)
    try:
        row, replay = idempotency.claim(
            DOMAIN, scope, key, operation, request_hash, write=write, savepoint=savepoint
        )
    except KeyReleased:  # pragma: no cover - the winner rolled back meanwhile; let the caller retry
        raise PaymentInProgress("this Idempotency-Key is being used by another request") from None
    return row if replay else None


def set_key_result(scope: str, key: str | None, **ids: int) -> None:
    idempotency.set_result(DOMAIN, scope, key, **ids)


def add_with_key(
    scope: str, key: str, request_hash: str, payment: Payment, *, savepoint: bool = True
) -> IdempotencyKey | None:
    """Write `payment` with its idempotency key (its payment_id the key's result) in one savepoint;
    like claim_key, returns the earlier key row when the same request used the key, 409 for
    another request."""

    def write() -> dict[str, int]:
        db.session.add(payment)
        db.session.flush()
        return {"payment_id": payment.id}

    return claim_key(scope, key, "payment", request_hash, write=write, savepoint=savepoint)


def replayed_payment_id(
    actor: Actor | None, guest_token: str | None, idempotency_key: str | None, order_id: int
) -> int | None:
    """The payment of `order_id` that this caller's `idempotency_key` already paid through
    process_payment, if any: a replay of that request answers it (process_payment returns it
    without charging again), whatever the order's status has become since."""
    if not idempotency_key:
        return None
    scope = scope_of(
        actor.user_id if actor else None, hash_token(guest_token) if guest_token else None
    )
    row = idempotency.find(DOMAIN, scope, idempotency_key, "process")
    payment_id = row.result_id("payment_id") if row is not None else None
    if payment_id is None:
        return None
    return (
        payment_id
        if db.session.scalar(select(Payment.order_id).where(Payment.id == payment_id)) == order_id
        else None
    )
