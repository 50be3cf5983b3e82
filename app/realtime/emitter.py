"""Emit Socket.IO events from wherever an outbox consumer runs.

- With SOCKETIO_MESSAGE_QUEUE (production: RQ workers, several Socket.IO processes): a write-only
  `SocketIO(message_queue=url)` made without an app publishes into Redis, and every Socket.IO
  process subscribed to it delivers to its own connections in the rooms named.
- Without it (the embedded default, `make run`: jobs run in the serving process right after
  commit): the app's own Socket.IO server delivers directly.

`emit_after_commit()` is what consumers call: the emits wait for the consumer's transaction (its
ProcessedEvent row) to commit and are dropped if it rolls back, so a client never hears of work
that is then undone and retried.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from flask import current_app
from flask_socketio import SocketIO
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)

_queues: dict[tuple[str, str], SocketIO] = {}
_lock = threading.Lock()
_PENDING = "realtime_pending_emits"
_HOOKED = "realtime_emit_hooks"


@dataclass(frozen=True)
class Emit:
    event: str
    payload: dict
    rooms: tuple[str, ...]


def _write_only(url: str, channel: str) -> SocketIO:
    key = (url, channel)
    with _lock:
        if key not in _queues:
            _queues[key] = SocketIO(message_queue=url, channel=channel)
        return _queues[key]


def _server():
    """What to emit through: the message queue, else this app's own server."""
    url = current_app.config.get("SOCKETIO_MESSAGE_QUEUE")
    if url:
        return _write_only(url, current_app.config.get("SOCKETIO_CHANNEL", "flask-socketio"))
    return _InProcess(current_app.extensions.get("socketio_server"))


class _InProcess:
    """This app's own python-socketio server (the embedded default serves it in-process)."""

    def __init__(self, server):
        self.server = server

    def emit(self, event: str, payload: dict, to: list[str]) -> None:
        if self.server is None:
            log.warning("no Socket.IO server in this process: %s not emitted", event)
            return
        self.server.emit(event, payload, to=to, namespace="/")


def emit(event: str, payload: dict, rooms: list[str] | tuple[str, ...]) -> None:
    """Emit `event` with `payload` to each room now (several rooms: one emit, each client once)."""
    if not rooms:
        return
    _server().emit(event, payload, to=list(dict.fromkeys(rooms)))


def emit_after_commit(event: str, payload: dict, rooms: list[str] | tuple[str, ...]) -> None:
    """Emit when the current transaction commits; never if it rolls back."""
    if not rooms:
        return
    session = db.session()
    session.connection()  # a transaction is under way (a consumer's always is): its end decides
    if not session.info.get(_HOOKED):
        sa_event.listen(session, "after_commit", _flush)
        # soft: also a rollback that had not reached the database yet (nothing flushed)
        sa_event.listen(session, "after_soft_rollback", _drop)
        session.info[_HOOKED] = True
    session.info.setdefault(_PENDING, []).append(Emit(event, payload, tuple(rooms)))


def _flush(session: Session) -> None:
    for item in session.info.pop(_PENDING, ()):
        try:
            emit(item.event, item.payload, item.rooms)
        except Exception:  # the socket is best effort; the stored notification is the record
            log.exception("Socket.IO emit of %s failed", item.event)


def _drop(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:  # a savepoint's rollback keeps the outer work's emits
        session.info.pop(_PENDING, None)
