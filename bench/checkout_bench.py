"""Checkout over HTTP: throughput (orders/s) and contention (many buyers, few units), against
gunicorn (production config) on a MariaDB database of its own seeded with 100,000 products.

    /root/.cache/marketplace/venv-7a321e44dd0d/bin/python bench/checkout_bench.py  # seed + both
    python bench/checkout_bench.py --reuse      # shop_checkout_bench is seeded already (seeding: 3-5 min)
    python bench/checkout_bench.py --reuse --duration 30 --buyers 300 --profile
    python bench/checkout_bench.py --reuse --worker --tag "with worker"   # events applied too

1. Database `shop_checkout_bench` (never shop_bench or another): made like bench/seed_bench.py
   makes its own (seed_bench.prepare_database: created with seed_bench's comment, dropped and
   re-created only when it carries it), migrated with `flask db upgrade heads`
   (flask_migrate.upgrade(revision="heads"): the orders work has several heads until they are
   relinked), `flask init` and seed(--products). This runs in a child process (development
   config, embedded mode). The same child then gives the default tenant a shipping zone (GB,
   "Standard" flat 4.99) and a 20 % GB tax rule when it has none, so checkouts price for real.
   --reuse skips the seeding (upgrade heads and the zone/tax set-up still run).
2. Server: gunicorn with gunicorn.conf.py (as bench/api_bench.py; --worker-class, --workers and
   --server-threads override it), APP_CONFIG=production,
   a random SECRET_KEY, REDIS_URL=redis://127.0.0.1:6379/12 (its own db, flushed at start),
   PAYMENT_METHODS with test_card (production leaves it out), and API_WRITE_RATE_LIMIT raised:
   every buyer comes from 127.0.0.1, and the per-IP write limit (120/min) would otherwise be
   what is measured. By default no RQ worker runs: events (order.created, payment.captured, ...)
   wait on Redis, so the order's move to `paid` and its reserved units to sold (jobs) are not part
   of the figures; the count of queued jobs is reported. --worker also runs `flask worker --simple`
   on the same Redis db (it shares the CPUs), and lets it drain the queues before the database is
   read.
3. Throughput: --threads (16) guest buyers, one requests.Session each, loop: a fresh guest cart
   with 1-3 random in-stock variants (POST /api/v1/cart/add/, the X-Cart-Token of the first
   answer sent afterwards), then POST /api/v1/orders/ with a fresh Idempotency-Key, an e-mail, a
   GB shipping address and the success test card (4242 4242 4242 4242) paid inline. --warmup
   seconds are not counted; over the next --duration seconds, orders/s = checkouts answered 201
   with payment.status "captured", per second. p50/p95/p99 of the checkout POST and of a whole
   loop (adds included); answers other than 200/201 counted by request, status and error code;
   this database's busy connections and InnoDB lock waits sampled every 0.5 s; CPU seconds used
   in the window by gunicorn (master + workers), MariaDB (all of it) and this client, per order.
4. Contention: a variant nobody bought in step 3 gets exactly --units (50) units in one
   warehouse (a direct UPDATE of its stock rows: 50/0 on hand in the first, 0/0 elsewhere);
   --buyers (1,000) guest carts of 1 unit of it are filled first, then checked out at once by
   --contention-threads (64) threads (same body, success card). Reported: 201s, 409 out_of_stock
   and other answers; read from the database afterwards: on_hand/reserved of the stock rows,
   held reservations, units on order lines of live (not cancelled) orders, oversold =
   ordered units - units (must be 0), and whether reserved + sold (= units - on_hand) stays
   within the units.
5. --profile (or automatically when orders/s is under half the target, unless --no-profile):
   a child process replays --profile-orders checkouts in-process (Flask test client,
   production config, same database and Redis db) and writes bench/results/checkout_profile.md:
   SQL statements per add and per checkout, grouped, with their time; a cProfile summary.

Never asserts on time. Figures: bench/results/checkout_bench.json (this run) and a line in
bench/results/checkout_bench.md. The machine's CPUs are shared by the client threads, gunicorn,
MariaDB and Redis (and other work): compare runs made on the same machine.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import random
import re
import secrets
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
sys.path.insert(0, str(ROOT))
from seed_bench import BENCH_ADMIN_PASSWORD  # noqa: E402
from serving import gunicorn_argv  # noqa: E402

DEFAULT_URL = "mysql+mysqldb://root@127.0.0.1:3306/shop_checkout_bench?charset=utf8mb4"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
TENANT = "default"
CART_TOKEN = "X-Cart-Token"
ADDRESS = {
    "full_name": "Bench Buyer",
    "line1": "1 Bench Street",
    "city": "London",
    "postal_code": "N1 1AA",
    "country": "GB",
}
CARD_OK = {"method": "test_card", "details": {"card_number": "4242424242424242"}}
TARGET_ORDERS_PER_S = 150.0


# ---- child stages (they import the app; the parent never does) ------------------------------------


def stage_prepare(url: str, products: int, reuse: bool) -> None:
    """Seed (unless reuse) and set up shipping and tax; development config, embedded mode."""
    from seed_bench import prepare_database
    from sqlalchemy.engine import make_url

    if make_url(url).database in ("shop_bench", "", None):
        sys.exit("use a database of this bench's own (default shop_checkout_bench)")
    action = "reused"
    if not reuse:
        action = prepare_database(url, keep=False)
    print(f"database {url.split('@')[-1]}: {action}", flush=True)
    os.environ.update(
        APP_CONFIG="development",
        DATABASE_URL=url,
        INSTANCE_PATH=tempfile.mkdtemp(prefix="co-bench-"),
        ADMIN_PASSWORD=BENCH_ADMIN_PASSWORD,
        FLASK_APP="wsgi.py",
    )
    for name in ("REDIS_URL", "JOBS_MODE", "RATELIMIT_STORAGE_URI", "SOCKETIO_MESSAGE_QUEUE"):
        os.environ.pop(name, None)

    from decimal import Decimal

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from admin.cli import init_platform
    from app import create_app
    from app.core.tenancy import tenant_scope, unscoped
    from app.extensions import db
    from app.shipping.models import ShippingMethod, ShippingZone
    from app.tax.models import TaxRule
    from app.tenants.models import Tenant

    timings = {}
    app = create_app("development", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        t = time.perf_counter()
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        timings["db_upgrade_s"] = round(time.perf_counter() - t, 1)
        if not reuse:
            from admin.demo.seed import seed

            init_platform(BENCH_ADMIN_PASSWORD)
            t = time.perf_counter()
            seed(products, log=lambda line: print(f"  {line}", flush=True))
            timings["seed_s"] = round(time.perf_counter() - t, 1)
        with unscoped():
            tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == TENANT))
        with tenant_scope(tenant_id):
            # the demo seed ships within the tenant's own region (US for the default tenant)
            if not db.session.scalar(
                select(func.count())
                .select_from(ShippingZone)
                .where(ShippingZone.areas.contains("GB"))
            ):
                zone = ShippingZone(name="UK (bench)", areas="GB")
                db.session.add_all(
                    [
                        zone,
                        ShippingMethod(
                            zone=zone,
                            name="Standard",
                            carrier_code="manual",
                            rate_type="flat",
                            flat_rate=Decimal("4.99"),
                        ),
                        TaxRule(name="VAT GB (bench)", country="GB", rate=Decimal("0.2000")),
                    ]
                )
                db.session.commit()
                print("shipping zone GB (flat 4.99) and 20 % GB VAT added", flush=True)
        db.session.remove()
    print("TIMINGS " + json.dumps(timings), flush=True)


def stage_profile(url: str, redis_url: str, n: int, out: Path, facts: dict) -> None:
    """Replay n guest checkouts in-process (production config): SQL per request and cProfile."""
    from admin_list_bench import _group, _short
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app("production")
    with app.app_context():
        engine = db.engine
    statements: list[dict] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("_t", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        took = (time.perf_counter() - conn.info["_t"].pop()) * 1000
        statements.append({"ms": took, "sql": statement})

    @event.listens_for(engine, "commit")
    def _commit(conn):
        statements.append({"ms": 0.0, "sql": "COMMIT (transaction)"})

    rng = random.Random(11)
    variants = facts["variants"]
    client = app.test_client()
    h = {"X-Tenant": TENANT}
    adds: list[list[dict]] = []
    checkouts: list[list[dict]] = []
    walls: dict[str, list[float]] = {"add": [], "checkout": []}
    profiler = cProfile.Profile()
    for i in range(n + 2):  # the first two warm up
        headers = dict(h)
        for variant_id in rng.sample(variants, rng.randint(1, 3)):
            statements.clear()
            t = time.perf_counter()
            r = client.post(
                "/api/v1/cart/add/", headers=headers, json={"variant_id": variant_id, "quantity": 1}
            )
            if i >= 2:
                walls["add"].append((time.perf_counter() - t) * 1000)
                adds.append(list(statements))
            if r.status_code != 200:
                raise RuntimeError(
                    f"cart add: HTTP {r.status_code} {r.get_data(as_text=True)[:300]}"
                )
            headers.setdefault(CART_TOKEN, r.headers.get(CART_TOKEN))
        statements.clear()
        body = {"email": f"profile{i}@example.com", "shipping_address": ADDRESS, "payment": CARD_OK}
        profiled = (
            i >= 2 + n // 2
        )  # the first half is timed without the profiler, the second half profiled
        t = time.perf_counter()
        if profiled:
            profiler.enable()
        r = client.post(
            "/api/v1/orders/", headers={**headers, "Idempotency-Key": uuid.uuid4().hex}, json=body
        )
        if profiled:
            profiler.disable()
        if i >= 2:
            if not profiled:
                walls["checkout"].append((time.perf_counter() - t) * 1000)
            checkouts.append(list(statements))
        if r.status_code != 201:
            raise RuntimeError(f"checkout: HTTP {r.status_code} {r.get_data(as_text=True)[:300]}")

    lines = [
        f"# Checkout: where the time goes ({dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC)",
        "",
        f"{n} guest checkouts replayed in-process (Flask test client, production config, "
        f"{url.split('@')[-1].split('?')[0]}, Redis {redis_url}), one after another, each after 1-3 "
        "POST /api/v1/cart/add/; two more before them warm up. Times are in-process (no HTTP, no "
        "gunicorn), on the shared 2-CPU machine.",
        "",
    ]
    for name, runs in (
        ("POST /api/v1/cart/add/", adds),
        ("POST /api/v1/orders/ (with the test card)", checkouts),
    ):
        key = "add" if "cart" in name else "checkout"
        flat = [s for run in runs for s in run]
        per = len(flat) / len(runs)  # commits included, subtracted below
        sql_ms = sum(s["ms"] for s in flat) / len(runs)
        wall = statistics.fmean(walls[key])
        commits = sum(1 for s in flat if s["sql"].startswith("COMMIT")) / len(runs)
        lines += [
            f"## {name}",
            "",
            f"{len(runs)} requests: mean {wall:.1f} ms in-process (without the profiler), "
            f"SQL {sql_ms:.1f} ms of it; {per - commits:.1f} SQL statements and {commits:.1f} commits "
            "per request.",
            "",
            "| per request | total ms per request | statement (normalised) |",
            "|---|---|---|",
        ]
        groups: dict[str, list[float]] = {}
        for s in flat:
            groups.setdefault(_group(s["sql"]), []).append(s["ms"])
        for stmt, times in sorted(groups.items(), key=lambda kv: (-len(kv[1]), -sum(kv[1])))[:32]:
            lines.append(
                f"| {len(times) / len(runs):.1f} | {sum(times) / len(runs):.2f} | "
                f"`{stmt.replace('|', '/')}` |"
            )
        kinds = Counter(_short(s["sql"]).split(" ", 1)[0].upper() for s in flat)
        lines += [
            "",
            "By kind, per request: "
            + ", ".join(f"{k} {v / len(runs):.1f}" for k, v in kinds.most_common()),
            "",
        ]
    stats = io.StringIO()
    pstats.Stats(profiler, stream=stats).sort_stats("cumulative").print_stats(40)
    top = "\n".join(line for line in stats.getvalue().splitlines() if line.strip())
    lines += [
        f"## cProfile of the last {n - n // 2} checkouts (cumulative, top 40)",
        "",
        "```",
        top[-9000:],
        "```",
        "",
    ]
    stats = io.StringIO()
    pstats.Stats(profiler, stream=stats).sort_stats("cumulative").print_stats(
        f"{ROOT}/(app|storefront_api)/", 35
    )
    top = "\n".join(
        line.replace(f"{ROOT}/", "") for line in stats.getvalue().splitlines() if line.strip()
    )
    lines += [
        f"## cProfile of the last {n - n // 2} checkouts: the project's own functions (cumulative, top 35)",
        "",
        "```",
        top[-7000:],
        "```",
        "",
    ]
    stats = io.StringIO()
    pstats.Stats(profiler, stream=stats).sort_stats("tottime").print_stats(20)
    top = "\n".join(line for line in stats.getvalue().splitlines() if line.strip())
    lines += [
        f"## cProfile of the last {n - n // 2} checkouts (own time, top 20)",
        "",
        "```",
        top[-5000:],
        "```",
        "",
    ]
    out.write_text("\n".join(lines) + "\n")
    print(f"profile: {out}", flush=True)


# ---- the parent: database facts, server, load --------------------------------------------------


def run_stage(args: list[str], env: dict | None = None) -> str:
    """Run a child stage, echoing its output as it comes; returns the output."""
    proc = subprocess.Popen(
        [sys.executable, __file__, *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "UserWarning" not in line and "get_unique_schema_name" not in line:
            print(line, end="", flush=True)
    if proc.wait() != 0:
        raise SystemExit(f"stage {args[:2]} failed with exit status {proc.returncode}")
    return "".join(lines)


def bench_facts(url: str, sample: int) -> dict:
    """The tenant, a sample of in-stock sellable variants, and the hot variant (not in the sample)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        tenant_id = conn.execute(
            text("SELECT id FROM tenants WHERE slug = :s"), {"s": TENANT}
        ).scalar()
        products = conn.execute(
            text("SELECT COUNT(*) FROM products WHERE tenant_id = :t"), {"t": tenant_id}
        ).scalar()
        rows = (
            conn.execute(
                text(
                    "SELECT v.id FROM product_variants v JOIN products p ON p.id = v.product_id "
                    "JOIN stock_levels s ON s.variant_id = v.id JOIN warehouses w ON w.id = s.warehouse_id "
                    "WHERE v.tenant_id = :t AND v.is_active = 1 AND p.status = 'active' AND w.is_active = 1 "
                    "GROUP BY v.id HAVING SUM(s.quantity_on_hand - s.quantity_reserved) >= 30 "
                    "ORDER BY v.id LIMIT :n"
                ),
                {"t": tenant_id, "n": sample},
            )
            .scalars()
            .all()
        )
        # the contention variant: one no order ever held (earlier runs with --reuse), far from the sample
        hot = conn.execute(
            text(
                "SELECT v.id FROM product_variants v JOIN products p ON p.id = v.product_id "
                "WHERE v.tenant_id = :t AND v.is_active = 1 AND p.status = 'active' "
                "AND EXISTS (SELECT 1 FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id "
                "WHERE s.variant_id = v.id AND w.is_active = 1) "
                "AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.variant_id = v.id) "
                "ORDER BY v.id DESC LIMIT 1"
            ),
            {"t": tenant_id},
        ).scalar()
    engine.dispose()
    if products < 1000 or len(rows) < 100 or hot is None:
        sys.exit("the bench database has (almost) no products: run without --reuse")
    return {
        "tenant_id": tenant_id,
        "products": products,
        "hot_variant": hot,
        "variants": list(rows),
    }


