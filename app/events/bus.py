"""Domain events: publish into the outbox inside the transaction, dispatch after it commits.

    publish("inventory.stock_changed", {...}, aggregate="stock_level", aggregate_id=12)

Nothing leaves the process until the transaction commits. After commit the new outbox rows
are dispatched: each subscriber's task is handed to the task runner (RQ in production, run
in-process in the embedded default). A row is marked dispatched only when every subscriber's
task was accepted; if Redis is down the row stays pending and `redeliver_pending()` (a cron
job, and `flask events redeliver`) hands it over later. Consumers run through
`consume_once()`, so a redelivered event is applied once.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import Flask, current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.tenancy import current_tenant_id, tenant_scope, unscoped
from app.core.types import utcnow
from app.events.models import OutboxEvent, ProcessedEvent
from app.extensions import db

log = logging.getLogger(__name__)

CLAIM_SECONDS = 60
BACKOFF_SECONDS = (5, 15, 60, 300, 900, 3600)
# A consumer's job handles one event: a few rows, a mail, an index update. Its timeout is short
# because `flask worker` runs jobs in its own process, where RQ can only mark a job as alive for
# its whole timeout + 60 s: a worker killed mid-job leaves the job to RQ's abandoned-job cleanup
# after that long (RQ's 180 s default: 4 min; this: 90 s; tests/faults/test_worker_kill.py). A
# consumer that times out is retried by the runner, and applies its event once (consume()).
EVENT_JOB_TIMEOUT = 30


class TaskRunner(Protocol):
    """What the jobs layer provides: hand a task to a queue (or run it now)."""

    def enqueue(
        self,
        task: str,
        *args: Any,
        queue: str = "default",
        job_id: str | None = None,
        timeout: int | None = None,
    ) -> None: ...


@dataclass(frozen=True)
class Subscriber:
    consumer: str  # stable name; (event, consumer) is applied once
    handler: Callable[[OutboxEvent], None]
    queue: str = "default"


@dataclass
class EventBus:
    runner: TaskRunner | None = None
    subscribers: dict[str, list[Subscriber]] = field(default_factory=dict)
    # the task every subscriber runs: it loads the event and calls consume()
    task: str = "jobs.tasks.handle_event"

    def subscribe(
        self, event_name: str, consumer: str, handler: Callable, queue: str = "default"
    ) -> None:
        subs = self.subscribers.setdefault(event_name, [])
        if any(s.consumer == consumer for s in subs):
            return
        subs.append(Subscriber(consumer, handler, queue))

    def handler_for(self, consumer: str) -> Callable | None:
        for subs in self.subscribers.values():
            for sub in subs:
                if sub.consumer == consumer:
                    return sub.handler
        return None


def get_bus(app: Flask | None = None) -> EventBus:
    return (app or current_app).extensions["event_bus"]


def publish(
    name: str,
    payload: dict | None = None,
    *,
    aggregate: str | None = None,
    aggregate_id: Any = None,
    tenant_id: int | None = None,
) -> OutboxEvent:
    """Add an event to the current transaction. It is dispatched only if the transaction commits."""
    row = OutboxEvent(
        name=name,
        payload=payload or {},
        aggregate=aggregate,
        aggregate_id=None if aggregate_id is None else str(aggregate_id),
        tenant_id=tenant_id if tenant_id is not None else current_tenant_id(),
    )
    db.session.add(row)
    return row


# --- after-commit dispatch ------------------------------------------------------------------

# The three session listeners below are installed by app/hooks.py, with every other session hook.


def remember_flushed(session: Session, flush_context) -> None:
    """after_flush: the outbox rows this flush wrote ({id: name}), to dispatch after the commit."""
    new = {obj.id: obj.name for obj in session.new if isinstance(obj, OutboxEvent)}
    if new:
        session.info.setdefault("outbox_ids", {}).update(new)


def dispatch_after_commit(session: Session) -> None:
    """after_commit: hand the transaction's events to their subscribers, with the app that is
    current then (inside dispatch_after_block(): when the block ends). SQLAlchemy also calls it
    when a savepoint is released: those events wait for the real commit."""
    if session.in_nested_transaction():
        return
    events = session.info.pop("outbox_ids", None)
    if not events:
        return
    held = session.info.get(_HELD)
    if held is not None:  # inside dispatch_after_block(): dispatched together at its end
        held.update(events)
        return
    # dispatched once the transaction has ended and handed its connection back to the pool
    # (dispatch_after_transaction_end): the embedded runner consumes an event right away, and a
    # consumer that publishes commits in turn; run here, every level of that chain would hold a
    # pooled connection (8 concurrent reviews, 3 levels deep, needed 24 of 15)
    session.info.setdefault(_COMMITTED, {}).update(events)


def dispatch_after_transaction_end(session: Session, transaction) -> None:
    """after_transaction_end: the committed events of the session's outermost transaction, now
    that its connection is back in the pool (SQLAlchemy ends a transaction after releasing it)."""
    if transaction.parent is not None:
        return
    events = session.info.pop(_COMMITTED, None)
    if events:
        _dispatch_committed(events)


def forget_on_rollback(session: Session) -> None:
    """after_rollback: the events of a transaction that did not commit are never dispatched. A
    savepoint's rollback keeps the list: the outer transaction's events are still to dispatch,
    and the savepoint's own rows are gone, so dispatching their ids finds nothing."""
    if session.in_nested_transaction():
        return
    session.info.pop("outbox_ids", None)


