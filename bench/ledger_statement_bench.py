"""Seller statements on a big ledger: one seller with N entries (default 150,000) among others, on
MariaDB. Times the balances (one grouped SUM), a deep page of the ledger API, and the statement
exports end to end through the API (JWT, test client, whole body read): CSV (streamed) and XLSX
(openpyxl write-only), with the process's peak RSS growth during each export.

    python bench/ledger_statement_bench.py                       # 150,000 entries, shop_ledger_bench
    python bench/ledger_statement_bench.py --entries 500000

It creates the database `shop_ledger_bench` with the comment `created by
bench/ledger_statement_bench.py`, and on a later run drops it only if it carries that comment.
Results: bench/results/ledger_statement.json and .md."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
COMMENT = "created by bench/ledger_statement_bench.py"
SERVER = "mysql+mysqldb://root@127.0.0.1:3306"
NAME = "shop_ledger_bench"


def _fresh_database() -> None:
    from sqlalchemy import create_engine, text

    server = create_engine(SERVER + "/?charset=utf8mb4")
    with server.begin() as conn:
        comment = conn.scalar(
            text("SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"),
            {"n": NAME},
        )
        exists = conn.scalar(
            text("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"),
            {"n": NAME},
        )
        if exists and comment != COMMENT:
            sys.exit(f"{NAME} exists and was not made by this script: not dropping it")
        conn.execute(text(f"DROP DATABASE IF EXISTS `{NAME}`"))
        conn.execute(
            text(
                f"CREATE DATABASE `{NAME}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci "
                f"COMMENT '{COMMENT}'"
            )
        )
    server.dispose()


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=150_000)
    parser.add_argument("--others", type=int, default=50, help="other sellers, 200 entries each")
    args = parser.parse_args()
    os.environ.setdefault("APP_CONFIG", "testing")
    _fresh_database()
    url = f"{SERVER}/{NAME}?charset=utf8mb4"

    from flask_jwt_extended import create_access_token
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from admin.cli import init_platform
    from app import create_app
    from app.core.tenancy import tenant_scope, unscoped
    from app.extensions import db
    from app.payouts.models import SellerLedgerEntry
    from app.security import roles
    from app.security.models import User
    from app.security.services import create_user
    from app.sellers.models import SellerProfile
    from app.tenants.services import create_tenant

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(revision="heads")
        init_platform()
        with unscoped():
            tenant = create_tenant(slug="ledger-bench", name="Ledger bench")
            tenant_id = tenant.id
        sellers = []
        with tenant_scope(tenant_id):
            for i in range(args.others + 1):
                user = create_user(
                    tenant_id=tenant_id,
                    email=f"seller{i}@bench.example",
                    password="bench-password-1",
                    first_name="Seller",
                    last_name=str(i),
                    role_names=[roles.SELLER],
                    check_password=False,
                )
                db.session.flush()
                profile = SellerProfile(
                    user_id=user.id, store_name=f"Store {i}", slug=f"store-{i}", status="approved"
                )
                db.session.add(profile)
                db.session.flush()
                sellers.append((profile.id, user.id))
            db.session.commit()
            big_seller, big_user = sellers[0]
            started = time.perf_counter()
            start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
            kinds = ("sale", "commission", "shipping", "refund", "commission_reversal")
            amounts = (
                Decimal("25.00"),
                Decimal("-2.50"),
                Decimal("4.90"),
                Decimal("-5.00"),
                Decimal("0.50"),
            )

            def rows(seller_id, count, offset=0):
                return [
                    {
                        "tenant_id": tenant_id,
                        "seller_id": seller_id,
                        "currency": "USD",
                        "kind": kinds[n % 5],
                        "amount": amounts[n % 5],
                        "created_at": start + dt.timedelta(seconds=60 * (n + offset)),
                        "source_event_id": n,
                    }
                    for n in range(count)
                ]

            table = SellerLedgerEntry.__table__
            for chunk in range(0, args.entries, 10_000):
                db.session.execute(
                    insert(table), rows(big_seller, min(10_000, args.entries - chunk), chunk)
                )
                db.session.commit()
            for seller_id, _ in sellers[1:]:
                db.session.execute(insert(table), rows(seller_id, 200))
            db.session.commit()
            seeded = time.perf_counter() - started
            user = db.session.get(User, big_user)
            token = create_access_token(identity=str(user.id))

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "X-Tenant": "ledger-bench"}
    results = {
        "entries_of_the_seller": args.entries,
        "other_sellers": args.others,
        "seed_s": round(seeded, 1),
    }

    def timed(name, path, repeat=1):
        times = []
        for _ in range(repeat):
            before = _peak_kb()
            t0 = time.perf_counter()
            response = client.get(path, headers=headers)
            body = response.get_data()
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200, (path, response.status_code, body[:300])
        results[name] = {
            "seconds_best": round(min(times), 3),
            "seconds_median": round(sorted(times)[len(times) // 2], 3),
            "bytes": len(body),
            "peak_rss_growth_mb": round((_peak_kb() - before) / 1024, 1),
        }
        return body

    timed("balance", "/api/v1/sellers/me/balance/", repeat=20)
    timed("ledger_first_page", "/api/v1/sellers/me/ledger/?page_size=100", repeat=20)
    timed(
        "ledger_deep_page",
        f"/api/v1/sellers/me/ledger/?page_size=100&page={args.entries // 200}",
        repeat=10,
    )
    body = timed("statement_csv", "/api/v1/sellers/me/statement.csv", repeat=3)
    results["statement_csv"]["rows"] = body.count(b"\n") - 1
    timed("statement_xlsx", "/api/v1/sellers/me/statement.xlsx", repeat=1)
    timed(
        "statement_csv_one_month",
        "/api/v1/sellers/me/statement.csv?since=2025-02-01&until=2025-02-28",
        repeat=3,
    )
    results["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} CPUs (shared), Python {platform.python_version()}"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ledger_statement.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# Seller statements on a big ledger (bench/ledger_statement_bench.py)",
        "",
        f"One seller with {args.entries:,} entries among {args.others} others (200 each), "
        f"MariaDB, in-process API (test client, JWT); {results['machine']}.",
        "",
        "| request | best s | median s | body bytes | peak RSS growth MB |",
        "|---|---|---|---|---|",
    ]
    for key, value in results.items():
        if isinstance(value, dict):
            best, median = value["seconds_best"], value["seconds_median"]
            size, rss = value["bytes"], value["peak_rss_growth_mb"]
            lines.append(f"| {key} | {best} | {median} | {size:,} | {rss} |")
    (RESULTS / "ledger_statement.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
