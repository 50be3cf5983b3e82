"""Soak: a mixed storefront + admin workload at 70 % of the measured maximum for --minutes, on the
production shape (gunicorn with gunicorn.conf.py, an RQ worker, the RQ scheduler, Redis, JOBS_MODE=rq)
over a 100,000-product MariaDB database; checks that nothing degrades with time (issue 20, item 2).

    python bench/soak.py                          # seed shop_soak_bench (100,000 products), 10 minutes
    python bench/soak.py --reuse                  # the database is seeded already
    python bench/soak.py --minutes 1 --products 2000 --name soak-quick    # quick mode (~3 minutes)

1. Database (default `shop_soak_bench`; never shop_bench): seeded in a child process the way
   bench/seed_bench.py seeds (seed_bench.prepare_database: created with its comment, dropped and
   re-created only when it carries it; `flask db upgrade heads`, `flask init`, seed(--products),
   then bench/seed_orders.py's --orders orders). --reuse only upgrades. Demo customers log in with
   demo-password-1, the Super Admin is `admin` / seed_bench.BENCH_ADMIN_PASSWORD.
2. Processes: gunicorn (gunicorn.conf.py, APP_CONFIG=production), `flask worker high default low`
   and `flask scheduler`, all with JOBS_MODE=rq on --redis-url (db 4, flushed at start).
   PAYMENT_METHODS adds the test card (production leaves it out) and the per-IP rate limits are
   raised: every simulated shopper comes from 127.0.0.1, so the limits would otherwise be what is
   measured (429s, not the server).
3. Workload (weights in ACTIONS): browse (product list with a category, a price range and a
   sort; product detail; the category tree), search, cart add, checkout (cart add + POST
   /api/v1/orders/ with an Idempotency-Key and the test card) and account (orders list, profile)
   as logged-in JWT customers, and the Super Admin's /admin/ product and order lists (FAB session
   cookie). The client is Python threads with http.client (gunicorn's sync workers close each
   connection, so every request is a new loopback connection); its own CPU is recorded.
4. Maximum: --max-seconds (30) closed loop with --max-threads (16) clients, in actions/s.
   Soak: an OPEN loop (Poisson arrivals at --load × maximum, dispatched to a pool of
   --pool-threads) for --minutes. An action's first request is timed from when it was due, not
   when a thread was free, so a server falling behind shows in the latency (no coordinated
   omission).
5. Every --interval (5) s: requests and answers by status, p50/p99, RSS of every gunicorn worker,
   of the RQ worker and of the scheduler, the server CPU per request (gunicorn master and workers,
   /proc utime+stime), MariaDB's Threads_connected (whole server) and this database's connections
   (information_schema.PROCESSLIST), Redis used_memory (whole server) and --redis-url's db (keys,
   and MEMORY USAGE summed over them), the client's CPU and the load average.
6. Verdict (see verdict()): zero 5xx and no request left unanswered; p99 of the last window
   (one minute, or a quarter of a shorter run) within --p99-tolerance x the first window's (or
   + --p99-slack-ms); web RSS (all gunicorn workers) and RQ worker RSS growth < 10 % first to last
   window, no web worker replaced; this database's connections below the pool limit and not
   climbing; the Redis db below --redis-limit-mb and not climbing. Exit 1 when one fails.

Writes bench/results/<name>.json, <name>.md and <name>.csv (the curve: matplotlib is not in the
venv, so no PNG). The machine's 2 CPUs are shared with the client, MariaDB, Redis and whatever
else runs: the figures say what load average they were taken under.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import http.client
import json
import os
import platform
import queue
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed_bench import BENCH_ADMIN_PASSWORD  # noqa: E402
from serving import gunicorn_argv  # noqa: E402

DEFAULT_URL = "mysql+mysqldb://root@127.0.0.1:3306/shop_soak_bench?charset=utf8mb4"
DEFAULT_REDIS = "redis://127.0.0.1:6379/4"
DEMO_PASSWORD = "demo-password-1"
TENANT = "default"
SORTS = ("price", "-price", "newest", "popularity")
CARD_OK = {"method": "test_card", "details": {"card_number": "4242424242424242"}}
RSS_GROWTH_LIMIT = 0.10
POOL_PER_PROCESS = 20  # ProductionConfig: pool_size 10 + SQLAlchemy's default max_overflow 10
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# ---- /proc ---------------------------------------------------------------------------------------


def proc_stat(pid: int) -> dict | None:
    """A process's parent, CPU seconds (user + system; its reaped children's apart) and resident
    set size, from /proc/<pid>/stat and /proc/<pid>/statm; None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        statm = Path(f"/proc/{pid}/statm").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its last ")"
    fields = stat.rsplit(")", 1)[1].split()
    return {
        "pid": pid,
        "ppid": int(fields[1]),
        "cpu_s": (int(fields[11]) + int(fields[12])) / TICK,
        "children_cpu_s": (int(fields[13]) + int(fields[14])) / TICK,
        "rss_mb": int(statm.split()[1]) * PAGE / 2**20,
    }


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return sorted(found)


# ---- the client ----------------------------------------------------------------------------------


class Recorder:
    """Every answered (or failed) request: (done at, label, status, ms); status 0 = no answer."""

    def __init__(self):
        self.lock = threading.Lock()
        self.records: list[tuple[float, str, int, float]] = []
        self.actions = 0

    def add(self, label: str, status: int, ms: float) -> None:
        with self.lock:
            self.records.append((time.perf_counter(), label, status, ms))

    def since(self, index: int) -> tuple[list, int]:
        with self.lock:
            return self.records[index:], len(self.records)


