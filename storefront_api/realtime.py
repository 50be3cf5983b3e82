"""Socket.IO handlers: authorise a connection and join its rooms; drop revoked ones.

A client connects to /socket.io/ with `auth: {"token": "<access token>"}`. A refused connection
gets a connect_error {"message": "<why>", "data": {"code": "<app.realtime.access.Refusal>"}}
(socket.io-client: `err.message`, `err.data.code`).
An accepted one is put in its rooms (user:<id>, seller:<id> for a Seller, tenant:<id>:admin for
staff) and only listens: events come from outbox consumers (app/realtime/consumers.py), never
from a client. Every REALTIME_REVOCATION_CHECK_SECONDS the process checks its own connections
(app.realtime.access.to_drop) and disconnects the revoked ones, after telling each why with a
`session.ended` event. Registered on the app's SocketIO by create_app().
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, request
from flask_socketio import ConnectionRefusedError, SocketIO

from app.realtime import access

log = logging.getLogger(__name__)


class Connections:
    """The connections this process holds: {socket id: access.Connection}."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_sid: dict[str, access.Connection] = {}

    def add(self, sid: str, conn: access.Connection) -> None:
        with self._lock:
            self._by_sid[sid] = conn

    def remove(self, sid: str) -> None:
        with self._lock:
            self._by_sid.pop(sid, None)

    def snapshot(self) -> dict[str, access.Connection]:
        with self._lock:
            return dict(self._by_sid)

    def __len__(self) -> int:
        return len(self._by_sid)


class RevocationWatcher:
    """A background task of the Socket.IO process, started with its first connection."""

    def __init__(self, app: Flask, socketio: SocketIO, connections: Connections):
        self.app, self.socketio, self.connections = app, socketio, connections
        self.server = app.extensions["socketio_server"]  # this app's (the singleton moves on)
        self._started = False
        self._lock = threading.Lock()

    def ensure_started(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        self.server.start_background_task(self._run)

    def _run(self) -> None:
        interval = float(self.app.config.get("REALTIME_REVOCATION_CHECK_SECONDS", 2))
        while True:
            self.server.sleep(interval)
            try:
                self.check()
            except Exception:  # a database or Redis hiccup: try again at the next tick
                log.exception("realtime revocation check failed")

    def check(self) -> int:
        """Disconnect the connections whose token or session was revoked; how many."""
        current = self.connections.snapshot()
        if not current:
            return 0
        with self.app.app_context():
            drop = access.to_drop(current)
        for sid, code in drop.items():
            reason = access.ConnectRefused(code).as_data()
            try:
                self.server.emit("session.ended", reason, to=sid, namespace="/")
                self.server.disconnect(sid, namespace="/")
            except Exception:  # already gone
                log.debug("could not disconnect %s", sid, exc_info=True)
            self.connections.remove(sid)
        return len(drop)


def register(app: Flask, socketio: SocketIO) -> None:
    connections = Connections()
    watcher = RevocationWatcher(app, socketio, connections)
    app.extensions["realtime"] = watcher

    @socketio.on("connect")
    def connect(auth=None):
        try:
            conn = access.authorize(auth)
        except access.ConnectRefused as refused:
            # the client's connect_error: {"message": ..., "data": {"code": ...}}
            raise ConnectionRefusedError(str(refused), {"code": str(refused.code)}) from None
        for room in conn.rooms:  # on this app's server (join_room() would use the singleton's)
            watcher.server.enter_room(request.sid, room, namespace="/")
        connections.add(request.sid, conn)
        watcher.ensure_started()
        return True

    @socketio.on("disconnect")
    def disconnect(reason=None):
        connections.remove(request.sid)
