"""The fault suite's stack: every process a production deployment runs, started by the test on spare
ports and a temporary directory, so the machine's own MariaDB (3306) and Redis (6379) are never
touched:

- a MariaDB server of its own (mariadb-install-db into a temporary data directory, then mariadbd),
  migrated and initialised the app's own way (`flask db upgrade heads`, `flask init`), with a small
  demo catalogue (`flask seed`) and its search index (`flask search reindex`);
- a Redis server of its own (no persistence);
- gunicorn serving wsgi:app with gunicorn.conf.py (two sync workers), `flask worker` (RQ, forking)
  and `flask scheduler` (RQ's cron), all with APP_CONFIG=production, JOBS_MODE=rq.

A case that kills a piece starts it again before it ends (`Stack.ensure_up`), so the next case
finds the whole stack running. Traffic: `Shopper` threads that browse, fill a cart and check out
through /api/v1 with a customer's JWT, recording every answer.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pymysql
import requests
from redis import Redis

ROOT = Path(__file__).resolve().parents[2]
DB_NAME = "shop_faults"
DEMO_PASSWORD = "demo-password-1"  # admin.demo.seed.DEMO_PASSWORD: every seeded user's password
ADDRESS = {  # the demo seed ships to the US (its "Domestic (demo)" zone)
    "full_name": "Ada Lovelace",
    "line1": "1 Main St",
    "city": "Miami",
    "postal_code": "33125",
    "country": "US",
}
CARD_OK = {"method": "test_card", "details": {"card_number": "4242424242424242"}}
LOOSE = "1000000 per minute"  # the stack's own rate limits: traffic comes from one IP


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid`, from /proc/<pid>/stat's parent field."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None) -> float:
    """Poll until predicate() is true; return the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {proc.returncode}")
        try:
            if predicate():
                return time.monotonic() - start
        except Exception:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


