"""A live real-time stack for the Socket.IO tests: a private redis-server, `flask realtime` (gunicorn)
and `flask worker --simple` (a real RQ worker) as processes of their own on the test database, an
app in the test process whose jobs go to that Redis (RQ mode), and python-socketio clients.

Nothing is faked: the checkout commits in the test process, its outbox events are enqueued in the
private Redis, the worker process consumes them and publishes the emits on the Redis message queue,
and the Socket.IO process delivers them to the clients' rooms. The private Redis keeps the test's
pub/sub channel and queues apart from every other test run on the machine (pub/sub ignores the
database number)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
import socketio
from redis import Redis

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {proc.returncode}")
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up in {timeout} s")


class LiveStack:
    def __init__(self, database_url: str, tmp: Path):
        self.database_url, self.tmp = database_url, tmp
        self.redis_port, self.port = free_port(), free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def _env(self) -> dict:
        env = dict(os.environ)
        for name in ("DATABASE_URL", "REDIS_URL", "SOCKETIO_MESSAGE_QUEUE"):
            env.pop(name, None)
        env.update(
            APP_CONFIG="testing",
            FLASK_APP="wsgi.py",
            PYTHONPATH=str(ROOT),
            TEST_DATABASE_URL=self.database_url,
            TEST_REDIS_URL=self.redis_url,
            TEST_JOBS_MODE="rq",
            TEST_SOCKETIO_MESSAGE_QUEUE=self.redis_url,
            TEST_SEARCH_INDEX_DIR=str(self.tmp / "search"),
            INSTANCE_PATH=str(self.tmp / "instance"),
            REALTIME_REVOCATION_CHECK_SECONDS="0.5",
        )
        return env

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = self.tmp / f"{name}.log"
        self.logs[name] = log
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self._env(),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.procs[name] = proc
        return proc

    def start(self) -> LiveStack:
        redis = self._spawn(
            "redis",
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
        )
        _wait(lambda: Redis(port=self.redis_port).ping(), 10, "redis-server", redis)
        server = self._spawn(
            "realtime",
            [
                sys.executable,
                "-m",
                "flask",
                "realtime",
                "--port",
                str(self.port),
                "--threads",
                "64",
            ],
        )
        _wait(
            lambda: requests.get(f"{self.url}/socket.io/?EIO=4&transport=polling", timeout=1).ok,
            60,
            "flask realtime",
            server,
        )
        worker = self._spawn(
            "worker", [sys.executable, "-m", "flask", "worker", "high", "default", "--simple"]
        )
        _wait(
            lambda: any(
                b"Listening on" in line for line in self.logs["worker"].read_bytes().splitlines()
            ),
            60,
            "flask worker",
            worker,
        )
        return self

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):  # this stack's own processes only
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()

    def log_tail(self, name: str, lines: int = 40) -> str:
        return "\n".join(self.logs[name].read_text(errors="replace").splitlines()[-lines:])


class Listener:
    """A python-socketio client that records what it hears, with the arrival time."""

    def __init__(self, url: str):
        self.url = url
        self.events: list[tuple[float, str, dict]] = []
        self.refusal: dict | None = None
        self.disconnected = threading.Event()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._any)
        self.sio.on("connect_error", self._refused)
        self.sio.on("disconnect", self._gone)

    def _any(self, event, data=None):
        self.events.append((time.monotonic(), event, data))

    def _refused(self, data=None):
        self.refusal = data

    def _gone(self, *args):
        self.disconnected.set()

    def connect(self, token: str | None = None, auth: dict | None = None) -> bool:
        payload = auth if auth is not None else ({"token": token} if token else None)
        try:
            # polling: the client's WebSocket transport needs the websocket-client package, not
            # installed here (the admin browser test goes over WebSocket through chromium)
            self.sio.connect(self.url, auth=payload, transports=["polling"], wait_timeout=10)
        except socketio.exceptions.ConnectionError:
            return False
        return True

    def named(self, name: str) -> list[tuple[float, dict]]:
        return [(at, data) for at, event, data in self.events if event == name]

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()