class Http:
    """One thread's client: http.client to the server, timing each request from `due` (when the
    action was scheduled) or from when it was sent."""

    def __init__(self, host: str, port: int, recorder: Recorder, timeout: float = 60):
        self.host, self.port, self.timeout, self.recorder = host, port, timeout, recorder
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def request(
        self,
        label: str,
        method: str,
        path: str,
        headers: dict | None = None,
        body: dict | None = None,
        due: float | None = None,
    ) -> tuple[int, bytes, http.client.HTTPResponse | None]:
        start = due if due is not None else time.perf_counter()
        data = json.dumps(body).encode() if body is not None else None
        h = {"X-Tenant": TENANT, **(headers or {})}
        if data is not None:
            h["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=h)
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.recorder.add(label, 0, (time.perf_counter() - start) * 1000)
            return 0, b"", None
        self.recorder.add(label, response.status, (time.perf_counter() - start) * 1000)
        return response.status, payload, response


class Customer:
    def __init__(self, email: str):
        self.email = email
        self.token = ""
        self.address_id: int | None = None

    def login(self, http: Http) -> bool:
        status, body, _ = http.request(
            "login",
            "POST",
            "/api/v1/auth/login/",
            body={"login": self.email, "password": DEMO_PASSWORD},
        )
        if status != 200:
            return False
        self.token = json.loads(body)["access_token"]
        status, body, _ = http.request(
            "account: addresses", "GET", "/api/v1/customers/addresses/", self.auth
        )
        items = json.loads(body).get("items", []) if status == 200 else []
        self.address_id = items[0]["id"] if items else None
        return self.address_id is not None

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


class Shop:
    """What the actions pick from, and the logged-in customers (each used by one thread at a time)."""

    def __init__(self, facts: dict, customers: list[Customer], admin_cookie: str):
        self.facts = facts
        self.customers: queue.Queue[Customer] = queue.Queue()
        for customer in customers:
            self.customers.put(customer)
        self.admin_cookie = admin_cookie
        self.checkouts = Counter()

    def as_customer(self, http: Http, due: float, work) -> None:
        customer = self.customers.get()
        try:
            if work(customer) == 401:  # token expired (longer runs): log in again
                customer.login(http)
        finally:
            self.customers.put(customer)


def a_browse_list(http: Http, shop: Shop, rng: random.Random, due: float) -> None:
    low = rng.choice((5, 10, 20, 50))
    path = (
        f"/api/v1/products/?page_size=24&page={rng.randint(1, 5)}&category={rng.choice(shop.facts['categories'])}"
        f"&min_price={low}&max_price={low * rng.choice((4, 10))}&sort={rng.choice(SORTS)}"
    )
    http.request("browse: list", "GET", path, due=due)


def a_detail(http: Http, shop: Shop, rng: random.Random, due: float) -> None:
    http.request(
        "browse: detail", "GET", f"/api/v1/products/{rng.choice(shop.facts['products'])}/", due=due
    )


def a_categories(http: Http, shop: Shop, rng: random.Random, due: float) -> None:
    http.request("browse: categories", "GET", "/api/v1/products/categories/", due=due)


def a_search(http: Http, shop: Shop, rng: random.Random, due: float) -> None:
    q = rng.choice(shop.facts["words"])
    http.request("search", "GET", f"/api/v1/search/products/?q={q}&page_size=24", due=due)


def a_cart_add(http: Http, shop: Shop, rng: random.Random, due: float) -> None:
    def work(c: Customer) -> int:
        body = {"variant_id": rng.choice(shop.facts["variants"]), "quantity": 1}
        return http.request("cart add", "POST", "/api/v1/cart/add/", c.auth, body, due=due)[0]

    shop.as_customer(http, due, work)


def a_checkout(http: Http, shop: Shop, rng: random.Random, due: float) -> None:
    def work(c: Customer) -> int:
        body = {"variant_id": rng.choice(shop.facts["variants"]), "quantity": 1}
        status = http.request(
            "checkout: cart add", "POST", "/api/v1/cart/add/", c.auth, body, due=due
        )[0]
        if status != 200:
            return status
        status, payload, _ = http.request(
            "checkout: place order",
            "POST",
            "/api/v1/orders/",
            {**c.auth, "Idempotency-Key": uuid.uuid4().hex},
            {"address_id": c.address_id, "payment": CARD_OK},
        )
        paid = (
            status == 201 and (json.loads(payload).get("payment") or {}).get("status") == "captured"
        )
        shop.checkouts["paid" if paid else f"HTTP {status}"] += 1
        return status

    shop.as_customer(http, due, work)


def a_account(http: Http, shop: Shop, rng: random.Random, due: float) -> None:
    def work(c: Customer) -> int:
        status = http.request(
            "account: orders", "GET", "/api/v1/orders/?page_size=10", c.auth, due=due
        )[0]
        http.request("account: profile", "GET", "/api/v1/customers/profile/", c.auth)
        return status

    shop.as_customer(http, due, work)


def a_admin(http: Http, shop: Shop, rng: random.Random, due: float) -> None:
    page = rng.choice(("/admin/products/list/", "/admin/orders/list/"))
    label = "admin: " + page.split("/")[2] + " list"
    http.request(label, "GET", page, {"Cookie": shop.admin_cookie}, due=due)


# (action, weight): what a shopper population does per 100 actions
ACTIONS = (
    (a_browse_list, 26),
    (a_detail, 24),
    (a_categories, 6),
    (a_search, 14),
    (a_cart_add, 10),
    (a_checkout, 6),
    (a_account, 10),
    (a_admin, 4),
)


def pick(rng: random.Random, actions=ACTIONS):
    return rng.choices([a for a, _ in actions], weights=[w for _, w in actions])[0]


def closed_loop(
    base: tuple[str, int],
    shop: Shop | None,
    threads: int,
    seconds: float,
    recorder: Recorder,
    actions=ACTIONS,
) -> dict:
    """`threads` clients, each running actions back to back for `seconds`: actions/s."""
    end = time.perf_counter() + seconds
    done = Counter()

    def client(n: int) -> None:
        rng = random.Random(f"max:{n}")
        http = Http(*base, recorder)
        while time.perf_counter() < end:
            pick(rng, actions)(http, shop, rng, time.perf_counter())
            done[n] += 1

    pool = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(threads)]
    start, cpu0 = time.perf_counter(), time.process_time()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - start
    return {
        "threads": threads,
        "seconds": round(wall, 1),
        "actions": sum(done.values()),
        "actions_per_s": round(sum(done.values()) / wall, 1),
        "client_cpu_s": round(time.process_time() - cpu0, 1),
    }


