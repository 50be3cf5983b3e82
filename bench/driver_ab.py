"""The MySQL driver's share of a checkout's CPU: mysqlclient (mysql+mysqldb, the default) against
PyMySQL (mysql+pymysql), interleaved in ONE process so the machine's drift cancels out.

    /root/.cache/marketplace/venv-<hash>/bin/python bench/driver_ab.py            # 150 orders per driver
    python bench/driver_ab.py --orders 300

The database is the checkout bench's own `shop_checkout_bench` (run bench/checkout_bench.py once to
seed it). Two apps (production config, Redis db 13, test card enabled) differ only in the driver of
their database URL. Each round places one guest order with each app, in alternating order: two
POST /api/v1/cart/add/ and one POST /api/v1/orders/ paid with the success test card, through the
Flask test client (no HTTP, no gunicorn). The process CPU time of each order is charged to its
driver; three rounds warm up and are not counted.

Why interleaved: on this shared 2-CPU machine the same code's CPU per order drifts by 10-25 %
within minutes (bench/results/checkout_bench.md), more than the driver's difference; runs made one
after the other cannot tell them apart.

Never asserts on time. Figures: a line in bench/results/driver_ab.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from checkout_bench import ADDRESS, CARD_OK, CART_TOKEN, TENANT  # noqa: E402

DATABASE = "root@127.0.0.1:3306/shop_checkout_bench?charset=utf8mb4"
DRIVERS = ("pymysql", "mysqldb")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=150, help="counted orders per driver")
    parser.add_argument(
        "--database", default=DATABASE, help="user@host:port/name?charset=utf8mb4 (no driver)"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]

    os.environ.update(
        APP_CONFIG="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=f"mysql+mysqldb://{args.database}",
        REDIS_URL=args.redis_url,
        INSTANCE_PATH=tempfile.mkdtemp(prefix="driver-ab-"),
        FLASK_APP="wsgi.py",
        PAYMENT_METHODS="bank_transfer,cash_on_delivery,test_card",
        API_WRITE_RATE_LIMIT="100000 per second",
    )
    for name in (
        "JOBS_MODE",
        "RATELIMIT_STORAGE_URI",
        "SOCKETIO_MESSAGE_QUEUE",
        "ELASTICSEARCH_URL",
    ):
        os.environ.pop(name, None)

    from sqlalchemy import create_engine, text

    engine = create_engine(f"mysql+mysqldb://{args.database}")
    with engine.connect() as conn:
        variants = (
            conn.execute(
                text(
                    "SELECT v.id FROM product_variants v JOIN stock_levels s ON s.variant_id = v.id "
                    "JOIN products p ON p.id = v.product_id JOIN warehouses w ON w.id = s.warehouse_id "
                    "JOIN tenants t ON t.id = v.tenant_id AND t.slug = :slug "
                    "WHERE p.status = 'active' AND v.is_active = 1 AND w.is_active = 1 GROUP BY v.id "
                    "HAVING SUM(s.quantity_on_hand - s.quantity_reserved) >= 30 ORDER BY v.id LIMIT 5000"
                ),
                {"slug": TENANT},
            )
            .scalars()
            .all()
        )
    engine.dispose()
    if len(variants) < 100:
        sys.exit("shop_checkout_bench has (almost) no stock: run bench/checkout_bench.py first")

    from app import create_app

    clients = {
        d: create_app(
            "production", SQLALCHEMY_DATABASE_URI=f"mysql+{d}://{args.database}"
        ).test_client()
        for d in DRIVERS
    }
    rng = random.Random(7)
    cpu: dict[str, list[float]] = {d: [] for d in DRIVERS}
    for round_ in range(args.orders + 3):
        for driver in DRIVERS if round_ % 2 == 0 else DRIVERS[::-1]:
            client = clients[driver]
            headers = {"X-Tenant": TENANT}
            started = time.process_time()
            for variant_id in rng.sample(variants, 2):
                r = client.post(
                    "/api/v1/cart/add/",
                    headers=headers,
                    json={"variant_id": variant_id, "quantity": 1},
                )
                if r.status_code != 200:
                    raise RuntimeError(
                        f"cart add ({driver}): HTTP {r.status_code} {r.get_data(as_text=True)[:300]}"
                    )
                headers.setdefault(CART_TOKEN, r.headers.get(CART_TOKEN))
            body = {
                "email": f"driver-ab-{round_}@example.com",
                "shipping_address": ADDRESS,
                "payment": CARD_OK,
            }
            r = client.post(
                "/api/v1/orders/",
                headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                json=body,
            )
            if r.status_code != 201 or r.get_json()["payment"]["status"] != "captured":
                raise RuntimeError(
                    f"checkout ({driver}): HTTP {r.status_code} {r.get_data(as_text=True)[:300]}"
                )
            if round_ >= 3:
                cpu[driver].append((time.process_time() - started) * 1000)

    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    figures = {d: (statistics.fmean(v), statistics.median(v)) for d, v in cpu.items()}
    saving = 1 - figures["mysqldb"][0] / figures["pymysql"][0]
    for d, (mean, median) in figures.items():
        print(
            f"{d}: {len(cpu[d])} orders (2 adds + a paid checkout each), CPU per order mean {mean:.2f} ms, "
            f"median {median:.2f} ms"
        )
    print(f"mysqlclient uses {saving:.1%} less CPU per order than PyMySQL (means)")
    md = RESULTS / "driver_ab.md"
    if not md.exists():
        md.write_text(
            "# MySQL driver A/B (in-process, interleaved; bench/driver_ab.py)\n\n"
            "| when (UTC) | orders per driver | PyMySQL CPU ms/order mean (median) "
            "| mysqlclient CPU ms/order mean (median) | mysqlclient saves | load avg start→end |\n"
            "|---|---|---|---|---|---|\n"
        )
    with md.open("a") as fh:
        fh.write(
            f"| {stamp} | {args.orders} | {figures['pymysql'][0]:.2f} ({figures['pymysql'][1]:.2f}) "
            f"| {figures['mysqldb'][0]:.2f} ({figures['mysqldb'][1]:.2f}) | {saving:.1%} "
            f"| {load_start:.1f}→{os.getloadavg()[0]:.1f} |\n"
        )
    print(f"line appended to {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