def set_hot_stock(url: str, variant_id: int, units: int) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        ids = (
            conn.execute(
                text(
                    "SELECT s.id FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id "
                    "WHERE s.variant_id = :v AND w.is_active = 1 ORDER BY s.id FOR UPDATE"
                ),
                {"v": variant_id},
            )
            .scalars()
            .all()
        )
        conn.execute(
            text(
                "UPDATE stock_levels SET quantity_reserved = 0, quantity_on_hand = 0 WHERE variant_id = :v"
            ),
            {"v": variant_id},
        )
        conn.execute(
            text("UPDATE stock_levels SET quantity_on_hand = :u WHERE id = :id"),
            {"u": units, "id": ids[0]},
        )
    engine.dispose()
    return {
        "variant_id": variant_id,
        "stock_level_id": ids[0],
        "stock_rows": len(ids),
        "units": units,
    }


def hot_outcome(url: str, hot: dict) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(
                text(
                    "SELECT id, warehouse_id, quantity_on_hand AS on_hand, "
                    "quantity_reserved AS reserved FROM stock_levels WHERE variant_id = :v ORDER BY id"
                ),
                {"v": hot["variant_id"]},
            )
        ]
        ordered = conn.execute(
            text(
                "SELECT COALESCE(SUM(l.quantity), 0), COUNT(DISTINCT l.order_id) FROM order_lines l "
                "JOIN orders o ON o.id = l.order_id WHERE l.variant_id = :v AND o.status <> 'cancelled'"
            ),
            {"v": hot["variant_id"]},
        ).one()
        statuses = dict(
            conn.execute(
                text(
                    "SELECT o.status, COUNT(DISTINCT o.id) FROM order_lines l JOIN orders o ON o.id = l.order_id "
                    "WHERE l.variant_id = :v GROUP BY o.status"
                ),
                {"v": hot["variant_id"]},
            ).all()
        )
        held = conn.execute(
            text(
                "SELECT COALESCE(SUM(quantity), 0) FROM order_stock_reservations WHERE stock_level_id IN "
                "(SELECT id FROM stock_levels WHERE variant_id = :v) AND status = 'held'"
            ),
            {"v": hot["variant_id"]},
        ).scalar()
    engine.dispose()
    on_hand = sum(r["on_hand"] for r in rows)
    reserved = sum(r["reserved"] for r in rows)
    sold = hot["units"] - on_hand
    return {
        "stock_rows": rows,
        "on_hand": on_hand,
        "reserved": reserved,
        "sold": sold,
        "reserved_plus_sold": reserved + sold,
        "within_units": reserved + sold <= hot["units"],
        "held_reservations": int(held),
        "ordered_units": int(ordered[0]),
        "orders_with_variant": int(ordered[1]),
        "order_statuses": {k: int(v) for k, v in statuses.items()},
        "oversold_units": int(ordered[0]) - hot["units"],
    }