class MailSink:
    """The SMTP server the stack's mails go to (aiosmtpd, in this process): a real SMTP exchange,
    standing in for the mail relay a deployment has. `stall(predicate)` holds the next matching
    message at DATA (the sender is in the middle of its job) until `release()`; a held message is
    then refused (451), never counted: only messages answered 250 are delivered."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.messages: list[email.message.EmailMessage] = []
        self._lock = threading.Lock()
        self._stall = None
        self.stalled = threading.Event()
        self._released = threading.Event()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            stall, hold = self._stall, False
            if stall is not None and stall(message):
                self._stall, hold = None, True
        if hold:
            self.stalled.set()
            while not self._released.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 held by the fault suite; not delivered"
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def stall(self, predicate) -> None:
        self.stalled.clear()
        self._released.clear()
        with self._lock:
            self._stall = predicate

    def release(self) -> None:
        with self._lock:
            self._stall = None
        self._released.set()

    def matching(self, to: str, subject_word: str) -> list:
        with self._lock:
            return [
                m
                for m in self.messages
                if m["To"] == to and subject_word.lower() in str(m["Subject"]).lower()
            ]

    def close(self) -> None:
        self.release()
        self.controller.stop()


class FakeGateway:
    """The one faked piece: Stripe's HTTP API (api.stripe.com cannot be reached from here), for the
    PaymentIntent calls the app's Stripe adapter makes (create with confirm, capture, retrieve),
    with Stripe's idempotency: a request repeating an Idempotency-Key gets the first answer.

    `fault` makes the next PaymentIntent creation fail:
    - "500": an api_error 500 at once, before any intent is made (like a request Stripe never
      began, the answer is not kept under the key);
    - "timeout": the intent is made and kept under the key (the card IS authorized), but the
      answer comes only after `delay` seconds, past the adapter's STRIPE_TIMEOUT_SECONDS."""

    KEY = "sk_test_fault_suite"

    def __init__(self, delay: float = 8):
        self.intents: dict[str, dict] = {}
        self.answers: dict[str, tuple[int, dict]] = {}  # Idempotency-Key -> first answer
        self.calls: list[tuple[str, str]] = []
        self.fault: str | None = None
        self.delay = delay
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def for_order(self, order_id: int) -> list[dict]:
        with self._lock:
            return [
                i for i in self.intents.values() if i["metadata"].get("order_id") == str(order_id)
            ]

    def _handler(fake):  # noqa: N805 - the closure's "self" is the fake
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Request-Id", "req_fault_suite")
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (its timeout)
                    pass

            def do_GET(self):
                intent = fake.intents.get(self.path.split("?")[0].rsplit("/", 1)[-1])
                if intent is None:
                    return self._send(404, {"error": {"type": "invalid_request_error"}})
                return self._send(200, intent)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                path, key = self.path.split("?")[0], self.headers.get("Idempotency-Key")
                fake.calls.append((path, key or ""))
                if self.headers.get("Authorization") != f"Bearer {fake.KEY}":
                    return self._send(401, {"error": {"type": "invalid_request_error"}})
                with fake._lock:
                    saved = fake.answers.get(key) if key else None
                if saved is not None:
                    return self._send(*saved)
                if path == "/v1/payment_intents":
                    with fake._lock:
                        fault, fake.fault = fake.fault, None
                    if fault == "500":
                        return self._send(
                            500, {"error": {"type": "api_error", "message": "An error occurred"}}
                        )
                    intent = {
                        "id": "pi_" + uuid.uuid4().hex[:14],
                        "object": "payment_intent",
                        "amount": int(form["amount"]),
                        "currency": form["currency"],
                        "status": "requires_capture",
                        "amount_capturable": int(form["amount"]),
                        "amount_received": 0,
                        "metadata": {
                            "order_id": form.get("metadata[order_id]"),
                            "payment_id": form.get("metadata[payment_id]"),
                        },
                    }
                    with fake._lock:
                        fake.intents[intent["id"]] = intent
                        if key:
                            fake.answers[key] = (200, intent)
                    if fault == "timeout":
                        time.sleep(fake.delay)
                    return self._send(200, intent)
                parts = path.strip("/").split("/")  # v1 payment_intents <id> capture|cancel
                intent = fake.intents.get(parts[2]) if len(parts) == 4 else None
                if intent is None:
                    return self._send(404, {"error": {"type": "invalid_request_error"}})
                with fake._lock:
                    if parts[3] == "capture":
                        intent.update(
                            status="succeeded",
                            amount_received=int(form.get("amount_to_capture", intent["amount"])),
                            amount_capturable=0,
                        )
                    else:
                        intent.update(status="canceled")
                    if key:
                        fake.answers[key] = (200, dict(intent))
                return self._send(200, intent)

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Stack:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.db_port, self.redis_port, self.web_port = free_port(), free_port(), free_port()
        self.datadir = tmp / "mariadb"
        self.redis_dir = tmp / "redis"
        self.redis_dir.mkdir(exist_ok=True)
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.database_url = (
            f"mysql+mysqldb://root@127.0.0.1:{self.db_port}/{DB_NAME}?charset=utf8mb4"
        )
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.extra_env: dict[str, str] = {}
        self.secret = secrets.token_urlsafe(48)
        self.mail = MailSink()
        self.gateway = FakeGateway()

    # --- environment and processes -------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TEST_", "PYTEST_")) and k not in ("APP_CONFIG", "INSTANCE_PATH")
        }
        instance = self.tmp / "instance"
        env.update(
            APP_CONFIG="production",
            FLASK_APP="wsgi.py",
            PYTHONPATH=str(ROOT),
            SECRET_KEY=self.secret,
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            JOBS_MODE="rq",
            INSTANCE_PATH=str(instance),
            SEARCH_INDEX_DIR=str(instance / "search"),
            MAIL_OUTBOX_DIR=str(instance / "outbox"),
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=str(self.mail.port),
            MAIL_USE_TLS="0",
            MAIL_TIMEOUT="120",
            STRIPE_SECRET_KEY=FakeGateway.KEY,
            STRIPE_API_BASE=self.gateway.url,
            STRIPE_TIMEOUT_SECONDS="3",
            PAYMENT_METHODS="bank_transfer,cash_on_delivery,test_card,stripe_card",
            ADMIN_PASSWORD="admin-password-1",
            GUNICORN_BIND=f"127.0.0.1:{self.web_port}",
            WEB_CONCURRENCY="2",
            # a killed worker's jobs are found abandoned (RQ's StartedJobRegistry cleanup) within
            # seconds, not the production interval (config.py, RQ_MAINTENANCE_INTERVAL)
            RQ_MAINTENANCE_INTERVAL="5",
            RQ_JOB_MONITORING_INTERVAL="5",
            OUTBOX_REDELIVER_AFTER_SECONDS="10",
            **{
                name: LOOSE
                for name in (
                    "AUTH_RATE_LIMIT",
                    "API_LOGIN_RATE_LIMIT",
                    "API_SEARCH_RATE_LIMIT",
                    "API_WRITE_RATE_LIMIT",
                    "API_AUTH_EMAIL_RATE_LIMIT",
                    "API_GUEST_ORDER_RATE_LIMIT",
                )
            },
        )
        for name in ("ELASTICSEARCH_URL", "SUPERSET_URL", "SOCKETIO_MESSAGE_QUEUE"):
            env.pop(name, None)
        env.update(self.extra_env)
        return env

    def spawn(self, name: str, argv: list[str], **env) -> subprocess.Popen:
        log = self.tmp / f"{name}.log"
        self.logs[name] = log
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.env(), **env},
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill reaches its children too
        )
        self.procs[name] = proc
        return proc

    def flask(self, *args: str, timeout: float = 600) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "flask", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(args)}: {done.stdout}\n{done.stderr}")
        return done.stdout

    def alive(self, name: str) -> bool:
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def send(self, name: str, sig: int, group: bool = False) -> None:
        proc = self.procs[name]
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def kill(self, name: str) -> list[int]:
        """SIGKILL the process and all its descendants (a forking RQ worker's work horse calls
        setsid(), so it is in a process group of its own: the tree is walked through /proc).
        Returns the pids killed."""
        proc = self.procs[name]
        pids = [proc.pid, *descendants(proc.pid)]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(10)
        return pids

    def log_tail(self, name: str, lines: int = 60) -> str:
        path = self.logs.get(name)
        if path is None or not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # --- the pieces ----------------------------------------------------------------------------

    def start_mariadb(self) -> float:
        if not self.datadir.exists():
            self.datadir.mkdir(parents=True)
            subprocess.run(
                [
                    "mariadb-install-db",
                    "--no-defaults",  # not the machine's server settings (/etc/mysql)
                    "--user=root",
                    f"--datadir={self.datadir}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
        self.spawn(
            "mariadb",
            [
                shutil.which("mariadbd") or "/usr/sbin/mariadbd",
                "--no-defaults",
                "--user=root",
                f"--datadir={self.datadir}",
                f"--port={self.db_port}",
                f"--socket={self.datadir / 'sock'}",
                f"--pid-file={self.datadir / 'mariadbd.pid'}",
                "--bind-address=127.0.0.1",
                "--skip-networking=0",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=128M",
                "--max-connections=200",
                # the worker-kill case holds a row lock on a job for a while
                "--innodb-lock-wait-timeout=120",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
            ],
        )
        return wait_for(self.db_ping, 60, "mariadbd", self.procs["mariadb"])

    def db_ping(self) -> bool:
        conn = pymysql.connect(host="127.0.0.1", port=self.db_port, user="root", connect_timeout=2)
        conn.close()
        return True

    def sql(self, statement: str, args=None, database: str | None = DB_NAME) -> list[tuple]:
        conn = pymysql.connect(
            host="127.0.0.1", port=self.db_port, user="root", database=database, autocommit=True
        )
        try:
            with conn.cursor() as cur:
                cur.execute(statement, args)
                return list(cur.fetchall())
        finally:
            conn.close()

    def connect(self, **kwargs) -> pymysql.Connection:
        return pymysql.connect(
            host="127.0.0.1", port=self.db_port, user="root", database=DB_NAME, **kwargs
        )

    def start_redis(self) -> float:
        self.spawn(
            "redis",
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1"]
            # as docker-compose.yml runs it: the append-only file keeps the queued jobs over a
            # restart (no RDB snapshots)
            + ["--save", "", "--appendonly", "yes", "--dir", str(self.redis_dir)]
            + ["--daemonize", "no"],
        )
        return wait_for(lambda: self.redis().ping(), 20, "redis-server", self.procs["redis"])

    def redis(self) -> Redis:
        return Redis(port=self.redis_port, socket_timeout=5)

    def start_web(self) -> float:
        self.spawn("web", [sys.executable, "-m", "gunicorn", "--no-control-socket", "wsgi:app"])
        return wait_for(
            lambda: requests.get(f"{self.url}/api/core/ping", timeout=5).ok,
            90,
            "gunicorn",
            self.procs["web"],
        )

    def start_worker(self, name: str = "worker") -> float:
        log = self.tmp / f"{name}.log"
        offset = log.stat().st_size if log.exists() else 0
        proc = self.spawn(name, [sys.executable, "-m", "flask", "worker"])
        return wait_for(
            lambda: b"Listening on" in log.read_bytes()[offset:], 90, f"flask worker {name}", proc
        )

    def start_scheduler(self) -> None:
        self.spawn("scheduler", [sys.executable, "-m", "flask", "scheduler"])

    def ensure_up(self) -> None:
        if not self.alive("mariadb"):
            self.start_mariadb()
        if not self.alive("redis"):
            self.start_redis()
        if not self.alive("web"):
            self.start_web()
        if not self.alive("worker"):
            self.start_worker()
        if not self.alive("scheduler"):
            self.start_scheduler()

    def queued(self) -> int:
        r = self.redis()
        return sum(r.llen(f"rq:queue:{name}") for name in ("high", "default", "low"))

    def drain(self, timeout: float = 300) -> float:
        """Wait until the worker has emptied the queues and the outbox has nothing pending."""
        return wait_for(
            lambda: (
                self.queued() == 0
                and self.sql("SELECT COUNT(*) FROM outbox_events WHERE dispatched_at IS NULL")[0][0]
                == 0
            ),
            timeout,
            "the queues drained",
        )

    def start(self) -> Stack:
        t0 = time.monotonic()
        self.start_mariadb()
        self.sql(
            f"CREATE DATABASE IF NOT EXISTS `{DB_NAME}` CHARACTER SET utf8mb4 "
            "COLLATE utf8mb4_unicode_ci",
            database=None,
        )
        self.start_redis()
        self.flask("db", "upgrade", "heads")
        self.flask("init")
        self.flask(
            "seed",
            "--products",
            "40",
            "--customers",
            "8",
            "--orders",
            "0",
            "--second-tenant-products",
            "0",
            "--quiet",
        )
        # plenty of stock: the traffic must never run out (before any process caches it)
        self.sql("UPDATE stock_levels SET quantity_on_hand = 1000000")
        self.flask("search", "reindex")
        self.start_web()
        self.start_worker()
        self.start_scheduler()
        print(f"\n[faults] stack up in {time.monotonic() - t0:.1f} s: {self.describe()}")
        return self

    def describe(self) -> str:
        return (
            f"mariadbd :{self.db_port}, redis-server :{self.redis_port}, "
            f"gunicorn :{self.web_port}, tmp {self.tmp}"
        )

    def shutdown(self) -> None:
        for name in reversed(list(self.procs)):  # this stack's own processes only
            self.stop(name, timeout=30)
        self.mail.close()
        self.gateway.close()

    # --- shop data -----------------------------------------------------------------------------

    def customers(self) -> list[str]:
        """E-mail addresses of seeded customers (they have the demo password)."""
        rows = self.sql(
            "SELECT u.email FROM ab_user u JOIN customer_profiles c ON c.user_id = u.id "
            "WHERE u.active = 1 ORDER BY u.id"
        )
        return [r[0] for r in rows]

    def variants(self) -> list[int]:
        """Variants with plenty of stock (traffic must not run out of them)."""
        rows = self.sql(
            "SELECT v.id FROM product_variants v JOIN products p ON p.id = v.product_id "
            "JOIN stock_levels s ON s.variant_id = v.id "
            "WHERE p.status = 'active' AND s.quantity_on_hand >= 1000000 ORDER BY v.id LIMIT 20"
        )
        return [r[0] for r in rows]


# --- traffic ---------------------------------------------------------------------------------


@dataclass
class Answer:
    at: float  # when the answer (or the failure) came
    kind: str
    status: int  # 0: no answer (connection refused / reset / timeout)
    retry_after: str | None = None
    code: str | None = None
    order_id: int | None = None
    body: dict | None = None
    started: float = 0.0
    key: str | None = None  # a checkout's Idempotency-Key
    shopper: int = -1  # the thread (Traffic.sessions) that asked


@dataclass
class Traffic:
    """Shopper threads: browse the catalogue, add to the cart, check out (test card)."""

    stack: Stack
    emails: list[str]
    variants: list[int]
    threads: int = 4
    answers: list[Answer] = field(default_factory=list)
    orders: dict[int, dict] = field(default_factory=dict)  # order id -> checkout's 201 body
    think: float = 0.05

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self.sessions: dict[int, requests.Session] = {}

    def record(
        self, kind: str, response: requests.Response | None, started: float, key: str | None
    ) -> Answer:
        if response is None:
            answer = Answer(time.monotonic(), kind, 0, started=started, key=key)
        else:
            try:
                body = response.json()
            except ValueError:
                body = None
            code = (body or {}).get("error", {}).get("code") if isinstance(body, dict) else None
            answer = Answer(
                time.monotonic(),
                kind,
                response.status_code,
                response.headers.get("Retry-After"),
                code,
                body.get("id") if kind == "checkout" and response.status_code == 201 else None,
                body,
                started,
                key,
            )
        with self._lock:
            self.answers.append(answer)
            if answer.order_id is not None:
                self.orders[answer.order_id] = answer.body
        return answer

    def call(self, session: requests.Session, kind: str, method: str, path: str, **kw):
        started = time.monotonic()
        key = (kw.get("headers") or {}).get("Idempotency-Key")
        try:
            response = session.request(method, f"{self.stack.url}{path}", timeout=60, **kw)
        except requests.RequestException:
            response = None
        answer = self.record(kind, response, started, key)
        answer.shopper = next((i for i, s in self.sessions.items() if s is session), -1)
        return answer

    def login(self, session: requests.Session, email: str) -> bool:
        answer = self.call(
            session,
            "login",
            "POST",
            "/api/v1/auth/login/",
            json={"login": email, "password": DEMO_PASSWORD},
        )
        if answer.status == 200 and answer.body:
            session.headers["Authorization"] = f"Bearer {answer.body['access_token']}"
            return True
        return False

    def shopper(self, index: int) -> None:
        session = self.sessions[index] = requests.Session()
        email = self.emails[index % len(self.emails)]
        rng = index
        while not self._stop.is_set():
            if "Authorization" not in session.headers and not self.login(session, email):
                time.sleep(0.3)
                continue
            rng += 1
            variant = self.variants[rng % len(self.variants)]
            self.call(
                session, "browse", "GET", f"/api/v1/products/?page_size=12&page={rng % 3 + 1}"
            )
            self.call(session, "cart", "GET", "/api/v1/cart/")
            added = self.call(
                session,
                "cart_add",
                "POST",
                "/api/v1/cart/add/",
                json={"variant_id": variant, "quantity": 1},
            )
            if added.status == 401:
                session.headers.pop("Authorization", None)
                continue
            if added.status == 200:
                self.checkout(session)
            time.sleep(self.think)

    def checkout(self, session: requests.Session, key: str | None = None) -> Answer:
        key = key or str(uuid.uuid4())
        body = {"shipping_address": ADDRESS, "payment": CARD_OK}
        answer = self.call(
            session,
            "checkout",
            "POST",
            "/api/v1/orders/",
            json=body,
            headers={"Idempotency-Key": key},
        )
        return answer

    def start(self) -> Traffic:
        self._stop.clear()
        for i in range(self.threads):
            t = threading.Thread(target=self.shopper, args=(i,), daemon=True)
            t.start()
            self._workers.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._workers:
            t.join(60)

    def between(self, start: float, end: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if start <= a.at <= end]

    @staticmethod
    def by_status(answers: list[Answer]) -> dict[int, int]:
        return dict(sorted(Counter(a.status for a in answers).items()))


def order_rows(stack: Stack, order_ids: list[int]) -> dict[int, tuple]:
    """{order id: (status, lines, payments, captured payments)} from the stack's database."""
    if not order_ids:
        return {}
    marks = ",".join(["%s"] * len(order_ids))
    rows = stack.sql(
        "SELECT o.id, o.status, "
        "(SELECT COUNT(*) FROM order_lines l WHERE l.order_id = o.id), "
        "(SELECT COUNT(*) FROM payments p WHERE p.order_id = o.id), "
        "(SELECT COUNT(*) FROM payments p WHERE p.order_id = o.id AND p.status = 'captured') "
        f"FROM orders o WHERE o.id IN ({marks})",
        order_ids,
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def report(title: str, **figures) -> None:
    """Print what a case measured (pytest -s shows it; `make test-faults` runs with -s)."""
    print(f"\n[faults] {title}")
    for name, value in figures.items():
        print(f"  {name:<34} {value}")
