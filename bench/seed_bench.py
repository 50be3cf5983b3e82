"""Seed benchmark: how long `seed()` takes to fill a database of its own with N products.

    /root/.cache/mkt/devvenv/bin/python bench/seed_bench.py                     # 100,000 products, MariaDB shop_bench
    python bench/seed_bench.py --products 10000 --database-url sqlite:////tmp/seed_bench.db

The database is (re)made the only supported way: `flask db upgrade` (flask_migrate.upgrade())
and `flask init` (init_platform()) through create_app() with DATABASE_URL pointing at it. On
MariaDB the database is created with the comment CREATED_COMMENT; a later run drops and
re-creates it only when it carries that comment (a database it did not create is never
dropped: the run stops instead). --keep seeds into what is there (additive).

Writes bench/results/seed_bench.json (this run) and appends one line to
bench/results/seed_bench.md. The Super Admin of the bench database is ADMIN_USERNAME /
BENCH_ADMIN_PASSWORD; bench/admin_list_bench.py logs in with it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_URL = "mysql+mysqldb://root@127.0.0.1:3306/shop_bench?charset=utf8mb4"
CREATED_COMMENT = "created by bench/seed_bench.py"
BENCH_ADMIN_PASSWORD = os.environ.get("BENCH_ADMIN_PASSWORD", "bench-admin-password-1")
TABLES = (
    "products",
    "product_variants",
    "product_images",
    "product_attribute_values",
    "stock_levels",
    "stock_movements",
    "low_stock_alerts",
    "sellers",
    "customer_profiles",
    "addresses",
    "ab_user",
    "categories",
    "brands",
    "warehouses",
)
ORDER_TABLES = (
    "orders",
    "sub_orders",
    "order_lines",
    "order_events",
    "payments",
    "payment_transactions",
    "refunds",
    "shipments",
    "shipment_tracking_events",
)


def prepare_database(url: str, keep: bool) -> str:
    """Make sure the database exists and is empty (unless keep); returns what was done."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        marker = path.with_name(path.name + ".seed-bench")
        if path.exists() and not keep:
            if not marker.exists():
                sys.exit(
                    f"{path} exists and was not made by this script: remove it yourself or use --keep"
                )
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        return "kept" if keep and path.exists() else "created"
    name = parsed.database
    if not name:
        sys.exit("the database URL names no database")
    server = create_engine(parsed.set(database=""))
    try:
        with server.begin() as conn:
            row = conn.execute(
                text(
                    "SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"
                ),
                {"n": name},
            ).first()
            if row is not None and keep:
                return "kept"
            if row is not None:
                if (row[0] or "") != CREATED_COMMENT:
                    sys.exit(
                        f"database {name!r} exists and was not created by this script; "
                        "use another --database-url, or --keep to seed into it"
                    )
                conn.execute(text(f"DROP DATABASE `{name}`"))
            conn.execute(
                text(
                    f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci "
                    f"COMMENT '{CREATED_COMMENT}'"
                )
            )
            return "re-created" if row is not None else "created"
    finally:
        server.dispose()