def start_server(
    env: dict, port: int, log_path: Path, shape: dict | None = None
) -> subprocess.Popen:
    import requests

    log = log_path.open("w")
    proc = subprocess.Popen(
        gunicorn_argv(port, timeout=120, **(shape or {}))[0],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}"
            )
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/core/ping", timeout=2).ok:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError(f"gunicorn did not answer within 90s:\n{log_path.read_text()[-3000:]}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()  # the master stops its own workers
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Tally:
    """Thread-safe counters of answers by (request, status, error code)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers: Counter = Counter()

    def note(self, what: str, response) -> None:
        code = ""
        if response.status_code >= 400:
            try:
                code = (response.json().get("error") or {}).get("code") or ""
            except ValueError:
                code = "not-json"
        with self.lock:
            self.answers[f"{what} {response.status_code}{' ' + code if code else ''}"] += 1


def fill_cart(session, base: str, variant_ids: list[int], tally: Tally) -> dict | None:
    """A fresh guest cart holding one unit of each variant; returns the headers to check it out."""
    headers = {"X-Tenant": TENANT}
    for variant_id in variant_ids:
        r = session.post(
            f"{base}/api/v1/cart/add/",
            headers=headers,
            json={"variant_id": variant_id, "quantity": 1},
            timeout=120,
        )
        tally.note("add", r)
        if r.status_code != 200:
            return None
        headers.setdefault(CART_TOKEN, r.headers.get(CART_TOKEN))
    return headers


def checkout(session, base: str, headers: dict, n: int, tally: Tally) -> tuple[float, object]:
    body = {"email": f"buyer{n}@example.com", "shipping_address": ADDRESS, "payment": CARD_OK}
    t = time.perf_counter()
    r = session.post(
        f"{base}/api/v1/orders/",
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
        json=body,
        timeout=120,
    )
    took = (time.perf_counter() - t) * 1000
    tally.note("checkout", r)
    return took, r


def pct(values: list[float], p: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[p - 1], 1)


def sample_database(url: str, window: tuple[float, float], samples: list[dict]) -> None:
    """Every 0.5 s of the measured window: this database's busy connections and InnoDB lock waits."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(url)
    name = make_url(url).database
    with engine.connect() as conn:
        while time.perf_counter() < window[1]:
            if time.perf_counter() >= window[0]:
                busy = conn.execute(
                    text(
                        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = :n AND COMMAND <> 'Sleep' "
                        "AND ID <> CONNECTION_ID()"
                    ),
                    {"n": name},
                ).scalar()
                waits, open_trx = conn.execute(
                    text(
                        "SELECT COALESCE(SUM(t.trx_state = 'LOCK WAIT'), 0), COUNT(*) "
                        "FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p "
                        "ON p.ID = t.trx_mysql_thread_id WHERE p.DB = :n"
                    ),
                    {"n": name},
                ).one()
                samples.append({"busy": busy, "lock_waits": int(waits), "open_trx": open_trx})
                conn.rollback()
            time.sleep(0.5)
    engine.dispose()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (from /proc; 0 for one that is gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def server_pids(master: int) -> list[int]:
    """gunicorn's master and its workers."""
    pids = [master]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def mariadb_pids() -> list[int]:
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() in ("mariadbd", "mysqld"):
                found.append(int(comm.parent.name))
        except OSError:
            continue
    return found


def cpu_snapshot(server: int) -> dict:
    return {
        "server": cpu_seconds(server_pids(server)),
        "mariadb": cpu_seconds(mariadb_pids()),
        "client": time.process_time(),
        "wall": time.perf_counter(),
    }


def throughput(
    base: str, url: str, facts: dict, threads: int, warmup: float, duration: float, server: int
) -> dict:
    import requests

    tally = Tally()
    lock = threading.Lock()
    records: list[tuple[float, float, float, bool]] = []  # (done at, checkout ms, loop ms, paid)
    counter = iter(range(10**9))
    start = time.perf_counter()
    window = (start + warmup, start + warmup + duration)

    def buyer(seed: int) -> None:
        rng = random.Random(seed)
        session = requests.Session()
        while time.perf_counter() < window[1]:
            t = time.perf_counter()
            headers = fill_cart(
                session, base, rng.sample(facts["variants"], rng.randint(1, 3)), tally
            )
            if headers is None:
                continue
            took, r = checkout(session, base, headers, next(counter), tally)
            paid = (
                r.status_code == 201 and (r.json().get("payment") or {}).get("status") == "captured"
            )
            now = time.perf_counter()
            with lock:
                records.append((now, took, (now - t) * 1000, paid))

    samples: list[dict] = []
    sampler = threading.Thread(target=sample_database, args=(url, window, samples), daemon=True)
    sampler.start()
    cpu: list[dict] = []

    def snapshots() -> None:
        for moment in window:
            time.sleep(max(0.0, moment - time.perf_counter()))
            cpu.append(cpu_snapshot(server))

    cpu_thread = threading.Thread(target=snapshots, daemon=True)
    cpu_thread.start()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(buyer, range(threads)))
    sampler.join()
    cpu_thread.join()
    measured = [r for r in records if window[0] <= r[0] < window[1]]
    paid = [r for r in measured if r[3]]
    used = {k: cpu[1][k] - cpu[0][k] for k in cpu[0]}
    loops = max(1, len(measured))
    cpu_use = {
        "window_s": round(used["wall"], 1),
        **{f"{k}_cpu_s": round(used[k], 1) for k in ("server", "mariadb", "client")},
        **{
            f"{k}_cpu_ms_per_order": round(used[k] * 1000 / loops)
            for k in ("server", "mariadb", "client")
        },
        "machine_cpu_s_available": round(used["wall"] * (os.cpu_count() or 1), 1),
        "note": "per order = per add+checkout loop; the client's is all its threads (process time); "
        "MariaDB's includes other databases' work",
    }
    return {
        "threads": threads,
        "warmup_s": warmup,
        "duration_s": duration,
        "checkouts_in_window": len(measured),
        "paid_orders_in_window": len(paid),
        "orders_per_s": round(len(paid) / duration, 1),
        "checkout_p50_ms": pct([r[1] for r in measured], 50),
        "checkout_p95_ms": pct([r[1] for r in measured], 95),
        "checkout_p99_ms": pct([r[1] for r in measured], 99),
        "loop_p50_ms": pct([r[2] for r in measured], 50),
        "loop_p99_ms": pct([r[2] for r in measured], 99),
        "checkouts_total": len(records),
        "answers_total_incl_warmup": dict(sorted(tally.answers.items())),
        "cpu": cpu_use,
        "database_samples": {
            "n": len(samples),
            "busy_connections_mean": round(statistics.fmean([x["busy"] for x in samples]), 2)
            if samples
            else None,
            "lock_waits_mean": round(statistics.fmean([x["lock_waits"] for x in samples]), 2)
            if samples
            else None,
            "lock_waits_max": max((x["lock_waits"] for x in samples), default=None),
            "open_transactions_mean": round(statistics.fmean([x["open_trx"] for x in samples]), 2)
            if samples
            else None,
            "note": "this database's connections only, sampled every 0.5 s",
        },
    }


