"""Audit trail: every ORM create, update and delete made in a request (admin or API), a job or
an audited command writes an audit row in the same transaction, with who, tenant, what, the
values before and after, when and from where. Secrets are masked.

It hangs off the session's after_flush (rows computed there) and before_commit (all the rows of
the transaction written in one INSERT), so no view or service can forget it; app/hooks.py
installs those listeners, with every other session hook.

A row belongs to the tenant of the row it records; a tenant-less row (a Super Admin account or
session) and every row a Super Admin writes have no tenant: only Super Admins see them.

A step that changes no audited row but must be on record (a staff note on an order's timeline,
itself a row of a ledger that is not audited) adds its row with `record_action`, which goes
through the same actor, tenant and transaction rules as the hook's rows.

Sign-ins are rows of their own (`record_login`: action "login", the user as actor and entity,
from where), written by the HTML login (admin/security.py) and the API login
(app.security.auth.login). What a login or a refused attempt updates on the user (FAB's
login_count, last_login, fail_login_count; the lockout) is bookkeeping the hook is told to skip
(`not_audited`), not an anonymous "update" of the user.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from flask import g, has_request_context, request
from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session

from app.core.crypto import EncryptedString
from app.core.tenancy import current_tenant_id
from app.core.types import utcnow
from app.security.models import AuditLog

_SECRET_WORDS = ("password", "secret", "token", "account_number", "api_key", "credential")


@dataclass(frozen=True)
class AuditActor:
    actor_id: int | None
    actor: str
    source: str  # admin, api, job, cli
    ip: str | None = None
    user_agent: str | None = None
    path: str | None = None
    # a Super Admin (a user with no tenant): its rows get no tenant, so no tenant Admin sees them
    tenantless: bool = False


_actor: ContextVar[AuditActor | None] = ContextVar("audit_actor", default=None)
_NOT_AUDITED = AuditActor(actor_id=None, actor="", source="")  # the hook writes nothing


@contextmanager
def audit_as(actor: AuditActor) -> Iterator[None]:
    """Audit the writes of a job or command as `actor`."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def not_audited() -> AbstractContextManager[None]:
    """The changes flushed inside the block write no audit row: sign-in bookkeeping (login counts,
    failed attempts, lockouts, refresh-token rotation), recorded by `record_login` or by the
    session rows themselves."""
    return audit_as(_NOT_AUDITED)


def record_login(session: Session, user, *, after: dict | None = None) -> None:
    """Add the audit row of a successful sign-in of `user` to `session` (written with its commit):
    action "login", the user as actor and entity, the user's tenant (none for a Super Admin), and
    where from (IP, user agent, path and source of the request, when there is one)."""
    where = _where_from() if has_request_context() else None
    session.add(
        AuditLog(
            tenant_id=user.tenant_id,
            actor_id=user.id,
            actor=user.username,
            action="login",
            entity=type(user).__name__,
            entity_id=str(user.id),
            before=None,
            after=after,
            ip=where.ip if where else None,
            user_agent=where.user_agent if where else None,
            source=where.source if where else None,
            request_path=where.path if where else None,
        )
    )


def record_action(session: Session, obj, action: str, *, after: dict) -> None:
    """An audit row of `action` (at most 16 characters: "note") on `obj` (its class and id name the
    entity), with `after` as what was done, by the current audit actor (the request's user, a job's
    or an audited command's), written with the transaction's other audit rows (and dropped if it
    rolls back). Without an audit actor nothing is written, as for the hook's rows."""
    actor = _current_actor()
    if actor is None:
        return
    row = _row(actor, obj, action, inspect(obj).mapper, None, after, utcnow())
    if session.info.get(_WRITE_NOW):
        session.connection().execute(insert(AuditLog.__table__), [row])
        return
    session.info.setdefault(_PENDING, []).append((session.get_nested_transaction(), [row]))


def _request_actor() -> AuditActor | None:
    if g.get("audit_disabled"):
        return None
    return _where_from()


def _where_from() -> AuditActor:
    """The request's signed-in user (or "anonymous") and where it comes from."""
    user = g.get("user")
    if user is not None and hasattr(user, "_get_current_object"):
        user = user._get_current_object()
    authenticated = bool(user is not None and getattr(user, "is_authenticated", False))
    source = "api" if request.path.startswith("/api/") else "admin"
    return AuditActor(
        actor_id=user.id if authenticated else None,
        actor=user.username if authenticated else "anonymous",
        source=source,
        ip=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:255] or None,
        path=mask_secrets_in_path(request.full_path)[:2000],
        tenantless=authenticated and getattr(user, "tenant_id", 0) is None,
    )


_TOKEN_IN_PATH = re.compile(r"(/(?:verify-email|validate-reset-token|reset-password)/)[^/?]+")


def mask_secrets_in_path(path: str) -> str:
    """One-time tokens travel in some URL paths (the spec's verify-email/<token>/): never store them."""
    return _TOKEN_IN_PATH.sub(r"\1***", path)


def _current_actor() -> AuditActor | None:
    actor = _actor.get()
    if actor is _NOT_AUDITED:
        return None
    if actor is not None:
        return actor
    if has_request_context():
        return _request_actor()
    return None


def _is_secret(column) -> bool:
    name = column.key.lower()
    return isinstance(column.type, EncryptedString) or any(word in name for word in _SECRET_WORDS)


def _plain(value):
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


_secret_keys: dict = {}  # mapper -> the keys of its secret columns (mappers do not change at run time)


def _secrets_of(mapper) -> frozenset:
    keys = _secret_keys.get(mapper)
    if keys is None:
        keys = _secret_keys[mapper] = frozenset(
            c.key for c in mapper.column_attrs if _is_secret(c.columns[0])
        )
    return keys


