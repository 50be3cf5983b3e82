"""Checkout throughput and contention, in-process against MariaDB seeded with 100,000 products.

    /root/.cache/marketplace/venv-7a321e44dd0d/bin/python bench/checkout_bench.py            # seed + both scenarios
    python bench/checkout_bench.py --reuse          # the database is seeded already (by an earlier run)
    python bench/checkout_bench.py --products 10000 --orders 800

1. Makes its own database `shop_orders_bench` (dropped and re-created only if it carries this
   script's comment), migrates it to every head, runs `flask init` and the demo seed (N products).
2. Gives the default tenant a shipping zone (GB, flat 4.99) and 20 % VAT, so checkout prices for real.
3. Throughput: --orders guest carts of 1-3 random in-stock variants are filled beforehand; then
   --threads buyer threads (16) each take carts off a queue and check out through the service
   (app.checkout.services.place_order: idempotency key, pricing, sub-orders, stock reserved with
   row locks in key order, order.created). Timed: wall time of all checkouts -> orders/s, and the
   latency of each (p50/p95/p99).
4. Contention: one variant with exactly --units (50) units in one stock row; --buyers (1,000)
   guest carts of 1 unit each, checked out by --contention-threads (64) threads at once. Reports
   orders made, units reserved and oversold (reserved beyond on hand: must be 0).

Jobs: events are enqueued on Redis (JOBS_MODE=rq, redis://127.0.0.1:6379/13; the queues are
emptied afterwards), as in production; nothing runs them during the bench. No HTTP: this measures
the checkout service and the database, not gunicorn (see bench/api_bench.py for the web layer).
Results: bench/results/checkout_bench.json and a line in bench/results/checkout_bench.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import queue
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

URL = "mysql+pymysql://root@127.0.0.1:3306/shop_orders_bench?charset=utf8mb4"
COMMENT = "created by bench/checkout_bench.py"
REDIS = "redis://127.0.0.1:6379/13"
ADDRESS = {"full_name": "Bench Buyer", "line1": "1 Main St", "city": "London", "postal_code": "N1 1AA",
           "country": "GB"}


def prepare_database(reuse: bool) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(URL)
    server = create_engine(url.set(database=""))
    with server.begin() as conn:
        found = conn.execute(text("SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"),
                             {"n": url.database}).first()
        if found is not None and reuse:
            return "reused"
        if found is not None and found[0] != COMMENT:
            raise SystemExit(f"{url.database} exists and was not made by this script: not touching it")
        conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        conn.execute(text(f"CREATE DATABASE `{url.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci "
                          f"COMMENT '{COMMENT}'"))
    server.dispose()
    return "created"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--buyers", type=int, default=1000)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--contention-threads", type=int, default=64)
    parser.add_argument("--reuse", action="store_true", help="the database is seeded already")
    args = parser.parse_args()

    action = prepare_database(args.reuse)
    instance = tempfile.mkdtemp(prefix="checkout-bench-")
    os.environ.update(APP_CONFIG="development", DATABASE_URL=URL, INSTANCE_PATH=instance, REDIS_URL=REDIS,
                      JOBS_MODE="rq", ADMIN_PASSWORD="bench-admin-password-1")
    os.environ.pop("SOCKETIO_MESSAGE_QUEUE", None)

    from flask_migrate import upgrade
    from redis import Redis
    from sqlalchemy import func, select

    from admin.cli import init_platform
    from app import create_app
    from app.cart import services as carts
    from app.catalog.models import Product, ProductVariant
    from app.checkout import services as checkout
    from app.core.errors import DomainError
    from app.extensions import db
    from app.inventory.models import StockLevel, Warehouse
    from app.shipping.models import ShippingMethod, ShippingZone
    from app.tax.models import TaxRule
    from app.tenants.context import tenant_scope
    from app.tenants.models import Tenant

    app = create_app("development", SQLALCHEMY_DATABASE_URI=URL,
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": 80, "max_overflow": 20})
    timings = {}
    with app.app_context():
        if action == "created":
            from app.demo.seed import seed

            t = time.perf_counter()
            upgrade(directory=str(ROOT / "migrations"), revision="heads")
            init_platform("bench-admin-password-1")
            seed(args.products, log=lambda line: print(f"  {line}", flush=True))
            timings["seed_s"] = round(time.perf_counter() - t, 1)
        tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == app.config["DEFAULT_TENANT"]))
        with tenant_scope(tenant_id):
            if db.session.scalar(select(func.count()).select_from(ShippingZone)) == 0:
                zone = ShippingZone(name="UK", areas="GB")
                db.session.add_all([zone, ShippingMethod(zone=zone, name="Standard", carrier_code="manual",
                                                         rate_type="flat", flat_rate=Decimal("4.99")),
                                    TaxRule(name="VAT GB", country="GB", rate=Decimal("0.2000"))])
                db.session.commit()
            in_stock = db.session.execute(
                select(StockLevel.variant_id).join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
                .join(ProductVariant, ProductVariant.id == StockLevel.variant_id)
                .join(Product, Product.id == ProductVariant.product_id)
                .where(StockLevel.quantity_on_hand - StockLevel.quantity_reserved >= 20, Warehouse.is_active,
                       ProductVariant.is_active, Product.status == "active")
                .group_by(StockLevel.variant_id).limit(20_000)).scalars().all()
        db.session.remove()
    print(f"database: {action}; {len(in_stock)} in-stock variants to buy from", flush=True)

    def fill_carts(n: int, pick) -> list[str]:
        tokens = []
        with app.app_context(), tenant_scope(tenant_id):
            for i in range(n):
                ref = carts.CartRef()
                for variant_id in pick(i):
                    carts.add_item(ref, variant_id, 1)
                tokens.append(ref.token)
                db.session.remove()
        return tokens

    def run(tokens: list[str], threads: int) -> tuple[list[float], dict[str, int], float]:
        work: queue.Queue[str] = queue.Queue()
        for token in tokens:
            work.put(token)
        latencies: list[float] = []
        outcomes: dict[str, int] = {}
        lock = threading.Lock()
        start = threading.Barrier(threads + 1)

        def buyer():
            start.wait()
            while True:
                try:
                    token = work.get_nowait()
                except queue.Empty:
                    return
                t0 = time.perf_counter()
                with app.app_context(), tenant_scope(tenant_id):
                    try:
                        checkout.place_order(carts.CartRef(token=token),
                                             {"shipping_address": ADDRESS, "email": "bench@example.com"},
                                             uuid.uuid4().hex)
                        outcome = "created"
                    except DomainError as exc:
                        outcome = exc.code
                    finally:
                        db.session.remove()
                with lock:
                    latencies.append(time.perf_counter() - t0)
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1

        pool = [threading.Thread(target=buyer) for _ in range(threads)]
        for t in pool:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in pool:
            t.join()
        return latencies, outcomes, time.perf_counter() - t0

    rng = random.Random(7)
    print(f"filling {args.orders} carts ...", flush=True)
    tokens = fill_carts(args.orders, lambda i: rng.sample(in_stock, rng.randint(1, 3)))
    print(f"throughput: {args.orders} checkouts, {args.threads} threads ...", flush=True)
    latencies, outcomes, wall = run(tokens, args.threads)
    throughput = {
        "checkouts": args.orders, "threads": args.threads, "wall_s": round(wall, 2),
        "orders_per_s": round(outcomes.get("created", 0) / wall, 1), "outcomes": outcomes,
        "p50_ms": round(pct(latencies, 50) * 1000, 1), "p95_ms": round(pct(latencies, 95) * 1000, 1),
        "p99_ms": round(pct(latencies, 99) * 1000, 1), "mean_ms": round(statistics.mean(latencies) * 1000, 1),
    }
    print(json.dumps(throughput), flush=True)

    # contention: one variant, exactly `units` units in one stock row
    with app.app_context(), tenant_scope(tenant_id):
        hot = in_stock[-1]
        rows = db.session.scalars(select(StockLevel).where(StockLevel.variant_id == hot)
                                  .order_by(StockLevel.id)).all()
        for i, row in enumerate(rows):
            row.quantity_on_hand = (row.quantity_reserved + args.units) if i == 0 else row.quantity_reserved
        db.session.commit()
        hot_row = rows[0].id
        reserved_before = rows[0].quantity_reserved
        db.session.remove()
    print(f"filling {args.buyers} carts for variant {hot} ...", flush=True)
    tokens = fill_carts(args.buyers, lambda i: [hot])
    print(f"contention: {args.buyers} buyers, {args.units} units, {args.contention_threads} threads ...", flush=True)
    latencies, outcomes, wall = run(tokens, args.contention_threads)
    with app.app_context(), tenant_scope(tenant_id):
        row = db.session.get(StockLevel, hot_row)
        reserved = row.quantity_reserved - reserved_before
        oversold = max(0, row.quantity_reserved - row.quantity_on_hand)
        db.session.remove()
    contention = {
        "buyers": args.buyers, "units": args.units, "threads": args.contention_threads, "wall_s": round(wall, 2),
        "orders": outcomes.get("created", 0), "outcomes": outcomes, "units_reserved": reserved,
        "oversold": oversold, "p99_ms": round(pct(latencies, 99) * 1000, 1),
    }
    print(json.dumps(contention), flush=True)
    Redis.from_url(REDIS).flushdb()

    result = {"bench": "checkout", "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "database": "shop_orders_bench", "products": args.products, "database_action": action,
              "timings": timings, "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "throughput": throughput, "contention": contention}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "checkout_bench.json").write_text(json.dumps(result, indent=2) + "\n")
    md = RESULTS / "checkout_bench.md"
    if not md.exists():
        md.write_text("| when (UTC) | products | threads | orders/s | p50 ms | p99 ms | contention: buyers/units | "
                      "orders | oversold |\n|---|---|---|---|---|---|---|---|---|\n")
    with md.open("a") as out:
        out.write(f"| {result['when']} | {args.products:,} | {args.threads} | {throughput['orders_per_s']} | "
                  f"{throughput['p50_ms']} | {throughput['p99_ms']} | {args.buyers}/{args.units} | "
                  f"{contention['orders']} | {contention['oversold']} |\n")
    return 0 if contention["oversold"] == 0 and contention["orders"] == args.units else 1


if __name__ == "__main__":
    raise SystemExit(main())
