"""Seller dashboard latency: GET /api/v1/sellers/me/dashboard/ for the biggest seller of a big shop,
and the admin home's platform figures, on MariaDB.

    python bench/dashboard_bench.py                          # 500 sellers, 400,000 sub-orders
    python bench/dashboard_bench.py --orders 100000 --requests 100
    python bench/dashboard_bench.py --reuse --requests 20    # time the shop the last run wrote

It makes its own database `shop_dashboard_bench` (dropped and re-created on a later run only if it
carries the comment `created by bench/dashboard_bench.py`), migrates it, and writes with bulk
inserts: one tenant, 500 approved sellers, `--orders` orders over the last 365 days (one sub-order
and one line each; a quarter of them the biggest seller's, the rest spread over the others; every
status, a refund request on one in twenty), and for the biggest seller 2,000 products with a
variant and a stock level each (one in ten at or below its reorder point).

Then, in one process (Flask's test client: the whole request, JWT, parsing, the queries and the
JSON, but no HTTP server), it times `--requests` calls of each case one after another, after 3
warm-up calls: the biggest seller's dashboard over the default 30 days and over 90 days, its
top-products/, and app.dashboards.platform_dashboard() over 30 days. It prints mean, p50, p95 and
p99 per case with the row counts, and writes bench/results/dashboard.json and dashboard.md.
Target (issue 14): the dashboard API's p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "mysql+mysqldb://root@127.0.0.1:3306/shop_dashboard_bench?charset=utf8mb4"
MARK = "created by bench/dashboard_bench.py"
STATUSES = (
    ["delivered"] * 30
    + ["completed"] * 20
    + ["shipped"] * 10
    + ["processing"] * 8
    + ["paid"] * 8
    + ["pending"] * 5
    + ["cancelled"] * 9
    + ["refund_requested"] * 2
    + ["refunded"] * 4
    + ["partially_refunded"] * 4
)
BATCH = 5000


def fresh_database(url: str) -> None:
    parsed = make_url(url)
    name = parsed.database
    server = create_engine(parsed.set(database=""))
    with server.begin() as conn:
        comment = conn.execute(
            text("SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"),
            {"n": name},
        ).scalar()
        if comment is not None and comment != MARK:
            sys.exit(f"{name} exists and was not made by this script: not dropping it")
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(
            text(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci "
                f"COMMENT '{MARK}'"
            )
        )
    server.dispose()


def build(app, orders: int, sellers: int, products: int) -> dict:
    from app.catalog.models import Product, ProductVariant
    from app.core.tenancy import tenant_scope, unscoped
    from app.core.types import utcnow
    from app.extensions import db
    from app.inventory.models import StockLevel, Warehouse
    from app.orders.models import Order, OrderLine, RefundRequest, SubOrder
    from app.security import roles
    from app.security.models import User
    from app.security.services import create_user
    from app.sellers.models import SellerProfile
    from app.tenants.services import create_tenant

    rng = random.Random(14)
    now = utcnow()
    with app.app_context():
        with unscoped():
            tenant = create_tenant(slug="bench", name="Bench shop")
            db.session.commit()
        tid = tenant.id
        with tenant_scope(tid):
            big_user = create_user(
                tenant_id=tid,
                email="big-seller@example.com",
                password="bench-password-1",
                first_name="Big",
                last_name="Seller",
                role_names=[roles.SELLER],
            )
            admin_user = create_user(
                tenant_id=tid,
                email="bench-admin@example.com",
                password="bench-password-1",
                first_name="Bench",
                last_name="Admin",
                role_names=[roles.ADMIN],
            )
            db.session.commit()
            users = [
                {
                    "tenant_id": tid,
                    "first_name": "Seller",
                    "last_name": str(i),
                    "username": f"seller{i}@example.com",
                    "email": f"seller{i}@example.com",
                    "active": True,
                }
                for i in range(1, sellers)
            ]
            db.session.execute(insert(User), users)
            user_ids = [big_user.id] + [
                uid
                for uid in db.session.scalars(
                    text("SELECT id FROM ab_user WHERE tenant_id = :t ORDER BY id").bindparams(
                        t=tid
                    )
                )
                if uid not in (big_user.id, admin_user.id)
            ]
            db.session.execute(
                insert(SellerProfile),
                [
                    {
                        "tenant_id": tid,
                        "user_id": uid,
                        "store_name": f"Store {i}",
                        "slug": f"store-{i}",
                        "status": "approved" if i % 50 else "pending",
                        "commission_rate": Decimal("0.1000"),
                    }
                    for i, uid in enumerate(user_ids)
                ],
            )
            seller_ids = list(
                db.session.scalars(
                    text("SELECT id FROM sellers WHERE tenant_id = :t ORDER BY id").bindparams(
                        t=tid
                    )
                )
            )
            big = seller_ids[0]
            db.session.execute(
                text("UPDATE sellers SET status = 'approved' WHERE id = :b").bindparams(b=big)
            )
            warehouse = Warehouse(code="BIG", name="Big warehouse", seller_id=big)
            db.session.add(warehouse)
            db.session.flush()
            db.session.execute(
                insert(Product),
                [
                    {
                        "tenant_id": tid,
                        "seller_id": big,
                        "title": f"Product {i}",
                        "slug": f"p-{i}",
                        "status": "active",
                    }
                    for i in range(products)
                ],
            )
            product_ids = list(
                db.session.scalars(
                    text("SELECT id FROM products WHERE tenant_id = :t ORDER BY id").bindparams(
                        t=tid
                    )
                )
            )
            db.session.execute(
                insert(ProductVariant),
                [
                    {
                        "tenant_id": tid,
                        "seller_id": big,
                        "product_id": pid,
                        "sku": f"SKU-{pid}",
                        "price": Decimal("20.00"),
                        "currency": "USD",
                    }
                    for pid in product_ids
                ],
            )
            variant_ids = list(
                db.session.scalars(
                    text(
                        "SELECT id FROM product_variants WHERE tenant_id = :t ORDER BY id"
                    ).bindparams(t=tid)
                )
            )
            db.session.execute(
                insert(StockLevel),
                [
                    {
                        "tenant_id": tid,
                        "seller_id": big,
                        "variant_id": vid,
                        "warehouse_id": warehouse.id,
                        "quantity_on_hand": 2 if i % 10 == 0 else 50,
                        "quantity_reserved": 0,
                        "reorder_point": 5,
                    }
                    for i, vid in enumerate(variant_ids)
                ],
            )
            db.session.commit()
            started = time.perf_counter()
            done = 0
            while done < orders:
                n = min(BATCH, orders - done)
                order_rows, plan = [], []
                for i in range(n):
                    k = done + i
                    at = now - dt.timedelta(seconds=rng.randrange(365 * 86400))
                    seller = big if rng.random() < 0.25 else rng.choice(seller_ids[1:])
                    status = rng.choice(STATUSES)
                    total = Decimal(rng.randrange(500, 30000)) / 100
                    plan.append((seller, status, total, at))
                    order_rows.append(
                        {
                            "tenant_id": tid,
                            "number": f"B{k:09d}",
                            "email": "buyer@example.com",
                            "status": status,
                            "currency": "USD",
                            "subtotal": total,
                            "total": total,
                            "shipping_address": {"country": "GB"},
                            "coupon_codes": [],
                            "created_at": at,
                            "updated_at": at,
                        }
                    )
                db.session.execute(insert(Order), order_rows)
                first = db.session.scalar(
                    text("SELECT id FROM orders WHERE tenant_id = :t AND number = :n").bindparams(
                        t=tid, n=f"B{done:09d}"
                    )
                )
                db.session.execute(
                    insert(SubOrder),
                    [
                        {
                            "tenant_id": tid,
                            "order_id": first + i,
                            "seller_id": seller,
                            "number": f"B{done + i:09d}-1",
                            "status": status,
                            "subtotal": total,
                            "total": total,
                            "commission_rate": Decimal("0.1"),
                            "commission_amount": (total / 10).quantize(Decimal("0.01")),
                            "shipping_tax": [],
                            "created_at": at,
                            "updated_at": at,
                        }
                        for i, (seller, status, total, at) in enumerate(plan)
                    ],
                )
                sub_first = db.session.scalar(
                    text(
                        "SELECT id FROM sub_orders WHERE tenant_id = :t AND number = :n"
                    ).bindparams(t=tid, n=f"B{done:09d}-1")
                )
                lines, refunds = [], []
                for i, (seller, status, total, _at) in enumerate(plan):
                    pid = rng.choice(product_ids) if seller == big else None
                    lines.append(
                        {
                            "tenant_id": tid,
                            "order_id": first + i,
                            "sub_order_id": sub_first + i,
                            "seller_id": seller,
                            "product_id": pid,
                            "sku": f"SKU-{pid}",
                            "title": f"Product {pid}",
                            "quantity": 1,
                            "unit_price": total,
                            "subtotal": total,
                            "total": total,
                            "commission_rate": Decimal("0.1"),
                            "discounts": [],
                            "tax_breakdown": [],
                        }
                    )
                    if status in ("refund_requested", "partially_refunded") or (
                        i % 20 == 0 and status == "delivered"
                    ):
                        refunds.append(
                            {
                                "tenant_id": tid,
                                "order_id": first + i,
                                "sub_order_id": sub_first + i,
                                "amount": (total / 2).quantize(Decimal("0.01")),
                                "reason": "bench",
                                "status": "requested"
                                if status == "refund_requested"
                                else "completed",
                            }
                        )
                db.session.execute(insert(OrderLine), lines)
                if refunds:
                    db.session.execute(insert(RefundRequest), refunds)
                db.session.commit()
                done += n
            fill_seconds = time.perf_counter() - started
            counts = {
                table: db.session.scalar(text(f"SELECT COUNT(*) FROM {table}"))
                for table in (
                    "sellers",
                    "orders",
                    "sub_orders",
                    "order_lines",
                    "order_refund_requests",
                    "stock_levels",
                )
            }
            counts["biggest_seller_sub_orders"] = db.session.scalar(
                text("SELECT COUNT(*) FROM sub_orders WHERE seller_id = :b").bindparams(b=big)
            )
            counts["biggest_seller_sub_orders_last_30_days"] = db.session.scalar(
                text(
                    "SELECT COUNT(*) FROM sub_orders WHERE seller_id = :b AND created_at >= :s"
                ).bindparams(b=big, s=(now - dt.timedelta(days=30)).replace(tzinfo=None))
            )
            db.session.execute(
                text(
                    "ANALYZE TABLE sub_orders, orders, order_lines, order_refund_requests, stock_levels"
                )
            )
            return {
                "tenant": tenant.slug,
                "tenant_id": tid,
                "big_user_id": big_user.id,
                "admin_user_id": admin_user.id,
                "fill_seconds": round(fill_seconds, 1),
                "rows": counts,
            }


def timed(fn, requests: int) -> dict:
    for _ in range(3):
        fn()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()

    def pct(p: float) -> float:
        return round(samples[min(len(samples) - 1, int(round(p / 100 * len(samples))) - 1)], 2)

    return {
        "requests": requests,
        "mean_ms": round(statistics.fmean(samples), 2),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": round(samples[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--orders", type=int, default=400_000)
    parser.add_argument("--sellers", type=int, default=500)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--reuse", action="store_true", help="time the shop an earlier run wrote (no new fill)"
    )
    args = parser.parse_args()

    os.environ["APP_CONFIG"] = "testing"
    os.environ["TEST_REDIS_URL"] = args.redis_url
    if not args.reuse:
        fresh_database(args.database_url)
    from flask_jwt_extended import create_access_token
    from flask_migrate import upgrade

    from admin.cli import init_platform
    from app import create_app
    from app.core.tenancy import tenant_scope
    from app.dashboards import Period, platform_dashboard
    from app.extensions import db
    from app.security.models import User
    from app.sellers.actors import actor_for

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=args.database_url, RATELIMIT_ENABLED=False)
    if args.reuse:
        shop = json.loads((RESULTS / "dashboard_shop.json").read_text())
    else:
        with app.app_context():
            upgrade(revision="heads")
            init_platform()
        shop = build(app, args.orders, args.sellers, args.products)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "dashboard_shop.json").write_text(json.dumps(shop, indent=1) + "\n")
    print(json.dumps(shop, indent=1))

    with app.app_context(), tenant_scope(shop["tenant_id"]):
        token = create_access_token(identity=str(shop["big_user_id"]))
    client = app.test_client()
    headers = {"X-Tenant": shop["tenant"], "Authorization": f"Bearer {token}"}
    url = "/api/v1/sellers/me/dashboard/"

    def get(path, **query):
        def call():
            response = client.get(path, headers=headers, query_string=query)
            assert response.status_code == 200, response.get_data(as_text=True)[:500]

        return call

    def platform_figures():
        with app.app_context(), tenant_scope(shop["tenant_id"]):
            admin = db.session.get(User, shop["admin_user_id"])
            platform_dashboard(actor_for(admin), Period.last(30))
            db.session.remove()

    today = dt.datetime.now(dt.timezone.utc).date()
    cases = {
        "dashboard API, 30 days (default)": get(url),
        "dashboard API, 90 days": get(
            url, **{"from": (today - dt.timedelta(days=89)).isoformat(), "to": today.isoformat()}
        ),
        "top-products API, 30 days": get(url + "top-products/"),
        "platform figures (admin home), 30 days, in-process": platform_figures,
    }
    results = {name: timed(fn, args.requests) for name, fn in cases.items()}
    report = {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "command": "python bench/dashboard_bench.py " + " ".join(sys.argv[1:]),
        "shop": shop,
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dashboard.json").write_text(json.dumps(report, indent=1) + "\n")
    lines = [
        f"## {report['when']} ({report['machine']})",
        "",
        f"`{report['command']}`: {shop['rows']['sub_orders']:,} sub-orders of {shop['rows']['sellers']} sellers; "
        f"the biggest seller has {shop['rows']['biggest_seller_sub_orders']:,} "
        f"({shop['rows']['biggest_seller_sub_orders_last_30_days']:,} in the last 30 days) and "
        f"{shop['rows']['stock_levels']:,} stock levels.",
        "",
        "| case | requests | mean ms | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['requests']} | {r['mean_ms']} | {r['p50_ms']} | {r['p95_ms']} "
            f"| {r['p99_ms']} | {r['max_ms']} |"
        )
    with (RESULTS / "dashboard.md").open("a") as out:
        out.write("\n".join(lines) + "\n\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