def open_loop(
    base: tuple[str, int],
    shop: Shop,
    rate: float,
    seconds: float,
    threads: int,
    recorder: Recorder,
    seed: int = 1,
    actions=ACTIONS,
) -> dict:
    """Poisson arrivals at `rate` actions/s for `seconds`, each run by the first free thread."""
    todo: queue.Queue = queue.Queue()
    lateness: list[float] = []

    def worker(n: int) -> None:
        rng = random.Random(f"soak:{seed}:{n}")
        http = Http(*base, recorder)
        while (item := todo.get()) is not None:
            due, action = item
            lateness.append(time.perf_counter() - due)
            action(http, shop, rng, due)

    pool = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(threads)]
    for t in pool:
        t.start()
    rng = random.Random(f"arrivals:{seed}")
    start = time.perf_counter()
    due, sent = start, 0
    while due < start + seconds:
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        todo.put((due, pick(rng, actions)))
        sent += 1
        due += rng.expovariate(rate)
    for _ in pool:
        todo.put(None)
    for t in pool:
        t.join()
    late = sorted(lateness)
    return {
        "rate_per_s": round(rate, 2),
        "actions": sent,
        "start_delay_p99_ms": round(late[int(0.99 * (len(late) - 1))] * 1000, 1) if late else None,
        "started_over_1s_late": sum(1 for x in late if x > 1),
    }


# ---- the sampler ---------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 1)


class Sampler:
    """Every `interval` s: the requests answered since the last sample and the processes' state."""

    def __init__(
        self,
        recorder: Recorder,
        interval: float,
        web_master: int,
        rq_worker: int | None = None,
        scheduler: int | None = None,
        database_url: str | None = None,
        redis_url: str | None = None,
        rq_heavy: int | None = None,
    ):
        self.recorder, self.interval = recorder, interval
        self.web_master, self.rq_worker, self.scheduler = web_master, rq_worker, scheduler
        self.rq_heavy = rq_heavy
        self.database_url, self.redis_url = database_url, redis_url
        self.samples: list[dict] = []
        self.stop = threading.Event()
        self.index = 0
        self.engine = self.redis = None
        if database_url:
            from sqlalchemy import create_engine
            from sqlalchemy.engine import make_url

            self.engine = create_engine(database_url, pool_size=1)
            self.db_name = make_url(database_url).database
        if redis_url:
            import redis

            self.redis = redis.Redis.from_url(redis_url)

    def web_cpu(self) -> tuple[float, dict[int, float]]:
        workers = {pid: s for pid in children(self.web_master) if (s := proc_stat(pid))}
        master = proc_stat(self.web_master)
        cpu = sum(s["cpu_s"] + s["children_cpu_s"] for s in workers.values())
        if master:
            cpu += master["cpu_s"]
        return cpu, {pid: round(s["rss_mb"], 1) for pid, s in workers.items()}

    def database(self) -> dict:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            threads = int(
                conn.execute(text("SHOW GLOBAL STATUS LIKE 'Threads_connected'")).one()[1]
            )
            mine = conn.execute(
                text(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = :n AND ID <> CONNECTION_ID()"
                ),
                {"n": self.db_name},
            ).scalar()
        return {"mariadb_threads_connected": threads, "db_connections": int(mine)}

    def redis_state(self) -> dict:
        """The db's keys (and those with no expiry), their MEMORY USAGE summed, RQ's queued jobs
        and its workers' job counts; used_memory is the whole server's (other dbs included)."""
        keys = persistent = size = 0
        queued, done, failed = 0, 0, 0
        names: list[bytes] = []
        pipe = self.redis.pipeline(transaction=False)

        def flush() -> None:
            nonlocal size, persistent
            answers = pipe.execute()
            size += sum(x or 0 for x in answers[0::2])
            persistent += sum(1 for x in answers[1::2] if x == -1)

        for key in self.redis.scan_iter(count=1000):
            pipe.memory_usage(key)
            pipe.ttl(key)
            keys += 1
            if key.startswith(b"rq:queue:"):
                names.append(key)
            if keys % 1000 == 0:
                flush()
        flush()
        for key in names:
            if self.redis.type(key) == b"list":
                queued += self.redis.llen(key)
        for worker in self.redis.smembers("rq:workers"):
            counts = self.redis.hmget(worker, "successful_job_count", "failed_job_count")
            done += int(counts[0] or 0)
            failed += int(counts[1] or 0)
        return {
            "redis_used_memory_mb": round(self.redis.info("memory")["used_memory"] / 2**20, 2),
            "redis_db_keys": keys,
            "redis_db_keys_no_expiry": persistent,
            "redis_db_mb": round(size / 2**20, 3),
            "rq_queued": queued,
            "rq_jobs_done": done,
            "rq_jobs_failed": failed,
        }

    def take(self, start: float, previous: dict | None) -> dict:
        records, self.index = self.recorder.since(self.index)
        now = time.perf_counter()
        web_cpu, web_rss = self.web_cpu()
        client_cpu = time.process_time()
        statuses = Counter(r[2] for r in records)
        latencies = [r[3] for r in records]
        sample = {
            "t_s": round(now - start, 1),
            "requests": len(records),
            "rps": round(len(records) / (now - previous["_at"]), 1) if previous else None,
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "status_5xx": sum(v for k, v in statuses.items() if k >= 500),
            "no_answer": statuses.get(0, 0),
            "p50_ms": pct(latencies, 50),
            "p99_ms": pct(latencies, 99),
            "web_rss_mb": web_rss,
            "web_rss_total_mb": round(sum(web_rss.values()), 1),
            "load_avg_1m": os.getloadavg()[0],
            "_at": now,
            "_web_cpu": web_cpu,
            "_client_cpu": client_cpu,
            "_latencies": latencies,
        }
        for name, pid in (
            ("rq_worker", self.rq_worker),
            ("rq_heavy_worker", self.rq_heavy),
            ("scheduler", self.scheduler),
        ):
            if pid:
                s = proc_stat(pid)
                sample[f"{name}_rss_mb"] = round(s["rss_mb"], 1) if s else None
        if previous:
            used = web_cpu - previous["_web_cpu"]
            sample["server_cpu_ms_per_request"] = (
                round(used * 1000 / len(records), 2) if records else None
            )
            sample["server_cpu_share"] = round(used / (now - previous["_at"]), 3)
            sample["client_cpu_share"] = round(
                (client_cpu - previous["_client_cpu"]) / (now - previous["_at"]), 3
            )
        if self.engine is not None:
            sample.update(self.database())
        if self.redis is not None:
            sample.update(self.redis_state())
        return sample

    def run(self) -> None:
        start = time.perf_counter()
        previous = self.take(start, None)  # the baseline: its requests (if any) are not counted
        while True:
            stopped = self.stop.wait(self.interval)
            previous = self.take(start, previous)  # on stop too: the last, shorter interval
            self.samples.append(previous)
            print(line_of(previous), flush=True)
            if stopped:
                return

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


