"""Issue 16's analytics bench: a shop of N customers and M orders, then the full aggregate rebuild,
each model's training, and the Analytics API's dashboard/ and sales/ over a real HTTP server.

    python bench/analytics_bench.py                                  # 10,000 customers, 100,000 orders
    python bench/analytics_bench.py --customers 100000 --orders 1000000   # the issue's size
    python bench/analytics_bench.py --reuse                          # measure the shop seeded before
    python bench/analytics_bench.py --customers 2000 --orders 10000 --requests 30   # a quick look

What it does:
1. Seeds MariaDB `shop_bench_analytics` (`--database-url`) as bench/seed_bench.py does, with its
   functions: the database is (re-)created only if it carries this script's comment, migrated,
   `init_platform`, `admin.demo.seed.seed(products, customers=N)`, then bench/seed_orders.py's
   `seed_orders(M, months=--months)` (18 months by default, so churn and lifetime value, which
   look 180 days ahead, have customers to learn from; written in bulk as checkout writes them, no
   outbox events: the aggregates are empty until the rebuild).
2. Times in a child process each (so its peak RSS is its own: `ru_maxrss` of the child):
   - the full rebuild of the default tenant's aggregates (analytics.aggregates.rebuild, every day);
   - the inventory analytics' daily facts over the history (today's snapshot, every day's sales:
     what the hourly job would have folded day by day; the demand model learns from them);
   - each registered model's training (analytics.training.train, kind by kind), with its status
     (a trainer that finds too little data records "failed: not enough data": reported as such).
3. Starts gunicorn with gunicorn.conf.py (APP_CONFIG=production, the bench database, Redis
   `--redis-url`), and times `--requests` GETs (after `--warmup`) of /api/v1/analytics/dashboard/
   (the last 30 days), /sales/ (30 days by day) and /sales/ (180 days by week, per seller for the
   admin) for the tenant's Admin and for the seller with the most sub-orders: p50/p95/p99 client
   wall time and server CPU per request (the gunicorn workers' user + system CPU from /proc over
   the timed requests, divided by their number).
4. Prints the figures, writes bench/results/analytics_bench.json and appends a table to
   bench/results/analytics_bench.md. Not a test: nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_URL = "mysql+mysqldb://root@127.0.0.1:3306/shop_bench_analytics?charset=utf8mb4"
COMMENT = "created by bench/analytics_bench.py"
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))


def _embedded_env(url: str) -> None:
    """The children's settings: development config on the bench database, no Redis (jobs inline),
    as bench/seed_bench.py runs."""
    os.environ.update(
        APP_CONFIG="development",
        DATABASE_URL=url,
        INSTANCE_PATH=tempfile.mkdtemp(prefix="analytics-bench-"),
        FLASK_APP="wsgi.py",
    )
    for name in ("REDIS_URL", "JOBS_MODE", "RATELIMIT_STORAGE_URI", "SOCKETIO_MESSAGE_QUEUE"):
        os.environ.pop(name, None)


def _app(url: str):
    from app import create_app

    return create_app("development", SQLALCHEMY_DATABASE_URI=url)


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _tenant_id() -> int:
    from sqlalchemy import select

    from app.core.tenancy import unscoped
    from app.extensions import db
    from app.tenants.models import Tenant

    with unscoped():
        return db.session.scalar(select(Tenant.id).where(Tenant.slug == "default"))


# --- the children: one phase each ----------------------------------------------------------------


def child_seed(
    url: str, products: int, customers: int, orders: int, seed: int, months: int
) -> dict:
    import seed_bench
    from flask_migrate import upgrade
    from seed_orders import seed_orders

    from admin.cli import init_platform
    from admin.demo.seed import seed as seed_shop

    seed_bench.CREATED_COMMENT = COMMENT  # its guard, with this script's name on the database
    action = seed_bench.prepare_database(url, keep=False)
    app = _app(url)
    started = time.perf_counter()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        init_platform(seed_bench.BENCH_ADMIN_PASSWORD)
        t = time.perf_counter()
        seed_shop(products, customers=customers, seed=seed, log=lambda line: print("  " + line))
        shop_s = time.perf_counter() - t
        t = time.perf_counter()
        made = seed_orders(orders, rng=random.Random(f"{seed}:orders"), months=months, log=print)
        orders_s = time.perf_counter() - t
    return {
        "database_action": action,
        "shop_s": round(shop_s, 1),
        "orders_s": round(orders_s, 1),
        "total_s": round(time.perf_counter() - started, 1),
        "rows_written_by_orders": sum(made.values()),
        "peak_rss_mb": _peak_rss_mb(),
    }


def child_rebuild(url: str) -> dict:
    from analytics.aggregates.rebuild import rebuild
    from app.core.tenancy import tenant_scope

    app = _app(url)
    with app.app_context():
        tenant_id = _tenant_id()
        started = time.perf_counter()
        with tenant_scope(tenant_id):
            report = rebuild(tenant_id)
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": _peak_rss_mb(),
        "window": report.get("window") or "all days",
        "drifted_tables": len(report.get("drift") or []),
    }


def child_inventory(url: str, months: int) -> dict:
    """The inventory analytics' daily facts over the whole history (the hourly job folds only
    yesterday and today; the demand model learns from these): today's snapshot and every day's
    sales."""
    from analytics import inventory
    from app.core.tenancy import tenant_scope
    from app.extensions import db

    app = _app(url)
    with app.app_context():
        tenant_id = _tenant_id()
        started = time.perf_counter()
        with tenant_scope(tenant_id):
            zone = inventory.tenant_zone(tenant_id)
            today = inventory.local_today(zone)
            stock_rows, _ = inventory.snapshot(today)
            sales_rows, _ = inventory.fold_sales(
                today - dt.timedelta(days=31 * months + 2), today, zone
            )
            db.session.commit()
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": _peak_rss_mb(),
        "stock_rows": stock_rows,
        "sales_rows": sales_rows,
    }


def child_train(url: str, kind: str) -> dict:
    from analytics import training

    app = _app(url)
    with app.app_context():
        tenant_id = _tenant_id()
        started = time.perf_counter()
        result = training.train(kind, tenant_id)
        seconds = time.perf_counter() - started
        metrics = rows = None
        if result.version_id:
            from analytics import registry
            from app.core.tenancy import tenant_scope
            from app.extensions import db

            with tenant_scope(tenant_id):
                version = db.session.get(registry.ModelVersion, result.version_id)
                metrics = {"metrics": version.metrics, "baseline": version.baseline}
                rows = getattr(version, "rows", None)
    return {
        "kind": kind,
        "status": result.status,
        "error": result.error,
        "seconds": round(seconds, 2),
        "peak_rss_mb": _peak_rss_mb(),
        "rows": rows,
        **(metrics or {}),
    }


def child_kinds(url: str) -> list[str]:
    from analytics import training

    with _app(url).app_context():
        return sorted(training.trainers())


def run_child(args, phase: str, *extra: str):
    argv = [sys.executable, __file__, "--database-url", args.database_url, "--child", phase, *extra]
    argv += ["--customers", str(args.customers), "--orders", str(args.orders)]
    argv += ["--products", str(args.products), "--seed", str(args.seed)]
    argv += ["--months", str(args.months)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{phase} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    for line in done.stdout.splitlines():
        if not line.startswith("RESULT "):
            print("  " + line, flush=True)
    return json.loads(lines[-1][len("RESULT ") :])


# --- HTTP ------------------------------------------------------------------------------------


def http_cases(url: str, args) -> dict:
    import requests
    from flask_jwt_extended import create_access_token
    from seller_ledger_bench import start_server, stop_server, time_http
    from sqlalchemy import func, select

    from app import create_app
    from app.core import cache
    from app.core.tenancy import tenant_scope
    from app.extensions import db
    from app.orders.models import SubOrder
    from app.security.models import User
    from app.sellers.models import SellerProfile
    from app.tenants.models import Tenant

    os.environ["APP_CONFIG"] = "testing"
    os.environ["TEST_REDIS_URL"] = args.redis_url
    secret = secrets.token_urlsafe(48)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, SECRET_KEY=secret)
    with app.app_context():
        cache.forget_database()
        tenant_id = _tenant_id()
        with tenant_scope(tenant_id):
            slug = db.session.get(Tenant, tenant_id).slug
            admin_id = db.session.scalar(
                select(User.id).where(User.email.like("manager@%")).order_by(User.id).limit(1)
            )
            seller_id, subs = db.session.execute(
                select(SubOrder.seller_id, func.count())
                .group_by(SubOrder.seller_id)
                .order_by(func.count().desc())
                .limit(1)
            ).one()
            seller_user = db.session.get(SellerProfile, seller_id).user_id
            tokens = {
                "admin": create_access_token(identity=str(admin_id)),
                "seller": create_access_token(identity=str(seller_user)),
            }
    today = dt.date.today()
    cases = {
        "dashboard 30d": "/api/v1/analytics/dashboard/",
        "sales 30d by day": "/api/v1/analytics/sales/",
        "sales 180d by week": "/api/v1/analytics/sales/?granularity=week&group_by=seller"
        f"&from={today - dt.timedelta(days=179)}&to={today}",
    }
    proc, server = start_server(url, args.redis_url, args.port, secret)
    base = f"http://127.0.0.1:{args.port}"
    out: dict = {
        "server": server,
        "biggest_seller": {"seller_id": seller_id, "sub_orders": subs},
        "cases": [],
    }
    try:
        for who, token in tokens.items():
            session = requests.Session()
            session.headers.update({"Authorization": f"Bearer {token}", "X-Tenant": slug})

            def get(path, session=session):
                response = session.get(base + path, timeout=600)
                return response.status_code, response.content

            for name, path in cases.items():
                timed = time_http(get, path, args.requests, args.warmup, proc.pid)
                out["cases"].append({"who": who, "case": name, **timed})
                print(
                    f"  {who:6} {name:20} p50 {timed['p50_ms']:7.1f} ms  p99 {timed['p99_ms']:7.1f}"
                    f" ms  server CPU {timed['server_cpu_ms']} ms/request",
                    flush=True,
                )
    finally:
        stop_server(proc)
    return out


# --- main ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--port", type=int, default=5081)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=5_000, help="catalogue (sellers: /500)")
    parser.add_argument(
        "--months", type=int, default=18, help="orders over this many months (churn needs > 6)"
    )
    parser.add_argument("--requests", type=int, default=100, help="timed requests per HTTP case")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reuse", action="store_true", help="measure the shop seeded before")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = args.database_url

    if args.child:
        _embedded_env(url)
        result = {
            "seed": lambda: child_seed(
                url, args.products, args.customers, args.orders, args.seed, args.months
            ),
            "inventory": lambda: child_inventory(url, args.months),
            "rebuild": lambda: child_rebuild(url),
            "train": lambda: child_train(url, args.kind),
            "kinds": lambda: child_kinds(url),
        }[args.child]()
        print("RESULT " + json.dumps(result, default=str), flush=True)
        return 0

    results: dict = {
        "bench": "analytics",
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "database": url.split("@")[-1].split("?")[0],
        "customers": args.customers,
        "orders": args.orders,
        "products": args.products,
        "command": " ".join(["python bench/analytics_bench.py", *sys.argv[1:]]),
    }
    if not args.reuse:
        print(f"seeding {args.customers:,} customers, {args.orders:,} orders ...", flush=True)
        results["seed"] = run_child(args, "seed")
        print(f"  seed: {results['seed']}", flush=True)
    print("aggregate rebuild ...", flush=True)
    results["rebuild"] = run_child(args, "rebuild")
    print(f"  rebuild: {results['rebuild']}", flush=True)
    print("inventory facts backfill ...", flush=True)
    results["inventory_facts"] = run_child(args, "inventory")
    print(f"  inventory facts: {results['inventory_facts']}", flush=True)
    results["training"] = []
    for kind in run_child(args, "kinds"):
        print(f"training {kind} ...", flush=True)
        trained = run_child(args, "train", "--kind", kind)
        results["training"].append(trained)
        print(
            f"  {kind}: {trained['status']} in {trained['seconds']} s, peak RSS "
            f"{trained['peak_rss_mb']} MB{' (' + trained['error'] + ')' if trained['error'] else ''}",
            flush=True,
        )
    if not args.no_http:
        print("HTTP cases ...", flush=True)
        results["http"] = http_cases(url, args)
    results["load_average"] = os.getloadavg()
    results["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    write(results)
    return 0


def write(results: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "analytics_bench.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    lines = [
        f"\n## {results['when']}: {results['customers']:,} customers, {results['orders']:,} orders",
        f"`{results['command']}`; load average at the end {results['load_average'][0]:.1f}\n",
        "| phase | seconds | peak RSS (MB) | note |",
        "|---|---|---|---|",
    ]
    if "seed" in results:
        s = results["seed"]
        lines.append(
            f"| seed (shop + orders) | {s['shop_s']} + {s['orders_s']} | {s['peak_rss_mb']} "
            f"| {s['rows_written_by_orders']:,} order rows |"
        )
    r = results["rebuild"]
    lines.append(
        f"| aggregate rebuild (all days) | {r['seconds']} | {r['peak_rss_mb']} "
        f"| {r['drifted_tables']} tables filled from empty |"
    )
    i = results["inventory_facts"]
    lines.append(
        f"| inventory facts backfill | {i['seconds']} | {i['peak_rss_mb']} "
        f"| {i['sales_rows']:,} variant-days of sales |"
    )
    for t in results["training"]:
        note = t["status"] + (f": {t['error'][:80]}" if t["error"] else "")
        lines.append(f"| train {t['kind']} | {t['seconds']} | {t['peak_rss_mb']} | {note} |")
    if "http" in results:
        lines += [
            "",
            f"HTTP: {results['http']['server']}; biggest seller "
            f"{results['http']['biggest_seller']}\n",
            "| who | case | n | p50 ms | p95 ms | p99 ms | server CPU ms/request |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in results["http"]["cases"]:
            lines.append(
                f"| {c['who']} | {c['case']} | {c['n']} | {c['p50_ms']} | {c['p95_ms']} "
                f"| {c['p99_ms']} | {c['server_cpu_ms']} |"
            )
    with (RESULTS / "analytics_bench.md").open("a") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written: {RESULTS / 'analytics_bench.json'}, appended to analytics_bench.md")


if __name__ == "__main__":
    sys.exit(main())