def database_size(db, url: str) -> dict:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"bytes": Path(parsed.database).stat().st_size}
    row = db.session.execute(
        text(
            "SELECT SUM(data_length), SUM(index_length) FROM information_schema.TABLES WHERE table_schema = :n"
        ),
        {"n": parsed.database},
    ).first()
    return {
        "data_bytes": int(row[0] or 0),
        "index_bytes": int(row[1] or 0),
        "bytes": int((row[0] or 0) + (row[1] or 0)),
        "note": "InnoDB estimates",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--sellers", type=int, default=None)
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument(
        "--orders",
        type=int,
        default=0,
        help="then N orders in the default tenant (bench/seed_orders.py); with --keep and "
        "--products 0, orders only",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--keep", action="store_true", help="seed into the existing database (additive)"
    )
    args = parser.parse_args()

    url = args.database_url
    action = prepare_database(url, args.keep)
    print(f"database {url.split('@')[-1]}: {action}", flush=True)

    instance = tempfile.mkdtemp(prefix="seed-bench-")
    os.environ.update(
        APP_CONFIG="development",
        DATABASE_URL=url,
        INSTANCE_PATH=instance,
        ADMIN_PASSWORD=BENCH_ADMIN_PASSWORD,
        FLASK_APP="wsgi.py",
    )
    for name in ("REDIS_URL", "JOBS_MODE", "RATELIMIT_STORAGE_URI", "SOCKETIO_MESSAGE_QUEUE"):
        os.environ.pop(name, None)  # embedded mode: nothing but the database is needed
    sys.path.insert(0, str(ROOT))

    timings = {}
    t = time.perf_counter()
    from flask_migrate import upgrade
    from sqlalchemy import text

    from admin.cli import init_platform
    from admin.demo.seed import seed
    from app import create_app
    from app.extensions import db

    app = create_app("development", SQLALCHEMY_DATABASE_URI=url)
    timings["create_app_s"] = round(time.perf_counter() - t, 3)
    with app.app_context():
        t = time.perf_counter()
        upgrade(directory=str(ROOT / "migrations"))
        timings["db_upgrade_s"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        init_platform(BENCH_ADMIN_PASSWORD)
        timings["init_s"] = round(time.perf_counter() - t, 3)

        t = time.perf_counter()
        report = (
            seed(
                args.products,
                sellers=args.sellers,
                customers=args.customers,
                seed=args.seed,
                chunk_size=args.chunk_size,
                log=lambda line: print(f"  {line}", flush=True),
            )
            if args.products or not args.keep
            else None  # --keep --products 0 --orders N: orders only
        )
        timings["seed_s"] = round(time.perf_counter() - t, 3)
        created = dict(report.created) if report else {}
        if args.orders:
            from seed_orders import seed_orders

            t = time.perf_counter()
            made = seed_orders(
                args.orders,
                rng=random.Random(f"{args.seed}:orders"),
                log=lambda line: print(f"  {line}", flush=True),
            )
            timings["orders_s"] = round(time.perf_counter() - t, 3)
            for name, value in made.items():
                created[name] = created.get(name, 0) + value
        rows = sum(created.values())
        counts = {
            name: db.session.scalar(text(f"SELECT COUNT(*) FROM {name}"))
            for name in TABLES + (ORDER_TABLES if args.orders else ())
        }
        size = database_size(db, url)
        db.session.remove()

    writing = timings["seed_s"] + timings.get("orders_s", 0)
    result = {
        "bench": "seed",
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "database": url.split("@")[-1].split("?")[0],
        "backend": url.split(":", 1)[0],
        "database_action": action,
        "products": args.products,
        "orders": args.orders,
        "chunk_size": args.chunk_size,
        "seed": args.seed,
        "timings": timings,
        "total_s": round(sum(timings.values()), 3),
        "rows_created": rows,
        "rows_per_s": round(rows / writing) if writing else None,
        "products_per_s": round(args.products / timings["seed_s"]) if timings["seed_s"] else None,
        "created": created,
        "table_counts": counts,
        "database_size": size,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "logins": [vars(login) for login in report.logins] if report else [],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "seed_bench.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    md = RESULTS / "seed_bench.md"
    if not md.exists():
        md.write_text(
            "| when (UTC) | backend | products | rows | seed (s) | rows/s | total incl. upgrade+init (s) "
            "| peak RSS (MB) | DB size (MB) |\n|---|---|---|---|---|---|---|---|---|\n"
        )
    line = (
        f"| {result['when']} | {result['backend']} | {args.products:,}"
        f"{f' + {args.orders:,} orders' if args.orders else ''} | {rows:,} | {writing:.1f} "
        f"| {result['rows_per_s']:,} | {result['total_s']:.1f} | {result['peak_rss_mb']} "
        f"| {size['bytes'] / 2**20:.0f} |\n"
    )
    with md.open("a") as fh:
        fh.write(line)

    print(
        f"\nseeded {args.products:,} products, {args.orders:,} orders ({rows:,} rows) in {writing:.1f}s "
        f"({result['rows_per_s']:,} rows/s); create_app {timings['create_app_s']}s, "
        f"db upgrade {timings['db_upgrade_s']}s, init {timings['init_s']}s; peak RSS {result['peak_rss_mb']} MB; "
        f"database {size['bytes'] / 2**20:.0f} MB"
    )
    print("table counts: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print(f"written: {RESULTS / 'seed_bench.json'}, line appended to {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