def line_of(s: dict) -> str:
    rq = f" rq {s['rq_worker_rss_mb']} MB" if s.get("rq_worker_rss_mb") is not None else ""
    db = f" db conns {s['db_connections']}" if "db_connections" in s else ""
    red = (
        f" redis db {s['redis_db_mb']} MB/{s['redis_db_keys']} keys, rq queued {s['rq_queued']}"
        if "redis_db_mb" in s
        else ""
    )
    return (
        f"  t={s['t_s']:>6}s {s['rps']} req/s 5xx {s['status_5xx']} none {s['no_answer']} p50 {s['p50_ms']} "
        f"p99 {s['p99_ms']} ms web {s['web_rss_total_mb']} MB{rq}{db}{red} "
        f"cpu/req {s.get('server_cpu_ms_per_request')} ms load {s['load_avg_1m']:.1f}"
    )


# ---- the verdict ---------------------------------------------------------------------------------


def verdict(
    samples: list[dict],
    *,
    p99_tolerance: float = 1.5,
    p99_slack_ms: float = 25.0,
    db_limit: int | None = None,
    redis_limit_mb: float = 256.0,
) -> dict:
    """The soak's promises, judged on the samples (each with `_latencies`, the raw ms of its
    requests). First and last window: one minute each, or a quarter of a shorter run."""
    if not samples:
        return {"ok": False, "checks": [{"name": "samples", "ok": False, "detail": "no samples"}]}
    end = samples[-1]["t_s"]
    window = min(60.0, end / 4)
    first = [s for s in samples if s["t_s"] <= samples[0]["t_s"] + window - 1e-9] or samples[:1]
    last = [s for s in samples if s["t_s"] > end - window + 1e-9] or samples[-1:]
    checks = []

    def check(name: str, ok: bool, detail: str) -> None:
        checks.append({"name": name, "ok": bool(ok), "detail": detail})

    fives = sum(s["status_5xx"] for s in samples)
    lost = sum(s["no_answer"] for s in samples)
    total = sum(s["requests"] for s in samples)
    check(
        "zero 5xx",
        fives == 0 and lost == 0,
        f"{fives} 5xx and {lost} unanswered of {total:,} requests",
    )

    p_first = pct([x for s in first for x in s["_latencies"]], 99)
    p_last = pct([x for s in last for x in s["_latencies"]], 99)
    if p_first is None or p_last is None:
        check("p99 stable", False, "no requests in the first or last window")
    else:
        bound = max(p_first * p99_tolerance, p_first + p99_slack_ms)
        check(
            "p99 stable",
            p_last <= bound,
            f"last {window:.0f} s {p_last} ms vs first {p_first} ms (bound {bound:.1f} ms = "
            f"max({p99_tolerance} x first, first + {p99_slack_ms:.0f} ms)); load average "
            f"{statistics.fmean(s['load_avg_1m'] for s in first):.1f} then "
            f"{statistics.fmean(s['load_avg_1m'] for s in last):.1f}; not judged: the worst "
            f"{samples[0]['t_s']:.0f}-s interval's p99 "
            f"{max((s['p99_ms'] for s in samples if s['p99_ms'] is not None), default=0)} ms",
        )

    def growth(key: str) -> tuple[float, float, float] | None:
        a = [s[key] for s in first if s.get(key) is not None]
        b = [s[key] for s in last if s.get(key) is not None]
        if not a or not b:
            return None
        x, y = statistics.fmean(a), statistics.fmean(b)
        return x, y, (y - x) / x if x else 0.0

    pids = [tuple(sorted(s["web_rss_mb"])) for s in samples]
    g = growth("web_rss_total_mb")
    replaced = len(set(pids)) > 1
    check(
        "web RSS growth < 10 %",
        g is not None and g[2] < RSS_GROWTH_LIMIT and not replaced,
        (
            f"{g[0]:.1f} -> {g[1]:.1f} MB ({g[2]:+.1%}) over {len(pids[-1])} gunicorn workers"
            if g
            else "no figures"
        )
        + ("; a worker was replaced (its memory started over)" if replaced else ""),
    )
    if any(s.get("rq_worker_rss_mb") is not None for s in samples):
        g = growth("rq_worker_rss_mb")
        check(
            "RQ worker RSS growth < 10 %",
            g is not None and g[2] < RSS_GROWTH_LIMIT,
            f"{g[0]:.1f} -> {g[1]:.1f} MB ({g[2]:+.1%})" if g else "the worker is gone",
        )
    if any("db_connections" in s for s in samples):
        peak = max(s["db_connections"] for s in samples)
        a = max(s["db_connections"] for s in first)
        b = max(s["db_connections"] for s in last)
        ok = b <= 2 * a + 2 and (db_limit is None or peak < db_limit)
        check(
            "DB connections bounded",
            ok,
            f"max {peak} (pool limit {db_limit}); first window max {a}, last {b} (bound 2 x first + 2); "
            f"whole server Threads_connected max {max(s['mariadb_threads_connected'] for s in samples)}",
        )
    if any("redis_db_mb" in s for s in samples):
        peak = max(s["redis_db_mb"] for s in samples)
        a = max(s["redis_db_keys_no_expiry"] for s in first)
        b = max(s["redis_db_keys_no_expiry"] for s in last)
        check(
            "Redis memory bounded",
            peak < redis_limit_mb and b <= 2 * a + 50,
            f"the db's keys took max {peak:.1f} MB (limit {redis_limit_mb:.0f}); keys with no expiry "
            f"(what TTLs will not clear) first window max {a:,}, last {b:,} (bound 2 x first + 50); "
            f"{samples[-1]['redis_db_keys']:,} keys at the end; whole server used_memory max "
            f"{max(s['redis_used_memory_mb'] for s in samples):.1f} MB",
        )
        a = max(s["rq_queued"] for s in first)
        b = max(s["rq_queued"] for s in last)
        failed = samples[-1]["rq_jobs_failed"] - samples[0]["rq_jobs_failed"]
        done = samples[-1]["rq_jobs_done"] - samples[0]["rq_jobs_done"]
        span = max(1e-9, samples[-1]["t_s"] - samples[0]["t_s"])
        check(
            "RQ keeps up",
            b <= max(2 * a, a + 50) and failed == 0,
            f"queued jobs first window max {a:,}, last {b:,} (bound max(2 x first, first + 50)); "
            f"{done:,} jobs done ({done / span:.1f}/s), {failed} failed",
        )
    return {"ok": all(c["ok"] for c in checks), "window_s": round(window, 1), "checks": checks}