_HELD = "outbox_held"
_COMMITTED = "outbox_committed"


def _dispatch_committed(events: dict[int, str]) -> None:
    target = _app_of(db.session)
    if target is None:
        return
    # A fresh app context gives a fresh session: the committing one may not run SQL now.
    with target.app_context():
        try:
            dispatch_new(events)
        except Exception:  # never let a dispatch problem break the caller; redelivery catches up
            log.exception("outbox dispatch failed; events stay pending for redelivery")


@contextmanager
def dispatch_after_block() -> Iterator[None]:
    """Events committed by the several transactions of one use case (e.g. a checkout: the order,
    then the payment's outcome) are dispatched together when the block ends (also when it raises),
    in one batch, instead of once per commit. Nested blocks join the outermost one."""
    session = db.session
    if _HELD in session.info:
        yield
        return
    session.info[_HELD] = {}
    try:
        yield
    finally:
        held = session.info.pop(_HELD, None)
        if held:
            _dispatch_committed(held)


def _app_of(session: Session) -> Flask | None:
    try:
        return current_app._get_current_object()
    except RuntimeError:
        return None


def _claim(ids: list[int], now: dt.datetime) -> list[OutboxEvent]:
    """Claim the given events that nobody dispatched or holds (one UPDATE, one commit) and return
    them in id order. The claim value is whole seconds (DATETIME precision), so a concurrent
    claimer in the same second may get some of the same rows: harmless, the job ids are
    deterministic and consumers idempotent; the claim only saves duplicate work."""
    claim = (now + dt.timedelta(seconds=CLAIM_SECONDS)).replace(microsecond=0)
    db.session.execute(
        update(OutboxEvent)
        .where(
            OutboxEvent.id.in_(ids),
            OutboxEvent.dispatched_at.is_(None),
            or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < now),
        )
        .values(claimed_until=claim)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return list(
        db.session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.id.in_(ids),
                OutboxEvent.dispatched_at.is_(None),
                OutboxEvent.claimed_until == claim,
            )
            .order_by(OutboxEvent.id)
        )
    )


def dispatch(ids: list[int]) -> int:
    """Hand the given events to their subscribers, in id order. Returns how many were dispatched.

    A batch costs two commits whatever its size: the claim, then one UPDATE marking every event
    whose jobs were accepted. An event the queue refused keeps its own backoff; when the queue
    is unreachable the rest of the batch is released for the redelivery job."""
    bus = get_bus()
    if not ids:
        return 0
    sent: list[int] = []
    with unscoped():
        now = utcnow()
        rows = _claim(sorted(set(ids)), now)
        for index, row in enumerate(rows):
            try:
                for sub in bus.subscribers.get(row.name, []):
                    bus.runner.enqueue(
                        bus.task,
                        row.id,
                        sub.consumer,
                        queue=sub.queue,
                        job_id=_job_id(row.id, sub.consumer),
                        timeout=EVENT_JOB_TIMEOUT,
                    )
            except Exception as exc:  # e.g. Redis unreachable: keep it pending, back off
                attempt = row.attempts + 1
                delay = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS)) - 1]
                row.attempts = attempt
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                row.claimed_until = None
                row.next_attempt_at = now + dt.timedelta(seconds=delay)
                log.warning("event %s not dispatched (%s); will retry", row.id, row.last_error)
                if _is_connection_error(exc):
                    for later in rows[
                        index + 1 :
                    ]:  # would fail the same way: free them for redelivery
                        later.claimed_until = None
                    break
                continue
            sent.append(row.id)
        if sent:
            db.session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(sent))
                .values(
                    dispatched_at=utcnow(), claimed_until=None, attempts=OutboxEvent.attempts + 1
                )
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
    return len(sent)