def contention(base: str, hot: dict, buyers: int, threads: int) -> dict:
    import requests

    tally = Tally()
    local = threading.local()

    def session():
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session

    with ThreadPoolExecutor(threads) as pool:
        carts = list(
            pool.map(
                lambda _: fill_cart(session(), base, [hot["variant_id"]], tally), range(buyers)
            )
        )
    filled = [h for h in carts if h is not None]
    first_wave = min(threads, len(filled))
    gate = threading.Barrier(first_wave)
    latencies: list[float] = []
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def buy(i: int) -> None:
        if i < first_wave:
            gate.wait()  # the first wave starts together
        took, r = checkout(session(), base, filled[i], 10**6 + i, tally)
        paid = r.status_code == 201 and (r.json().get("payment") or {}).get("status") == "captured"
        with lock:
            latencies.append(took)
            outcomes[
                "paid" if paid else ("created unpaid" if r.status_code == 201 else "refused")
            ] += 1

    t = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(buy, range(len(filled))))
    wall = time.perf_counter() - t
    answers = dict(sorted(tally.answers.items()))
    return {
        "buyers": buyers,
        "threads": threads,
        "carts_filled": len(filled),
        "wall_s": round(wall, 2),
        "created_201": answers.get("checkout 201", 0),
        "out_of_stock_409": answers.get("checkout 409 out_of_stock", 0),
        "outcomes": dict(outcomes),
        "answers": answers,
        "checkout_p50_ms": pct(latencies, 50),
        "checkout_p99_ms": pct(latencies, 99),
    }


