"""`flask realtime`: gunicorn serving the already-built app for Socket.IO, in this process tree.

One gunicorn worker (gthread): Socket.IO's long-polling needs every request of a client to reach
the process that holds its session, so a process is the unit of scale (sticky sessions across
processes, at the proxy). Each open connection holds a thread (a WebSocket a second one, its
reader), hence `threads` in the hundreds; threads mostly wait on sockets, so the GIL is not the
limit for idle connections. gthread with simple-websocket is the combination verified on this
stack (notes/stack-verified.md); gunicorn 27 has no eventlet worker and gevent is not installed.
"""

from __future__ import annotations

from flask import Flask
from gunicorn.app.base import BaseApplication

from app.extensions import db


class RealtimeServer(BaseApplication):
    def __init__(self, app: Flask, options: dict):
        self.application, self.options = app, options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def serve(app: Flask, host: str, port: int, threads: int) -> None:
    def post_fork(server, worker):
        with app.app_context():
            db.engine.dispose(close=False)  # never share the master's database sockets

    RealtimeServer(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "worker_connections": threads,
            # the worker's heartbeat runs beside the connections' threads: a long-lived
            # connection is not a stuck request
            "timeout": 30,
            "graceful_timeout": 10,
            "keepalive": 5,
            "post_fork": post_fork,
            "proc_name": "marketplace-realtime",
        },
    ).run()