def dispatch_new(events: dict[int, str]) -> int:
    """Hand events this process has just committed ({id: name}) to their subscribers, in id order,
    with no claim round trip: nobody else dispatches them yet (redelivery only takes events older
    than OUTBOX_REDELIVER_AFTER_SECONDS), and should it happen anyway the job ids are deterministic
    and consumers apply an event once. One UPDATE (and commit) marks every event whose jobs were
    accepted; an event the queue refused gets its backoff, and when the queue is unreachable the
    rest stay pending for the redelivery job. Returns how many were dispatched."""
    bus = get_bus()
    if not events:
        return 0
    sent: list[int] = []
    with unscoped():
        now = utcnow()
        batch = getattr(bus.runner, "enqueue_many", None)
        if batch is not None and len(events) > 1:  # every job of the batch in one round trip
            try:
                batch(
                    [
                        (
                            bus.task,
                            (event_id, sub.consumer),
                            sub.queue,
                            _job_id(event_id, sub.consumer),
                            EVENT_JOB_TIMEOUT,
                        )
                        for event_id in sorted(events)
                        for sub in bus.subscribers.get(events[event_id], [])
                    ]
                )
                sent = sorted(events)
            except Exception:  # find out event by event below what the queue refuses
                log.warning("batch enqueue failed; enqueueing event by event", exc_info=True)
        for event_id in sorted(events) if not sent else ():
            try:
                for sub in bus.subscribers.get(events[event_id], []):
                    bus.runner.enqueue(
                        bus.task,
                        event_id,
                        sub.consumer,
                        queue=sub.queue,
                        job_id=_job_id(event_id, sub.consumer),
                        timeout=EVENT_JOB_TIMEOUT,
                    )
            except Exception as exc:  # e.g. Redis unreachable: keep it pending, back off
                error = f"{type(exc).__name__}: {exc}"[:2000]
                log.warning("event %s not dispatched (%s); will retry", event_id, error)
                db.session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id == event_id, OutboxEvent.dispatched_at.is_(None))
                    .values(
                        attempts=OutboxEvent.attempts + 1,
                        last_error=error,
                        next_attempt_at=now + dt.timedelta(seconds=BACKOFF_SECONDS[0]),
                    )
                    .execution_options(synchronize_session=False)
                )
                if _is_connection_error(exc):
                    break
                continue
            sent.append(event_id)
        if sent:
            db.session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(sent), OutboxEvent.dispatched_at.is_(None))
                .values(
                    dispatched_at=utcnow(), claimed_until=None, attempts=OutboxEvent.attempts + 1
                )
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
    return len(sent)


def _job_id(event_id: int, consumer: str) -> str:
    return f"event-{event_id}-" + re.sub(r"[^A-Za-z0-9_-]", "_", consumer)


def _is_connection_error(exc: Exception) -> bool:
    return any(name in type(exc).__name__ for name in ("ConnectionError", "TimeoutError"))


def pending_ids(older_than_seconds: int = 0, limit: int = 500, *, force: bool = False) -> list[int]:
    """Undispatched events created at least `older_than_seconds` ago whose backoff is over
    (or all of them, with force)."""
    now = utcnow()
    conditions = [
        OutboxEvent.dispatched_at.is_(None),
        OutboxEvent.created_at <= now - dt.timedelta(seconds=older_than_seconds),
    ]
    if not force:
        conditions.append(
            or_(OutboxEvent.next_attempt_at.is_(None), OutboxEvent.next_attempt_at <= now)
        )
    with unscoped():
        return list(
            db.session.scalars(
                select(OutboxEvent.id).where(*conditions).order_by(OutboxEvent.id).limit(limit)
            )
        )


def redeliver_pending(older_than_seconds: int | None = None, *, force: bool = False) -> int:
    """Dispatch events still pending (Redis was down, the process died after commit, ...).
    The cron job respects each event's backoff; an operator or a starting worker may force."""
    if older_than_seconds is None:
        older_than_seconds = current_app.config["OUTBOX_REDELIVER_AFTER_SECONDS"]
    total = 0
    while True:
        ids = pending_ids(older_than_seconds, force=force)
        if not ids:
            return total
        done = dispatch(ids)
        total += done
        if done < len(ids):  # the queue is (still) down, or others claimed them: stop for now
            return total


# --- consumers ------------------------------------------------------------------------------


def consume(event_id: int, consumer: str) -> bool:
    """Apply `consumer` to event `event_id` once: the effect and the ProcessedEvent row commit
    together, so a second delivery (redelivery, duplicate job, retry) changes nothing.
    Returns False when it had been applied already."""
    bus = get_bus()
    handler = bus.handler_for(consumer)
    if handler is None:
        raise LookupError(f"no consumer named {consumer!r}")
    with unscoped():
        row = db.session.get(OutboxEvent, event_id)
        if row is None:
            raise LookupError(f"no event {event_id}")
        tenant_id = row.tenant_id
        seen = db.session.get(ProcessedEvent, (event_id, consumer))
    if seen is not None:
        db.session.rollback()
        return False
    with tenant_scope(tenant_id):
        try:
            db.session.add(ProcessedEvent(event_id=event_id, consumer=consumer))
            db.session.flush()  # takes the unique key first: a concurrent twin waits, then fails
            handler(row)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            with unscoped():
                if db.session.get(ProcessedEvent, (event_id, consumer)) is not None:
                    return False
            raise
        except BaseException:
            db.session.rollback()
            raise
    return True


def pending_count() -> int:
    with unscoped():
        return db.session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(and_(OutboxEvent.dispatched_at.is_(None)))
        )