def queued_jobs(redis_url: str) -> dict:
    import redis

    r = redis.Redis.from_url(redis_url)
    return {
        key.decode(): r.llen(key) for key in r.scan_iter("rq:queue:*") if r.type(key) == b"list"
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("CHECKOUT_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--port", type=int, default=5088)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument(
        "--reuse", action="store_true", help="the database is seeded already: do not re-seed"
    )
    parser.add_argument("--threads", type=int, default=16, help="throughput: concurrent buyers")
    parser.add_argument(
        "--warmup", type=float, default=10.0, help="throughput: seconds not counted"
    )
    parser.add_argument("--duration", type=float, default=60.0, help="throughput: measured seconds")
    parser.add_argument(
        "--sample", type=int, default=20_000, help="in-stock variants the buyers pick from"
    )
    parser.add_argument("--buyers", type=int, default=1000, help="contention: buyers")
    parser.add_argument("--units", type=int, default=50, help="contention: units in stock")
    parser.add_argument("--contention-threads", type=int, default=64)
    parser.add_argument(
        "--profile", action="store_true", help="always write the SQL/cProfile report"
    )
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--profile-orders", type=int, default=20)
    parser.add_argument(
        "--worker",
        action="store_true",
        help="also run `flask worker --simple` (events: orders move to paid, reserved units to sold)",
    )
    parser.add_argument("--tag", default="", help="label for this run in checkout_bench.md")
    parser.add_argument(
        "--worker-class", help="gunicorn worker class (default: gunicorn.conf.py's)"
    )
    parser.add_argument(
        "--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)"
    )
    parser.add_argument("--server-threads", type=int, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--stage", choices=["prepare", "profile"], help=argparse.SUPPRESS)
    parser.add_argument("--facts", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = args.database_url

    if args.stage == "prepare":
        stage_prepare(url, args.products, args.reuse)
        return 0
    if args.stage == "profile":
        stage_profile(
            url,
            args.redis_url,
            args.profile_orders,
            RESULTS / "checkout_profile.md",
            json.loads(Path(args.facts).read_text()),
        )
        return 0

    out = run_stage(
        [
            "--stage",
            "prepare",
            "--database-url",
            url,
            "--products",
            str(args.products),
            *(["--reuse"] if args.reuse else []),
        ]
    )
    timings = json.loads(next(line for line in out.splitlines() if line.startswith("TIMINGS "))[8:])
    facts = bench_facts(url, args.sample)
    load_start = os.getloadavg()
    hot = set_hot_stock(url, facts["hot_variant"], args.units)
    print(
        f"{facts['products']:,} products in tenant {TENANT!r}; {len(facts['variants']):,} in-stock variants to "
        f"buy from; contention variant {hot['variant_id']} set to {args.units} units in stock row "
        f"{hot['stock_level_id']} ({hot['stock_rows']} row(s))",
        flush=True,
    )

    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    instance = Path(tempfile.mkdtemp(prefix="checkout-bench-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "ELASTICSEARCH_URL",
            "SUPERSET_URL",
            "JOBS_MODE",
            "RATELIMIT_STORAGE_URI",
            "SOCKETIO_MESSAGE_QUEUE",
        )
    }
    env.update(
        APP_CONFIG="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=url,
        REDIS_URL=args.redis_url,
        INSTANCE_PATH=str(instance),
        FLASK_APP="wsgi.py",
        PYTHONUNBUFFERED="1",
        PAYMENT_METHODS="bank_transfer,cash_on_delivery,test_card",
        API_WRITE_RATE_LIMIT="100000 per second",
    )
    base = f"http://127.0.0.1:{args.port}"
    shape = {
        "worker_class": args.worker_class,
        "workers": args.workers,
        "threads": args.server_threads,
    }
    server_desc = gunicorn_argv(args.port, **shape)[1]
    server = start_server(env, args.port, instance / "gunicorn.log", shape)
    worker = None
    if args.worker:
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "worker", "--simple"],
            cwd=ROOT,
            env=env,
            stdout=(instance / "worker.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        print(f"RQ worker pid {worker.pid} (flask worker --simple)", flush=True)
    print(
        f"gunicorn pid {server.pid} on {base} (APP_CONFIG=production, {server_desc}, "
        f"Redis {args.redis_url})",
        flush=True,
    )
    try:
        print(
            f"throughput: {args.threads} buyers, {args.warmup:.0f} s warm-up + {args.duration:.0f} s measured ...",
            flush=True,
        )
        fig = throughput(base, url, facts, args.threads, args.warmup, args.duration, server.pid)
        print(json.dumps(fig, indent=1), flush=True)
        print(
            f"contention: {args.buyers} buyers, {args.units} units, {args.contention_threads} threads ...",
            flush=True,
        )
        con = contention(base, hot, args.buyers, args.contention_threads)
        if (
            worker is not None
        ):  # let it apply what the checkouts published (orders paid, stock sold)
            deadline = time.monotonic() + 300
            while sum(queued_jobs(args.redis_url).values()) and time.monotonic() < deadline:
                time.sleep(2)
            time.sleep(3)  # the job it took last
    finally:
        if worker is not None:
            stop_server(worker)
        stop_server(server)
    con["database"] = hot_outcome(url, hot)
    print(json.dumps(con, indent=1), flush=True)
    jobs = queued_jobs(args.redis_url)

    profiled = False
    if args.profile or (not args.no_profile and fig["orders_per_s"] < TARGET_ORDERS_PER_S / 2):
        facts_file = instance / "facts.json"
        facts_file.write_text(json.dumps({"variants": facts["variants"][:5000]}))
        run_stage(
            [
                "--stage",
                "profile",
                "--database-url",
                url,
                "--redis-url",
                args.redis_url,
                "--profile-orders",
                str(args.profile_orders),
                "--facts",
                str(facts_file),
            ],
            env=env,
        )
        profiled = True

    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    db = con["database"]
    driver = url.split("://", 1)[0]  # mysql+mysqldb (mysqlclient) or mysql+pymysql
    result = {
        "bench": "checkout",
        "when": stamp,
        "tag": args.tag,
        "database": url.split("@")[-1].split("?")[0],
        "driver": driver,
        "products_in_tenant": facts["products"],
        "timings": timings,
        "server": f"{server_desc}, APP_CONFIG=production, "
        + ("one RQ worker (flask worker --simple)" if args.worker else "no RQ worker"),
        "client": "guest buyers, requests.Session per thread, same machine",
        "target_orders_per_s": TARGET_ORDERS_PER_S,
        "throughput": fig,
        "contention": con,
        "rq_jobs_queued_at_end": jobs,
        "profiled": profiled,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_avg_at_start": load_start,
            "load_avg_at_end": os.getloadavg(),
            "note": "2 CPUs shared by client, gunicorn, MariaDB, Redis and other engineers' work",
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "checkout_bench.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    md = RESULTS / "checkout_bench.md"
    if not md.exists():
        md.write_text(
            "# Checkout bench (HTTP, gunicorn, production config)\n\n"
            "| when (UTC) | server; tag | products | buyers | orders/s (target 150) | checkout p50 ms "
            "| p99 ms | non-2xx | contention buyers/units | 201 | 409 out_of_stock | ordered units "
            "| oversold | reserved+sold ≤ units | CPUs, load avg start→end |\n"
            + "|---" * 15
            + "|\n"
        )
    errors = sum(
        v for k, v in fig["answers_total_incl_warmup"].items() if not re.search(r" 20[01]$", k)
    )
    with md.open("a") as fh:
        label = f"{server_desc}; {driver}" + (f"; {args.tag}" if args.tag else "")
        fh.write(
            f"| {stamp} | {label} | {facts['products']:,} | {args.threads} | {fig['orders_per_s']} "
            f"| {fig['checkout_p50_ms']} | {fig['checkout_p99_ms']} | {errors} | {args.buyers}/{args.units} "
            f"| {con['created_201']} | {con['out_of_stock_409']} | {db['ordered_units']} | {db['oversold_units']} "
            f"| {'yes' if db['within_units'] else '**no**'} | {os.cpu_count()} shared, "
            f"{load_start[0]:.1f}→{os.getloadavg()[0]:.1f} |\n"
        )
    print(
        f"\nthroughput: {fig['orders_per_s']} orders/s (target {TARGET_ORDERS_PER_S:.0f}) with {args.threads} "
        f"buyers; checkout p50 {fig['checkout_p50_ms']} ms, p99 {fig['checkout_p99_ms']} ms; answers "
        f"{fig['answers_total_incl_warmup']}"
    )
    print(
        f"contention: {con['created_201']} orders, {con['out_of_stock_409']} out_of_stock of {args.buyers} buyers "
        f"for {args.units} units; ordered units {db['ordered_units']}, oversold {db['oversold_units']}; on hand "
        f"{db['on_hand']}, reserved {db['reserved']}, reserved+sold {db['reserved_plus_sold']} "
        f"({'within' if db['within_units'] else 'OVER'} {args.units})"
    )
    print(f"written: {RESULTS / 'checkout_bench.json'}, line appended to {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