# ---- set-up --------------------------------------------------------------------------------------


def stage_prepare(url: str, products: int, orders: int, reuse: bool) -> None:
    """Child process: seed (unless reuse) like bench/seed_bench.py; development config, embedded."""
    from seed_bench import prepare_database
    from sqlalchemy.engine import make_url

    if make_url(url).database in ("shop_bench", "", None):
        sys.exit("use a database of this bench's own (default shop_soak_bench)")
    action = "reused" if reuse else prepare_database(url, keep=False)
    print(f"database {url.split('@')[-1]}: {action}", flush=True)
    os.environ.update(
        APP_CONFIG="development",
        DATABASE_URL=url,
        INSTANCE_PATH=tempfile.mkdtemp(prefix="soak-seed-"),
        ADMIN_PASSWORD=BENCH_ADMIN_PASSWORD,
        FLASK_APP="wsgi.py",
    )
    for name in ("REDIS_URL", "JOBS_MODE", "RATELIMIT_STORAGE_URI", "SOCKETIO_MESSAGE_QUEUE"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade

    from admin.cli import init_platform
    from app import create_app

    app = create_app("development", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        if not reuse:
            from seed_orders import seed_orders

            from admin.demo.seed import seed

            init_platform(BENCH_ADMIN_PASSWORD)
            t = time.perf_counter()
            seed(products, log=lambda line: print(f"  {line}", flush=True))
            if orders:
                seed_orders(
                    orders,
                    rng=random.Random("soak:orders"),
                    log=lambda line: print(f"  {line}", flush=True),
                )
            print(f"seeded in {time.perf_counter() - t:.0f} s", flush=True)


def bench_facts(url: str, customers: int) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        tenant = conn.execute(
            text("SELECT id FROM tenants WHERE slug = :s"), {"s": TENANT}
        ).scalar()
        q = {"t": tenant}
        products = conn.execute(
            text("SELECT COUNT(*) FROM products WHERE tenant_id = :t AND status = 'active'"), q
        ).scalar()
        sample = (
            conn.execute(
                text(
                    "SELECT id FROM products WHERE tenant_id = :t AND status = 'active' ORDER BY RAND(7) LIMIT 5000"
                ),
                q,
            )
            .scalars()
            .all()
        )
        titles = (
            conn.execute(
                text("SELECT title FROM products WHERE tenant_id = :t ORDER BY RAND(8) LIMIT 300"),
                q,
            )
            .scalars()
            .all()
        )
        variants = (
            conn.execute(
                text(
                    "SELECT v.id FROM product_variants v JOIN products p ON p.id = v.product_id "
                    "JOIN stock_levels s ON s.variant_id = v.id JOIN warehouses w ON w.id = s.warehouse_id "
                    "WHERE v.tenant_id = :t AND v.is_active = 1 AND p.status = 'active' AND w.is_active = 1 "
                    "GROUP BY v.id HAVING SUM(s.quantity_on_hand - s.quantity_reserved) >= 30 "
                    "ORDER BY RAND(9) LIMIT 5000"
                ),
                q,
            )
            .scalars()
            .all()
        )
        emails = (
            conn.execute(
                text(
                    "SELECT u.email FROM ab_user u JOIN customer_profiles c ON c.user_id = u.id "
                    "WHERE c.tenant_id = :t AND u.active = 1 ORDER BY u.id LIMIT :n"
                ),
                {**q, "n": customers},
            )
            .scalars()
            .all()
        )
        categories = (
            conn.execute(
                text("SELECT slug FROM categories WHERE tenant_id = :t AND parent_id IS NOT NULL"),
                q,
            )
            .scalars()
            .all()
        )
        orders = conn.execute(text("SELECT COUNT(*) FROM orders WHERE tenant_id = :t"), q).scalar()
    engine.dispose()
    words = sorted({w.lower() for t in titles for w in re.findall(r"[A-Za-z]{4,}", t)})
    if products < 100 or len(variants) < 50 or not emails or not categories:
        sys.exit("the bench database has (almost) no products or customers: run without --reuse")
    return {
        "products_active": products,
        "orders_before": orders,
        "products": list(sample),
        "variants": list(variants),
        "emails": list(emails),
        "categories": list(categories),
        "words": words[:200],
    }


def admin_login(host: str, port: int) -> str:
    """The Super Admin's FAB session cookie, through the login form (CSRF token from GET /login/)."""
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request("GET", "/login/")
    page = conn.getresponse()
    html = page.read().decode()
    cookie = page.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    if not token:
        raise RuntimeError("no csrf_token on /login/")
    from urllib.parse import urlencode

    form = urlencode(
        {"username": "admin", "password": BENCH_ADMIN_PASSWORD, "csrf_token": token.group(1)}
    )
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request(
        "POST",
        "/login/",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    answer = conn.getresponse()
    answer.read()
    if answer.status != 302 or "/login" in (answer.getheader("Location") or ""):
        raise RuntimeError(f"admin login failed: HTTP {answer.status}")
    return answer.getheader("Set-Cookie", "").split(";")[0]


def start(argv: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # gunicorn's master and RQ's worker stop their own children
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_up(host: str, port: int, proc: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            conn = http.client.HTTPConnection(host, port, timeout=2)
            conn.request("GET", "/api/core/ping")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer within {seconds:.0f} s")


# ---- the report ----------------------------------------------------------------------------------


def summarise(phase: list[dict]) -> dict:
    statuses: Counter = Counter()
    for s in phase:
        statuses.update({int(k): v for k, v in s["statuses"].items()})
    latencies = [x for s in phase for x in s["_latencies"]]
    span = (
        (phase[-1]["t_s"] - phase[0]["t_s"] + (phase[1]["t_s"] - phase[0]["t_s"]))
        if len(phase) > 1
        else 1
    )
    return {
        "requests": sum(statuses.values()),
        "requests_per_s": round(sum(statuses.values()) / span, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "p50_ms": pct(latencies, 50),
        "p90_ms": pct(latencies, 90),
        "p99_ms": pct(latencies, 99),
    }


def labels_table(records: list) -> dict:
    by: dict[str, list] = {}
    for _, label, status, ms in records:
        by.setdefault(label, []).append((status, ms))
    return {
        label: {
            "requests": len(rows),
            "statuses": dict(Counter(str(s) for s, _ in rows)),
            "p50_ms": pct([m for _, m in rows], 50),
            "p99_ms": pct([m for _, m in rows], 99),
        }
        for label, rows in sorted(by.items())
    }


def write_results(name: str, result: dict, samples: list[dict]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    public = [{k: v for k, v in s.items() if not k.startswith("_")} for s in samples]
    result["samples"] = public
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    columns = [
        "t_s", "rps", "requests", "status_5xx", "no_answer", "p50_ms", "p99_ms", "web_rss_total_mb",
        "rq_worker_rss_mb", "scheduler_rss_mb", "server_cpu_ms_per_request", "server_cpu_share",
        "client_cpu_share", "db_connections", "mariadb_threads_connected", "redis_db_keys", "redis_db_mb",
        "redis_used_memory_mb", "redis_db_keys_no_expiry", "rq_queued", "rq_jobs_done", "rq_jobs_failed",
        "load_avg_1m",
    ]  # fmt: skip
    with (RESULTS / f"{name}.csv").open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(columns + ["web_rss_mb_per_worker"])
        for s in public:
            out.writerow(
                [s.get(c) for c in columns] + [" ".join(str(v) for v in s["web_rss_mb"].values())]
            )
    v = result["verdict"]
    m, o = result["maximum"], result["soak"]
    lines = [
        f"### {result['when']}: {result['minutes']} min at {result['load']:.0%} of the maximum, "
        f"{result['database']['products_active']:,} products — {'PASS' if v['ok'] else 'FAIL'}",
        "",
        f"Server: {result['server']}, RQ workers (`flask worker {result['rq_worker_args']}`"
        + (
            f", `flask worker {result['rq_heavy_worker_args']}`"
            if result.get("rq_heavy_worker_args")
            else ""
        )
        + ") and `flask scheduler`, "
        f"Redis {result['redis_url']} (JOBS_MODE=rq), MariaDB `{result['database']['name']}` "
        f"({result['database']['orders_before']:,} orders before the run). Shared 2-CPU machine: load "
        f"average {result['load_avg_start']} at the start, {result['load_avg_end']} at the end.",
        "",
        f"- maximum (closed loop, {m['threads']} clients, {m['seconds']} s): {m['actions_per_s']} actions/s, "
        f"{m['summary']['requests_per_s']} req/s, p99 {m['summary']['p99_ms']} ms, statuses {m['summary']['statuses']}",
        f"- soak (open loop, Poisson arrivals): {o['rate_per_s']} actions/s, {o['summary']['requests_per_s']} req/s; "
        f"{o['summary']['requests']:,} requests, statuses {o['summary']['statuses']}; p50 {o['summary']['p50_ms']} ms, "
        f"p99 {o['summary']['p99_ms']} ms; checkouts {o['checkouts']}; client CPU {o['client_cpu_s']} s "
        f"({o['client_cpu_share']:.0%} of a CPU); actions started > 1 s late {o['started_over_1s_late']}",
        "",
        "| check | result | figures |",
        "|---|---|---|",
        *[f"| {c['name']} | {'ok' if c['ok'] else 'FAIL'} | {c['detail']} |" for c in v["checks"]],
        "",
        "| request | n | statuses | p50 ms | p99 ms |",
        "|---|---|---|---|---|",
        *[
            f"| {k} | {x['requests']:,} | {x['statuses']} | {x['p50_ms']} | {x['p99_ms']} |"
            for k, x in o["by_request"].items()
        ],
        "",
        f"The curve (every {result['interval_s']} s): `bench/results/{name}.csv` "
        "(no PNG: matplotlib is not in the venv).",
        "",
        "| t (s) | req/s | 5xx | p50 ms | p99 ms | web RSS MB | RQ worker MB | CPU ms/req "
        "| DB conns | Redis db MB | RQ queued | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    step = max(1, len(public) // 20)
    for s in public[::step] + ([public[-1]] if (len(public) - 1) % step else []):
        lines.append(
            f"| {s['t_s']} | {s['rps']} | {s['status_5xx']} | {s['p50_ms']} | {s['p99_ms']} | {s['web_rss_total_mb']} "
            f"| {s.get('rq_worker_rss_mb')} | {s.get('server_cpu_ms_per_request')} | {s.get('db_connections')} "
            f"| {s.get('redis_db_mb')} | {s.get('rq_queued')} | {s['load_avg_1m']:.1f} |"
        )
    with (RESULTS / f"{name}.md").open("a") as fh:
        fh.write("\n".join(lines) + "\n\n")
    print("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("SOAK_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--port", type=int, default=5094)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=2000, help="orders seeded with the products")
    parser.add_argument("--reuse", action="store_true", help="the database is seeded already")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--max-seconds", type=float, default=30.0)
    parser.add_argument("--max-threads", type=int, default=16)
    parser.add_argument(
        "--load", type=float, default=0.7, help="share of the maximum the soak runs at"
    )
    parser.add_argument("--pool-threads", type=int, default=64, help="open loop: client threads")
    parser.add_argument("--customers", type=int, default=40, help="customers logged in")
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--p99-tolerance", type=float, default=1.5)
    parser.add_argument("--p99-slack-ms", type=float, default=25.0)
    parser.add_argument("--redis-limit-mb", type=float, default=256.0)
    parser.add_argument(
        "--rq-worker-args",
        default="--max-jobs 10000 high default",
        help="arguments of `flask worker` (docker-compose's `worker`: in-process jobs)",
    )
    parser.add_argument(
        "--rq-heavy-worker-args",
        default="--fork low",
        help="arguments of the second `flask worker` (docker-compose's `worker-heavy`); '' for none",
    )
    parser.add_argument(
        "--name", default="soak", help="results: bench/results/<name>.{json,md,csv}"
    )
    parser.add_argument("--stage", choices=["prepare"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = args.database_url
    if args.stage == "prepare":
        stage_prepare(url, args.products, args.orders, args.reuse)
        return 0

    load_start = os.getloadavg()
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "--stage", "prepare", "--database-url", url, "--products", str(args.products),
         "--orders", str(args.orders), *(["--reuse"] if args.reuse else [])],
        check=True,
    )  # fmt: skip
    prepare_s = round(time.perf_counter() - t, 1)
    facts = bench_facts(url, args.customers)
    print(
        f"{facts['products_active']:,} active products, {facts['orders_before']:,} orders, "
        f"{len(facts['emails'])} customers, {len(facts['variants']):,} in-stock variants",
        flush=True,
    )

    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    instance = Path(tempfile.mkdtemp(prefix="soak-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "ELASTICSEARCH_URL",
            "SUPERSET_URL",
            "RATELIMIT_STORAGE_URI",
            "SOCKETIO_MESSAGE_QUEUE",
        )
    }
    limit = "100000 per second"
    env.update(
        APP_CONFIG="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=url,
        REDIS_URL=args.redis_url,
        JOBS_MODE="rq",
        INSTANCE_PATH=str(instance),
        FLASK_APP="wsgi.py",
        PYTHONUNBUFFERED="1",
        PAYMENT_METHODS="bank_transfer,cash_on_delivery,test_card",
        API_LOGIN_RATE_LIMIT=limit,
        API_SEARCH_RATE_LIMIT=limit,
        API_WRITE_RATE_LIMIT=limit,
        API_GUEST_ORDER_RATE_LIMIT=limit,
        AUTH_RATE_LIMIT=limit,
    )
    argv, server_desc = gunicorn_argv(args.port)
    host = "127.0.0.1"
    web = worker = heavy = scheduler = None
    recorder = Recorder()
    try:
        web = start(argv, env, instance / "gunicorn.log")
        worker = start(
            [sys.executable, "-m", "flask", "worker", *args.rq_worker_args.split()],
            env,
            instance / "worker.log",
        )
        if args.rq_heavy_worker_args.strip():
            heavy = start(
                [sys.executable, "-m", "flask", "worker", *args.rq_heavy_worker_args.split()],
                env,
                instance / "worker-heavy.log",
            )
        scheduler = start(
            [sys.executable, "-m", "flask", "scheduler"], env, instance / "scheduler.log"
        )
        wait_up(host, args.port, web, instance / "gunicorn.log")
        print(
            f"gunicorn {web.pid} ({server_desc}), RQ worker {worker.pid}, scheduler {scheduler.pid}",
            flush=True,
        )
        customers = [Customer(e) for e in facts["emails"]]
        http = Http(host, args.port, Recorder())
        with ThreadPoolExecutor(4) as pool:  # one per gunicorn worker: password checks are slow
            logged = list(pool.map(lambda c: c.login(Http(host, args.port, Recorder())), customers))
        customers = [c for c, ok in zip(customers, logged, strict=True) if ok]
        if not customers:
            raise RuntimeError("no customer could log in (or none has an address)")
        status, body, _ = http.request("categories", "GET", "/api/v1/products/categories/")
        facts["categories"] = [c["slug"] for c in json.loads(body)["items"]] or facts["categories"]
        shop = Shop(facts, customers, admin_login(host, args.port))
        print(f"{len(customers)} customers and the Super Admin logged in", flush=True)

        print(
            f"maximum: {args.max_threads} clients, closed loop, {args.max_seconds:.0f} s ...",
            flush=True,
        )
        sampler = Sampler(recorder, args.interval, web.pid)
        thread = threading.Thread(target=sampler.run, daemon=True)
        thread.start()
        maximum = closed_loop((host, args.port), shop, args.max_threads, args.max_seconds, recorder)
        sampler.stop.set()
        thread.join()
        maximum["summary"] = summarise(sampler.samples) if sampler.samples else {}
        maximum["checkouts"] = dict(shop.checkouts)
        print(json.dumps(maximum), flush=True)

        shop.checkouts.clear()
        rate = maximum["actions_per_s"] * args.load
        print(f"soak: {rate:.1f} actions/s (open loop) for {args.minutes} min ...", flush=True)
        soak_start = len(recorder.records)
        sampler = Sampler(
            recorder,
            args.interval,
            web.pid,
            worker.pid,
            scheduler.pid,
            url,
            args.redis_url,
            rq_heavy=heavy.pid if heavy else None,
        )
        thread = threading.Thread(target=sampler.run, daemon=True)
        thread.start()
        cpu0 = time.process_time()
        soak = open_loop(
            (host, args.port), shop, rate, args.minutes * 60, args.pool_threads, recorder
        )
        soak["client_cpu_s"] = round(time.process_time() - cpu0, 1)
        soak["client_cpu_share"] = round(soak["client_cpu_s"] / (args.minutes * 60), 3)
        time.sleep(0.5)
        sampler.stop.set()
        thread.join()
        sampler.close()
        soak["checkouts"] = dict(shop.checkouts)
        soak["summary"] = summarise(sampler.samples)
        soak["by_request"] = labels_table(recorder.records[soak_start:])
        samples = sampler.samples
    finally:
        for proc in (scheduler, heavy, worker, web):
            stop(proc)
    n_web = len(samples[-1]["web_rss_mb"]) if samples else 0
    v = verdict(
        samples,
        p99_tolerance=args.p99_tolerance,
        p99_slack_ms=args.p99_slack_ms,
        db_limit=(n_web + 2) * POOL_PER_PROCESS,
        redis_limit_mb=args.redis_limit_mb,
    )
    result = {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "minutes": args.minutes,
        "load": args.load,
        "interval_s": args.interval,
        "server": server_desc,
        "redis_url": args.redis_url,
        "rq_worker_args": args.rq_worker_args,
        "rq_heavy_worker_args": args.rq_heavy_worker_args,
        "database": {
            "name": url.split("/")[-1].split("?")[0],
            "products_active": facts["products_active"],
            "orders_before": facts["orders_before"],
            "prepare_s": prepare_s,
            "reused": args.reuse,
        },
        "customers_logged_in": len(shop.customers.queue),
        "actions": {a.__name__[2:]: w for a, w in ACTIONS},
        "maximum": maximum,
        "soak": soak,
        "verdict": v,
        "load_avg_start": [round(x, 1) for x in load_start],
        "load_avg_end": [round(x, 1) for x in os.getloadavg()],
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "note": "shared 2-CPU machine: other helpers' test suites ran during the run",
    }
    write_results(args.name, result, samples)
    for c in v["checks"]:
        print(f"{'ok  ' if c['ok'] else 'FAIL'} {c['name']}: {c['detail']}")
    print("PASS" if v["ok"] else "FAIL", flush=True)
    return 0 if v["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
