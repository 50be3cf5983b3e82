"""Idempotency-Key, one mechanism for every domain that takes one (checkout's POST /orders/,
payments' charges, payment retries and refunds).

A key belongs to its caller (`scope`: "user:<id>", "guest:<token hash>", "system") within one
`domain` ("checkout", "payments"): (tenant, domain, scope, key) is unique in `idempotency_keys`.
`claim()` takes the key for a request inside the current transaction (a savepoint), so the key
commits or rolls back with the work it stands for:

- a new key: the row is written and returned (`replay` False); the caller records what it made
  (`row.result`, e.g. {"order_id": 7}) in the same transaction;
- the same key with the same request (operation and `request_hash`): the earlier row is returned
  (`replay` True) and the caller answers with the result it names, doing nothing again;
- the same key with another request: 409 idempotency_key_reused;
- a second request while the first is uncommitted waits on the unique key (InnoDB) until the first
  commits (then it replays) or rolls back (then its own insert wins); when the first rolled back
  between the clash and the read, `KeyReleased` is raised: the caller retries (checkout) or answers
  that the request is in progress (payments).

`request_hash()` is the one fingerprint of a request body: sha256 of its canonical JSON.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask_appbuilder import Model
from sqlalchemy import JSON, Integer, String, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.core.errors import Conflict, ValidationError
from app.core.types import UTCDateTime, utcnow
from app.events.errors import EventsError
from app.extensions import db
from app.tenants.models import TenantScoped

KEY_MAX_LENGTH = 255


class IdempotencyKey(TenantScoped, Model):
    """An Idempotency-Key a caller used in one domain for one request; `result` names what that
    request made (ids), so a replay answers it."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "domain", "scope", "key", name="uq_idempotency_keys_domain_scope_key"
        ),
    )
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(16), nullable=False)
    # "user:<id>", "guest:<token hash>" or "system"
    scope: Mapped[str] = mapped_column(String(80), nullable=False)
    key: Mapped[str] = mapped_column(String(KEY_MAX_LENGTH), nullable=False)
    operation: Mapped[str] = mapped_column(String(16), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # the ids the first request made: {"order_id": ...}, {"payment_id": ..., "refund_id": ...}
    result: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    def result_id(self, name: str) -> int | None:
        return (self.result or {}).get(name)


class IdempotencyKeyReused(Conflict):
    code = EventsError.IDEMPOTENCY_KEY_REUSED


class KeyReleased(Exception):
    """The request that held the key rolled back between the clash and the read: the key is free
    again (retry), or the caller answers that its request is still in progress."""


def request_hash(data: dict[str, Any]) -> str:
    """The fingerprint of a request body: sha256 of its canonical JSON (keys sorted)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def check_key(key: str | None, max_length: int = KEY_MAX_LENGTH) -> None:
    if not key or len(key) > max_length:
        raise ValidationError(
            "invalid Idempotency-Key",
            details={"Idempotency-Key": [f"1 to {max_length} characters"]},
        )


def claim(
    domain: str,
    scope: str,
    key: str,
    operation: str,
    fingerprint: str,
    *,
    write: Callable[[], dict[str, int]] | None = None,
    savepoint: bool = True,
) -> tuple[IdempotencyKey, bool]:
    """Take `key` for this request in the current transaction. Returns (row, replay): the new row
    (replay False), or the earlier row of the same request (replay True, the caller answers its
    `result`). 409 idempotency_key_reused when the key was used with another request.
    `write()`: the caller's own rows, written in the same savepoint before the key; what it returns
    is the key's result. `savepoint=False`: the caller knows the key is new (a clash would fail
    its whole transaction)."""

    def add() -> IdempotencyKey:
        result = write() if write is not None else {}
        row = IdempotencyKey(
            domain=domain,
            scope=scope,
            key=key,
            operation=operation,
            request_hash=fingerprint,
            result=result,
        )
        db.session.add(row)
        return row

    if not savepoint:
        return add(), False
    try:
        with db.session.begin_nested():
            row = add()
        return row, False
    except IntegrityError:
        pass
    existing = db.session.scalar(
        select(IdempotencyKey)
        .where(
            IdempotencyKey.domain == domain,
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
        )
        .execution_options(populate_existing=True)
    )
    if existing is None:  # the first request rolled back meanwhile: the key is free again
        raise KeyReleased()
    if existing.operation != operation or existing.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with another request", details={"Idempotency-Key": key}
        )
    return existing, True


def set_result(domain: str, scope: str, key: str | None, **ids: int) -> None:
    """Record what the request holding `key` made (one UPDATE, no load)."""
    if key:
        db.session.execute(
            update(IdempotencyKey)
            .where(
                IdempotencyKey.domain == domain,
                IdempotencyKey.scope == scope,
                IdempotencyKey.key == key,
            )
            .values(result=ids)
            .execution_options(synchronize_session=False)
        )


def find(domain: str, scope: str, key: str, operation: str) -> IdempotencyKey | None:
    """The row of `key` if this caller used it for `operation` (no claim)."""
    return db.session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.domain == domain,
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
            IdempotencyKey.operation == operation,
        )
    )