def _snapshot(obj, mapper) -> dict:
    out = {}
    secret = _secrets_of(mapper)
    for column in mapper.column_attrs:
        value = getattr(obj, column.key, None)
        out[column.key] = "***" if (value is not None and column.key in secret) else _plain(value)
    return out


def _changes(obj, mapper) -> tuple[dict, dict]:
    state = inspect(obj)
    before, after = {}, {}
    for column in mapper.column_attrs:
        hist = state.attrs[column.key].history
        if not hist.has_changes():
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else None
        if old == new:
            continue
        secret = _is_secret(column.columns[0])
        before[column.key] = "***" if secret and old is not None else _plain(old)
        after[column.key] = "***" if secret and new is not None else _plain(new)
    return before, after


def _identity(obj) -> str | None:
    ident = inspect(obj).identity
    if not ident:
        return None
    return ",".join(str(part) for part in ident)


def is_audited(obj) -> bool:
    """Whether writing `obj` makes an audit row: every model unless it says `__audit__ = False`
    (a ledger that is itself the record), and never the audit log itself."""
    return getattr(type(obj), "__audit__", True) and not isinstance(obj, AuditLog)


def collect_rows(session: Session, flush_context) -> None:
    """after_flush: the audit rows of what this flush wrote (values of this moment), kept for the
    commit; a flush during the commit itself (after write_rows) writes its rows at once."""
    rows = _audit_rows(session)
    if not rows:
        return
    if session.info.get(_WRITE_NOW):  # a flush during the commit itself, after before_commit
        session.connection().execute(insert(AuditLog.__table__), _final(rows))
        return
    session.info.setdefault(_PENDING, []).append((session.get_nested_transaction(), rows))


def write_rows(session: Session) -> None:
    """before_commit: flush what is left, then write every audit row of the transaction in one
    INSERT."""
    if session.in_nested_transaction():  # a savepoint's release: its rows wait for the real commit
        return
    session.flush()  # what the commit would flush: its rows join the batch
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.connection().execute(
            insert(AuditLog.__table__), _final([row for _, rows in pending for row in rows])
        )
    session.info[_WRITE_NOW] = True


def write_late_rows(session: Session) -> None:
    """after_commit: only when the outer transaction was committed with a savepoint still open
    (its rows came after before_commit): never drop them, write them on a connection of their
    own."""
    pending = None if session.in_nested_transaction() else session.info.pop(_PENDING, None)
    if pending:
        with session.get_bind().begin() as conn:
            conn.execute(
                insert(AuditLog.__table__), _final([row for _, rows in pending for row in rows])
            )


def drop_rolled_back(session: Session, previous_transaction) -> None:
    """after_soft_rollback: rows of changes made inside the transaction (or savepoint) that was
    rolled back go too."""
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [
            (tx, rows) for tx, rows in pending if not _within(tx, previous_transaction)
        ]
    session.info.pop(_WRITE_NOW, None)


def end_transaction(session: Session, transaction) -> None:
    """after_transaction_end: the commit is over; at the outermost transaction's end nothing of
    it is kept."""
    session.info.pop(_WRITE_NOW, None)
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


# Audit rows are computed at each flush (the values of that moment) and written with ONE
# multi-row INSERT when the transaction (or a savepoint) commits, instead of one INSERT per flush.
_PENDING = "audit_pending_rows"
_WRITE_NOW = "audit_write_now"


def _final(rows: list[dict]) -> list[dict]:
    """The rows to insert: a created row's id is known once its flush is over (in after_flush its
    identity is not set yet), so it is read now."""
    out = []
    for row in rows:
        obj = row.pop("_created", None)
        if obj is not None and row["entity_id"] is None:
            row["entity_id"] = _identity(obj)
        out.append(row)
    return out


def _within(tx, rolled_back) -> bool:
    """Was a row collected under savepoint `tx` (None: the outer transaction) undone by rolling
    back `rolled_back`?"""
    if rolled_back.parent is None:
        return True
    while tx is not None:
        if tx is rolled_back:
            return True
        tx = tx.parent
    return False


def _tenant_of(obj, actor: AuditActor) -> int | None:
    """The tenant a row belongs to: none when a Super Admin wrote it; else the tenant of the row it
    records (none for a tenant-less one: a Super Admin's account or session), or the current
    tenant for a table without tenants."""
    if actor.tenantless:
        return None
    if "tenant_id" in inspect(obj).mapper.column_attrs:
        return obj.tenant_id
    return current_tenant_id()


def _audit_rows(session: Session) -> list[dict]:
    actor = _current_actor()
    if actor is None:
        return []
    rows = []
    now = utcnow()
    groups = (("create", session.new), ("update", session.dirty), ("delete", session.deleted))
    for action, objects in groups:
        for obj in objects:
            if not is_audited(obj):
                continue
            mapper = inspect(obj).mapper
            if action == "create":
                before, after = None, _snapshot(obj, mapper)
            elif action == "delete":
                before, after = _snapshot(obj, mapper), None
            else:
                if not session.is_modified(obj, include_collections=False):
                    continue
                before, after = _changes(obj, mapper)
                if not after and not before:
                    continue
            row = _row(actor, obj, action, mapper, before, after, now)
            if action == "create":
                row["_created"] = obj
            rows.append(row)
    return rows


def _row(actor: AuditActor, obj, action: str, mapper, before, after, now) -> dict:
    return {
        "tenant_id": _tenant_of(obj, actor),
        "actor_id": actor.actor_id,
        "actor": actor.actor,
        "action": action,
        "entity": mapper.class_.__name__,
        "entity_id": _identity(obj),
        "before": before,
        "after": after,
        "ip": actor.ip,
        "user_agent": actor.user_agent,
        "source": actor.source,
        "request_path": actor.path,
        "created_at": now,
    }
