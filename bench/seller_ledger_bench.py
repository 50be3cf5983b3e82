"""Issue 14's bench: a shop of 500 sellers and 1,000,000 seller-ledger entries on MariaDB. Measures
the seller dashboard API and its friends over HTTP (p50/p99 and server CPU per request), the
biggest seller's statement export (CSV and XLSX), and the payout job (run time, peak memory).

    python bench/seller_ledger_bench.py                     # seed shop_ledger_bench, then measure
    python bench/seller_ledger_bench.py --reuse             # measure the shop the last run seeded
    python bench/seller_ledger_bench.py --entries 200000 --requests 50

Targets (issue 14): dashboard p99 < 50 ms, the biggest seller's CSV export < 10 s, payout job
< 60 s. Results: bench/results/seller_ledger.json (this run) and a table appended to
bench/results/seller_ledger.md. Exit status 1 when a target is missed.

The database. `shop_ledger_bench` (utf8mb4) is created with the comment `created by
bench/seller_ledger_bench.py`; a later run drops and re-creates it only if it carries that comment
(or the one of bench/ledger_statement_bench.py, which uses the same name); any other database of
that name stops the run. Migrated with `flask db upgrade`, `flask init`, then one tenant
(`ledger-bench`, USD) with 500 approved sellers.

The shop (seed_shop(), also used by tests/bench/test_seller_ledger_bench.py at small scale): every
bulk row is written by `INSERT ... SELECT` from MariaDB's sequence engine (seq_1_to_N), so a
million entries take a minute, not an hour. A plan of N sub-orders (N = entries / 2.45) is drawn
with MD5 hashes of the row number (the same shop every run): placed over the last 365 days; 20 %
of them the biggest seller's, the rest spread over the others with a quadratic skew (a few big
ones, a long tail); statuses as a live shop has them (delivered 35 %, completed 25 %, shipped 10 %,
processing, paid, pending, cancelled, refunded, partially refunded, refund requested); one line
each (1-3 units of 5.00-300.00), 4.90 shipping on 70 %; 10 % commission. For each a USD order, its
sub-order and line, and what the ledger's consumers write for it: sale, commission and shipping
entries when paid, a refund and its commission reversal for the refunded ones (half for the
partially refunded, with their completed refund request), a release (delivered 3 days after
placing, available 14 days later, the default hold) for the delivered ones; then per seller and
month a payout of what became available in the month before. Entries are inserted in date order
(ids grow with time, as the consumers write them). The biggest seller also has 2,000 products with
a stock level each (one in ten low), which its lines sell. The triggers of migration 0020
forbid UPDATE and DELETE on entries and releases, never INSERT.

The measurements:
1. HTTP: gunicorn with the project's gunicorn.conf.py (production config, a random SECRET_KEY,
   Redis db 2 unless --redis-url) on 127.0.0.1:--port; the biggest seller's JWT (minted with the
   server's key). One request after another, `--warmup` then `--requests` each: the dashboard (30
   days, 90 days), top-products/, low-stock/, balance/, the ledger's first and last pages.
   p50/p95/p99 (client wall time, body read) and server CPU per request (user + system CPU of the
   gunicorn workers from /proc over the timed requests). The dashboard is cached per seller
   (app.dashboards); `uncached` cases time the service in this process with the versions of its cache
   and the balances' cache bumped before each call, i.e. what the first request after a change costs.
2. The biggest seller's statement: GET /api/v1/sellers/me/statement.csv and .xlsx through the same
   server, whole body read; rows and bytes.
3. The payout job: `app.payouts.batches.run_payout_job(now=None)` in a child process (its run time
   and the child's peak RSS), when that module exists; otherwise reported as skipped. Every
   seller has a verified default bank account (seed_bank_accounts; added on --reuse when
   missing), or the job would skip them all. `--payout-job-only [--payout-job-runs 2]` measures
   only the job (a first run claims what is payable; a second shows the daily cost);
   `--undo-payout-runs` deletes what earlier runs wrote, so a first run can be measured again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

COMMENT = "created by bench/seller_ledger_bench.py"
SIBLING_COMMENT = "created by bench/ledger_statement_bench.py"
DEFAULT_URL = "mysql+mysqldb://root@127.0.0.1:3306/shop_ledger_bench?charset=utf8mb4"
TENANT = "ledger-bench"
PASSWORD = "bench-password-1"
ENTRIES_PER_SUB_ORDER = 2.45  # measured on the plan below: sale, commission, shipping, refunds
TARGETS = {"dashboard_p99_ms": 50.0, "csv_export_s": 10.0, "payout_job_s": 60.0}

# (status, share in percent): a year of a live shop's sub-orders
STATUSES = (
    ("delivered", 35),
    ("completed", 25),
    ("shipped", 10),
    ("processing", 6),
    ("paid", 6),
    ("pending", 4),
    ("cancelled", 7),
    ("refunded", 3),
    ("partially_refunded", 3),
    ("refund_requested", 1),
)
DELIVERED = ("delivered", "completed", "refunded", "partially_refunded")
NOT_PAID = ("pending", "cancelled")


# --- the database ----------------------------------------------------------------------------


def fresh_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database
    server = create_engine(parsed.set(database=""))
    with server.begin() as conn:
        exists = conn.scalar(
            text("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"),
            {"n": name},
        )
        comment = conn.scalar(
            text("SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"),
            {"n": name},
        )
        if exists and comment not in (COMMENT, SIBLING_COMMENT):
            sys.exit(f"{name} exists and was not made by a ledger bench: not dropping it")
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(
            text(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci "
                f"COMMENT '{COMMENT}'"
            )
        )
    server.dispose()


# --- seeding ---------------------------------------------------------------------------------


def _u(tag: str) -> str:
    """SQL: a uniform number in [0, 1) drawn from the plan row's number (repeatable)."""
    return f"(CONV(LEFT(MD5(CONCAT('{tag}', seq)), 8), 16, 10) / 4294967296.0)"


def _status_case() -> str:
    roll, edge, parts = f"FLOOR({_u('status')} * 100)", 0, []
    for status, share in STATUSES:
        edge += share
        parts.append(f"WHEN {roll} < {edge} THEN '{status}'")
    return "CASE " + " ".join(parts) + " END"


def make_sellers(tenant_id: int, count: int, email_prefix: str = "seller") -> list[tuple[int, int]]:
    """`count` approved sellers of the tenant (users with the Seller role, one password hash
    shared): [(seller id, user id)], the first one the biggest."""
    from flask_appbuilder.security.sqla.models import Role
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.security import roles
    from app.security.models import User
    from app.security.services import create_user
    from app.sellers.models import SellerProfile

    first = create_user(
        tenant_id=tenant_id,
        email=f"{email_prefix}0@bench.example",
        password=PASSWORD,
        first_name="Seller",
        last_name="0",
        role_names=[roles.SELLER],
        check_password=False,
    )
    db.session.flush()
    rows = [
        {
            "tenant_id": tenant_id,
            "first_name": "Seller",
            "last_name": str(i),
            "username": f"{email_prefix}{i}@bench.example",
            "email": f"{email_prefix}{i}@bench.example",
            "password": first.password,
            "active": True,
        }
        for i in range(1, count)
    ]
    if rows:
        db.session.execute(insert(User), rows)
    users = [first.id] + [
        uid
        for uid in db.session.scalars(
            select(User.id)
            .where(User.tenant_id == tenant_id, User.email.like(f"{email_prefix}%@bench.example"))
            .order_by(User.id)
        )
        if uid != first.id
    ]
    seller_role = db.session.scalar(select(Role.id).where(Role.name == roles.SELLER))
    assoc = User.roles.property.secondary
    db.session.execute(
        insert(assoc),
        [{"user_id": uid, "role_id": seller_role} for uid in users[1:]],
    )
    db.session.execute(
        insert(SellerProfile),
        [
            {
                "tenant_id": tenant_id,
                "user_id": uid,
                "store_name": f"Store {email_prefix} {i}",
                "slug": f"store-{email_prefix}-{i}",
                "status": "approved",
                "commission_rate": Decimal("0.1000"),
            }
            for i, uid in enumerate(users)
        ],
    )
    by_user = dict(
        db.session.execute(
            select(SellerProfile.user_id, SellerProfile.id).where(
                SellerProfile.tenant_id == tenant_id, SellerProfile.user_id.in_(users)
            )
        ).all()
    )
    db.session.commit()
    return [(by_user[uid], uid) for uid in users]


def seed_shop(
    tenant_id: int,
    sellers: list[tuple[int, int]],
    entries: int,
    *,
    now: dt.datetime,
    products: int = 2000,
    prefix: str = "L",
    log=print,
) -> dict:
    """The plan, orders, sub-orders, lines, refund requests, ledger entries and releases, payouts
    and the biggest seller's products and stock (see the module docstring), for a tenant whose
    sellers exist (sellers[0] the biggest). `prefix` starts every order number (unique per run).
    Returns the counts written. MariaDB only (the sequence engine). Foreign-key checks are off
    for the session while it writes (the rows refer to what it just wrote), on again after."""
    from sqlalchemy import text

    from app.extensions import db

    n = max(10, int(entries / ENTRIES_PER_SUB_ORDER))
    moment = now.astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    conn = db.session.connection()
    timings: dict[str, float] = {}

    def run(step: str, sql: str, **params) -> int:
        started = time.perf_counter()
        result = conn.execute(text(sql), {"t": tenant_id, "now": moment, **params})
        timings[step] = round(timings.get(step, 0) + time.perf_counter() - started, 2)
        return result.rowcount

    def write() -> dict:
        conn.execute(text("CREATE TEMPORARY TABLE bench_sellers (no INT PRIMARY KEY, id INT)"))
        conn.execute(
            text("INSERT INTO bench_sellers (no, id) VALUES (:no, :id)"),
            [{"no": i, "id": sid} for i, (sid, _) in enumerate(sellers)],
        )
        others = max(1, len(sellers) - 1)
        conn.execute(
            text(
                "CREATE TEMPORARY TABLE bench_plan (k INT PRIMARY KEY, seller_no INT, seller_id INT, "
                "status VARCHAR(24), quantity INT, unit_price DECIMAL(12,2), shipping DECIMAL(12,2), "
                "placed DATETIME, order_id INT, sub_order_id INT, line_id INT, "
                "line_total DECIMAL(12,2), commission DECIMAL(12,2), total DECIMAL(12,2), "
                "delivered DATETIME, available DATETIME, KEY (seller_id), KEY (sub_order_id))"
            )
        )
        # the biggest: a fifth of all (more in a small shop, where the skew of the others is coarse)
        big_share = 0.2 if others >= 50 else 0.6
        run(
            "plan",
            f"""INSERT INTO bench_plan (k, seller_no, status, quantity, unit_price, shipping, placed)
            SELECT seq,
                   CASE WHEN {_u("big")} < {big_share} THEN 0
                        ELSE 1 + FLOOR(POW({_u("seller")}, 2) * {others}) END,
                   {_status_case()},
                   1 + FLOOR({_u("qty")} * 3),
                   ROUND(5 + {_u("price")} * 295, 2),
                   CASE WHEN {_u("ship")} < 0.7 THEN 4.90 ELSE 0 END,
                   :now - INTERVAL FLOOR({_u("when")} * 365 * 86400) SECOND
            FROM seq_1_to_{n}""",
        )
        run(
            "plan",
            "UPDATE bench_plan p JOIN bench_sellers s ON s.no = LEAST(p.seller_no, :last) "
            "SET p.seller_id = s.id, p.line_total = p.quantity * p.unit_price, "
            "p.commission = ROUND(p.quantity * p.unit_price / 10, 2), "
            "p.total = p.quantity * p.unit_price + p.shipping",
            last=len(sellers) - 1,
        )
        # nothing placed in the last four days is delivered yet
        run(
            "plan",
            "UPDATE bench_plan SET status = 'shipped' "
            "WHERE status IN ('delivered', 'completed', 'refunded', 'partially_refunded') "
            "AND placed > :now - INTERVAL 4 DAY",
        )
        run(
            "plan",
            "UPDATE bench_plan SET delivered = placed + INTERVAL 3 DAY, "
            "available = placed + INTERVAL 17 DAY WHERE status IN :delivered",
            delivered=DELIVERED,
        )
        # the biggest seller's products, which its lines sell (the others' lines name none)
        big = sellers[0][0]
        made = _products(conn, tenant_id, big, products, run)
        conn.execute(
            text(
                "CREATE TEMPORARY TABLE bench_products (no INT PRIMARY KEY, id INT, "
                "sku VARCHAR(64), title VARCHAR(255))"
            )
        )
        run(
            "products",
            "INSERT INTO bench_products (no, id, sku, title) "
            "SELECT ROW_NUMBER() OVER (ORDER BY p.id) - 1, p.id, v.sku, p.title "
            "FROM products p JOIN product_variants v ON v.product_id = p.id "
            "WHERE p.tenant_id = :t AND p.seller_id = :s",
            s=big,
        )
        run(
            "orders",
            f"""INSERT INTO orders (tenant_id, number, email, status, currency, prices_include_tax,
                subtotal, discount_total, tax_total, shipping_total, total, refunded_total,
                shipping_address, coupon_codes, payment_status, created_at, updated_at)
            SELECT :t, CONCAT('{prefix}', LPAD(k, 9, '0')), 'buyer@bench.example', status, 'USD', 0,
                line_total, 0, 0, shipping, total,
                CASE status WHEN 'refunded' THEN total
                            WHEN 'partially_refunded' THEN ROUND(line_total / 2, 2) ELSE 0 END,
                '{{"country": "US"}}', '[]',
                CASE WHEN status IN ('pending', 'cancelled') THEN 'pending' ELSE 'captured' END,
                placed, placed
            FROM bench_plan ORDER BY k""",
        )
        run(
            "orders",
            f"UPDATE bench_plan p JOIN orders o ON o.tenant_id = :t "
            f"AND o.number = CONCAT('{prefix}', LPAD(p.k, 9, '0')) SET p.order_id = o.id",
        )
        run(
            "sub_orders",
            f"""INSERT INTO sub_orders (tenant_id, order_id, seller_id, number, status, subtotal,
                discount_total, tax_total, shipping_total, total, commission_rate, commission_amount,
                commission_fixed, shipping_tax, created_at, updated_at)
            SELECT :t, order_id, seller_id, CONCAT('{prefix}', LPAD(k, 9, '0'), '-1'), status,
                line_total, 0, 0, shipping, total, 0.1000, commission, 0, '[]', placed, placed
            FROM bench_plan ORDER BY k""",
        )
        run(
            "sub_orders",
            "UPDATE bench_plan p JOIN sub_orders s ON s.tenant_id = :t AND s.order_id = p.order_id "
            "SET p.sub_order_id = s.id",
        )
        run(
            "order_lines",
            """INSERT INTO order_lines (tenant_id, order_id, sub_order_id, seller_id, product_id,
                sku, title,
                quantity, unit_price, subtotal, discount_total, discounts, tax_total, tax_breakdown,
                total, commission_rate, commission_fixed, commission_amount)
            SELECT :t, order_id, sub_order_id, seller_id, pr.id,
                IF(pr.id IS NULL, CONCAT('SKU-', seller_no, '-', k % 2000), pr.sku),
                IF(pr.id IS NULL, CONCAT('Product ', k % 2000), pr.title),
                quantity, unit_price, line_total, 0, '[]', 0, '[]', line_total, 0.1000, 0,
                commission
            FROM bench_plan
            LEFT JOIN bench_products pr ON seller_no = 0 AND pr.no = k % :products
            ORDER BY k""",
            products=max(1, products),
        )
        run(
            "order_lines",
            "UPDATE bench_plan p JOIN order_lines l ON l.tenant_id = :t "
            "AND l.sub_order_id = p.sub_order_id SET p.line_id = l.id",
        )
        run(
            "refund_requests",
            """INSERT INTO order_refund_requests (tenant_id, order_id, sub_order_id, amount, reason,
                status, shipping_amount, restock, created_at, updated_at)
            SELECT :t, order_id, sub_order_id, ROUND(line_total / 2, 2), 'bench',
                CASE status WHEN 'refund_requested' THEN 'requested' ELSE 'completed' END, 0, 0,
                placed + INTERVAL 6 DAY, placed + INTERVAL 6 DAY
            FROM bench_plan WHERE status IN ('partially_refunded', 'refund_requested')""",
        )
        conn.execute(
            text(
                "CREATE TEMPORARY TABLE bench_entries (seller_id INT, sub_order_id INT, "
                "order_line_id INT, amount DECIMAL(12,2), kind VARCHAR(24), created_at DATETIME, "
                "available_at DATETIME, note VARCHAR(100), KEY (created_at))"
            )
        )
        paid = "status NOT IN ('pending', 'cancelled')"
        at_pay = "placed + INTERVAL 10 MINUTE"
        at_refund = "placed + INTERVAL 6 DAY"
        for kind, amount, when, where in (
            ("sale", "line_total", at_pay, paid),
            ("commission", "-commission", at_pay, paid),
            ("shipping", "shipping", at_pay, f"{paid} AND shipping > 0"),
            ("refund", "-total", at_refund, "status = 'refunded'"),
            ("commission_reversal", "commission", at_refund, "status = 'refunded'"),
            ("refund", "-ROUND(line_total / 2, 2)", at_refund, "status = 'partially_refunded'"),
            (
                "commission_reversal",
                "ROUND(commission / 2, 2)",
                at_refund,
                "status = 'partially_refunded'",
            ),
        ):
            line = "line_id" if kind != "shipping" else "NULL"
            run(
                "entries",
                f"INSERT INTO bench_entries (seller_id, sub_order_id, order_line_id, amount, kind, "
                f"created_at) SELECT seller_id, sub_order_id, {line}, {amount}, '{kind}', {when} "
                f"FROM bench_plan WHERE {where}",
            )
        # a payout on the 1st of each month of what became available in the month before
        run(
            "entries",
            """INSERT INTO bench_entries (seller_id, amount, kind, created_at, available_at, note)
            SELECT e.seller_id, -SUM(e.amount), 'payout', m.paid_at, m.paid_at, 'monthly payout'
            FROM bench_entries e
            JOIN bench_plan p ON p.sub_order_id = e.sub_order_id
            JOIN (SELECT DISTINCT DATE_FORMAT(available, '%Y-%m-01') + INTERVAL 1 MONTH AS paid_at
                  FROM bench_plan WHERE available IS NOT NULL) m
              ON p.available >= m.paid_at - INTERVAL 1 MONTH AND p.available < m.paid_at
            WHERE m.paid_at <= :now AND e.created_at < m.paid_at
            GROUP BY e.seller_id, m.paid_at HAVING SUM(e.amount) > 0""",
        )
        run(
            "entries",
            """INSERT INTO seller_ledger_entries (tenant_id, seller_id, sub_order_id, order_line_id,
                currency, amount, kind, source_event_id, note, created_at, available_at)
            SELECT :t, seller_id, sub_order_id, order_line_id, 'USD', amount, kind,
                IF(kind = 'payout', NULL, sub_order_id), note, created_at, available_at
            FROM bench_entries WHERE created_at <= :now ORDER BY created_at, sub_order_id, kind""",
        )
        run(
            "releases",
            """INSERT INTO seller_ledger_releases (tenant_id, sub_order_id, seller_id, delivered_at,
                available_at, source_event_id, created_at)
            SELECT :t, sub_order_id, seller_id, delivered, available, sub_order_id, delivered
            FROM bench_plan WHERE delivered IS NOT NULL ORDER BY delivered""",
        )
        counts = {
            "sub_orders": n,
            "entries": conn.scalar(
                text("SELECT COUNT(*) FROM seller_ledger_entries WHERE tenant_id = :t"),
                {"t": tenant_id},
            ),
            "releases": conn.scalar(
                text("SELECT COUNT(*) FROM seller_ledger_releases WHERE tenant_id = :t"),
                {"t": tenant_id},
            ),
            "biggest_seller_entries": conn.scalar(
                text(
                    "SELECT COUNT(*) FROM seller_ledger_entries WHERE tenant_id = :t AND seller_id = :s"
                ),
                {"t": tenant_id, "s": big},
            ),
            "biggest_seller_sub_orders": conn.scalar(
                text("SELECT COUNT(*) FROM sub_orders WHERE tenant_id = :t AND seller_id = :s"),
                {"t": tenant_id, "s": big},
            ),
            "biggest_seller_sub_orders_last_30_days": conn.scalar(
                text(
                    "SELECT COUNT(*) FROM sub_orders WHERE tenant_id = :t AND seller_id = :s "
                    "AND created_at >= :now - INTERVAL 30 DAY"
                ),
                {"t": tenant_id, "s": big, "now": moment},
            ),
            "second_seller_entries": conn.scalar(
                text(
                    "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM seller_ledger_entries "
                    "WHERE tenant_id = :t AND seller_id <> :s GROUP BY seller_id) x"
                ),
                {"t": tenant_id, "s": big},
            ),
            "products": made,
        }
        counts["seconds"] = timings
        log(f"seeded {counts['entries']:,} entries over {n:,} sub-orders: {timings}")
        return counts

    drop = text(
        "DROP TEMPORARY TABLE IF EXISTS bench_sellers, bench_plan, bench_entries, bench_products"
    )
    conn.execute(drop)
    conn.execute(text("SET SESSION foreign_key_checks = 0"))
    try:
        counts = write()
    finally:
        conn.execute(drop)
        conn.execute(text("SET SESSION foreign_key_checks = 1"))
    db.session.commit()
    return counts


def _products(conn, tenant_id: int, seller_id: int, count: int, run) -> int:
    """`count` products of the seller with a variant and a stock level each (one in ten low)."""
    if count <= 0:
        return 0
    from sqlalchemy import text

    slug = f"bench-{seller_id}"
    run(
        "products",
        "INSERT INTO warehouses (tenant_id, seller_id, code, name, country, is_active, "
        "created_at, updated_at) VALUES (:t, :s, :code, 'Bench warehouse', 'US', 1, :now, :now)",
        s=seller_id,
        code=f"W{seller_id}",
    )
    warehouse = conn.scalar(
        text("SELECT id FROM warehouses WHERE tenant_id = :t AND code = :c"),
        {"t": tenant_id, "c": f"W{seller_id}"},
    )
    run(
        "products",
        f"""INSERT INTO products (tenant_id, seller_id, title, slug, status, product_type,
            is_featured, rating_avg, rating_count, sold_count, created_at, updated_at)
        SELECT :t, :s, CONCAT('Product ', seq - 1), CONCAT('{slug}-', seq), 'active', 'simple',
            0, 0, 0, 0, :now, :now FROM seq_1_to_{count}""",
        s=seller_id,
    )
    run(
        "products",
        """INSERT INTO product_variants (tenant_id, seller_id, product_id, sku, price, currency,
            options, is_active, position, created_at, updated_at)
        SELECT :t, :s, id, CONCAT('SKU-0-', id), 20.00, 'USD', '{}', 1, 0, :now, :now
        FROM products WHERE tenant_id = :t AND seller_id = :s""",
        s=seller_id,
    )
    run(
        "products",
        """INSERT INTO stock_levels (tenant_id, seller_id, variant_id, warehouse_id,
            quantity_on_hand, quantity_reserved, reorder_point, created_at, updated_at)
        SELECT :t, :s, id, :w, IF(id % 10 = 0, 2, 50), 0, 5, :now, :now
        FROM product_variants WHERE tenant_id = :t AND seller_id = :s""",
        s=seller_id,
        w=warehouse,
    )
    return count


def seed_bank_accounts(tenant_id: int) -> int:
    """A verified default bank account for every seller of the tenant in every currency it has
    ledger entries in and no such account yet (so the payout job pays rather than skipping every
    seller with no_bank_account). One bulk INSERT; the number is stored as app.sellers.banking
    stores it: checked by its parser, encrypted by the model's EncryptedString column, with the
    same keyed fingerprint and last 4 (under the config the bench runs with). Returns the
    number of accounts written (0 on a shop that has them)."""
    from sqlalchemy import insert, select

    from app.core.types import utcnow
    from app.extensions import db
    from app.payouts.models import SellerLedgerEntry as E
    from app.sellers.banking import numbers
    from app.sellers.banking.models import VERIFIED
    from app.sellers.banking.models import SellerBankAccount as A

    have = set(
        db.session.execute(
            select(A.seller_id, A.currency).where(
                A.tenant_id == tenant_id, A.is_default.is_(True), A.verification_status == VERIFIED
            )
        ).all()
    )
    wanted = [
        (sid, cur)
        for sid, cur in db.session.execute(
            select(E.seller_id, E.currency)
            .where(E.tenant_id == tenant_id)
            .group_by(E.seller_id, E.currency)
        ).all()
        if (sid, cur) not in have
    ]
    now = utcnow()
    rows = []
    for i, (sid, currency) in enumerate(wanted):
        # a US account number (unique per seller) + a valid ABA routing number (the Fed's)
        number = numbers.parse(
            account_number=f"{sid:08d}{i:04d}",
            routing_number="011000015",
            country="US",
        )
        rows.append(
            {
                "tenant_id": tenant_id,
                "seller_id": sid,
                "holder_name": f"Bench seller {sid}",
                "kind": number.kind,
                "account_number": number.number,
                "account_number_hash": number.fingerprint(),
                "number_last4": number.last4,
                "routing_number": number.routing_number,
                "currency": currency,
                "country": "US",
                "verification_status": VERIFIED,
                "verified_at": now,
                "is_default": True,
                "created_at": now,
                "updated_at": now,
            }
        )
    if rows:
        db.session.execute(insert(A), rows)
    db.session.commit()
    return len(rows)


def build(url: str, entries: int, sellers: int, products: int) -> dict:
    """A new shop in `url`'s database (already empty): migrated, the platform initialised, the
    tenant, its sellers and seed_shop()."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from admin.cli import init_platform
    from app import create_app
    from app.core.tenancy import tenant_scope, unscoped
    from app.extensions import db
    from app.tenants.services import create_tenant

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    started = time.perf_counter()
    with app.app_context():
        upgrade(revision="heads")
        init_platform()
        with unscoped():
            tenant = create_tenant(slug=TENANT, name="Ledger bench")
            db.session.commit()
            tenant_id = tenant.id
        with tenant_scope(tenant_id):
            made = make_sellers(tenant_id, sellers)
            now = dt.datetime.now(dt.timezone.utc)
            counts = seed_shop(tenant_id, made, entries, now=now, products=products)
            counts["bank_accounts"] = seed_bank_accounts(tenant_id)
        db.session.execute(
            text(
                "ANALYZE TABLE seller_ledger_entries, seller_ledger_releases, sub_orders, "
                "orders, order_lines, order_refund_requests, stock_levels"
            )
        )
        db.session.commit()
    return {
        "tenant": TENANT,
        "tenant_id": tenant_id,
        "sellers": len(made),
        "biggest_seller_id": made[0][0],
        "biggest_user_id": made[0][1],
        "seeded_at": now.isoformat(timespec="seconds"),
        "build_s": round(time.perf_counter() - started, 1),
        "rows": counts,
    }


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    from app import create_app

    with create_app("testing", SQLALCHEMY_DATABASE_URI=url).app_context():
        upgrade(revision="heads")


def ensure_bank_accounts(url: str, shop: dict) -> int:
    """seed_bank_accounts() on a shop seeded before (a --reuse of a shop seeded without them)."""
    from app import create_app
    from app.core.tenancy import tenant_scope

    with create_app("testing", SQLALCHEMY_DATABASE_URI=url).app_context():
        with tenant_scope(shop["tenant_id"]):
            return seed_bank_accounts(shop["tenant_id"])


# --- measuring -------------------------------------------------------------------------------


def summarise(samples_ms: list[float]) -> dict:
    if len(samples_ms) < 2:
        samples_ms = samples_ms * 2
    q = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {
        "n": len(samples_ms),
        "mean_ms": round(statistics.fmean(samples_ms), 1),
        "p50_ms": round(q[49], 1),
        "p95_ms": round(q[94], 1),
        "p99_ms": round(q[98], 1),
        "max_ms": round(max(samples_ms), 1),
    }


def server_cpu_s(master_pid: int | None) -> float:
    """CPU seconds (user + system) used so far by the children of `master_pid` (gunicorn's
    workers), from /proc; 0 without a pid (in-process runs)."""
    if not master_pid:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def time_http(get, path: str, requests: int, warmup: int, server_pid: int | None) -> dict:
    """`get(path)` -> (status, body bytes), timed `requests` times after `warmup` calls."""
    for _ in range(warmup):
        status, body = get(path)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}: {body[:300]!r}")
    samples = []
    cpu = server_cpu_s(server_pid)
    for _ in range(requests):
        started = time.perf_counter()
        status, body = get(path)
        samples.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}")
    cpu_ms = (server_cpu_s(server_pid) - cpu) * 1000 / requests if server_pid else None
    return {
        "path": path,
        "bytes": len(body),
        "server_cpu_ms": None if cpu_ms is None else round(cpu_ms, 1),
        **summarise(samples),
    }


def api_cases(entries_of_biggest: int, today: dt.date) -> dict[str, str]:
    last_page = max(1, -(-entries_of_biggest // 100))
    ninety = (today - dt.timedelta(days=89)).isoformat()
    return {
        "ping (the server's floor)": "/api/core/ping",
        "dashboard, 30 days": "/api/v1/sellers/me/dashboard/",
        "dashboard, 90 days": f"/api/v1/sellers/me/dashboard/?from={ninety}&to={today}",
        "top products, 30 days": "/api/v1/sellers/me/dashboard/top-products/",
        "low stock": "/api/v1/sellers/me/dashboard/low-stock/",
        "balance": "/api/v1/sellers/me/balance/",
        "ledger, first page": "/api/v1/sellers/me/ledger/?page_size=100",
        "ledger, last page": f"/api/v1/sellers/me/ledger/?page_size=100&page={last_page}",
    }


def time_export(get, path: str) -> dict:
    started = time.perf_counter()
    status, body = get(path)
    seconds = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"GET {path}: HTTP {status}: {body[:300]!r}")
    result = {"path": path, "seconds": round(seconds, 2), "bytes": len(body)}
    if path.endswith(".csv"):
        result["rows"] = body.count(b"\n") - 1
    return result


def uncached_dashboard(app, shop: dict, requests: int) -> dict:
    """The biggest seller's dashboard computed in this process with the dashboard cache's
    version bumped before each call: what the first request after a change costs."""
    from app import dashboards
    from app.core import cache
    from app.core.tenancy import tenant_scope
    from app.dashboards import Period, seller_dashboard
    from app.extensions import db
    from app.payouts import statements
    from app.security.models import User
    from app.sellers.actors import actor_for

    samples = []
    with app.app_context(), tenant_scope(shop["tenant_id"]):
        actor = actor_for(db.session.get(User, shop["biggest_user_id"]))
        for i in range(requests + 2):
            cache.bump(dashboards.CACHE_NAMESPACE, shop["tenant_id"])
            cache.bump(statements.BALANCE_CACHE, shop["tenant_id"])
            started = time.perf_counter()
            seller_dashboard(actor, Period.last(30))
            if i >= 2:
                samples.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
    return summarise(samples)


def _vm_rss_mb() -> float | None:
    """This process's resident size now (Linux /proc), MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def payout_job() -> dict:
    """Run in a child process: app.payouts.batches.run_payout_job(now=None) on the bench tenant,
    its wall time and the child's peak RSS (and the RSS before the job: the app alone)."""
    import resource

    try:
        from app.payouts import batches
    except ImportError:
        return {"skipped": "app.payouts.batches does not exist in this tree"}
    from app import create_app
    from app.extensions import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=os.environ["BENCH_DATABASE_URL"])
    with app.app_context():
        db.session.execute(db.text("SELECT 1"))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        resident = _vm_rss_mb()
        started = time.perf_counter()
        outcome = batches.run_payout_job(now=None)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        after = _vm_rss_mb()
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak / 1024, 1),
        "rss_before_job_mb": round(before / 1024, 1),
        # ru_maxrss is a high-water mark: the resident size just before and after the job says
        # what the job itself held (the peak equals the one before when it never went higher)
        "resident_before_job_mb": resident,
        "resident_after_job_mb": after,
        "outcome": {
            "tenants": outcome.tenants,
            "payouts": outcome.payouts,
            "entries": outcome.entries,
            "amounts": {cur: str(amount) for cur, amount in outcome.amounts.items()},
            "skipped": outcome.skipped,
            "raced": outcome.raced,
        },
    }


def run_payout_job_child(url: str) -> dict:
    env = {**os.environ, "BENCH_DATABASE_URL": url, "APP_CONFIG": "testing"}
    child = subprocess.run(
        [sys.executable, __file__, "--payout-job-child"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if child.returncode != 0:
        return {"failed": child.stderr[-2000:]}
    return json.loads(child.stdout.strip().splitlines()[-1])


def start_server(url: str, redis_url: str, port: int, secret: str):
    import requests
    from serving import gunicorn_argv

    instance = Path(tempfile.mkdtemp(prefix="seller-ledger-bench-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("RATELIMIT_STORAGE_URI", "SOCKETIO_MESSAGE_QUEUE", "JOBS_MODE")
    }
    env.update(
        APP_CONFIG="production",
        SECRET_KEY=secret,
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        INSTANCE_PATH=str(instance),
        FLASK_APP="wsgi.py",
        PYTHONUNBUFFERED="1",
    )
    argv, description = gunicorn_argv(port, timeout=600)
    log = (instance / "gunicorn.log").open("w")
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited: {(instance / 'gunicorn.log').read_text()[-3000:]}"
            )
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/core/ping", timeout=2).ok:
                return proc, description
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError("gunicorn did not answer within 240 s")


def stop_server(proc) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--port", type=int, default=5074)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--sellers", type=int, default=500)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per API case")
    parser.add_argument(
        "--ledger-requests",
        type=int,
        default=20,
        help="timed requests of the ledger's first and last pages (not cached: seconds each)",
    )
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--uncached-requests", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="measure the shop seeded before")
    parser.add_argument("--no-xlsx", action="store_true")
    parser.add_argument("--seed-only", action="store_true", help="seed, measure nothing")
    parser.add_argument(
        "--payout-job-only",
        action="store_true",
        help="measure only the payout job (no HTTP cases): its section of seller_ledger.json is "
        "replaced, a table is appended to seller_ledger.md",
    )
    parser.add_argument(
        "--payout-job-runs",
        type=int,
        default=1,
        help="run the job this many times one after another: the first run claims what is "
        "payable, a second finds nothing new (the steady daily cost)",
    )
    parser.add_argument(
        "--undo-payout-runs",
        action="store_true",
        help="before measuring, delete what earlier payout job runs wrote in the bench shop "
        "(payouts, their items, skip notices, their PAYOUT entries, their outbox events), so a "
        "first run can be measured again on the same data",
    )
    parser.add_argument("--payout-job-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    os.environ["APP_CONFIG"] = "testing"
    os.environ["TEST_REDIS_URL"] = args.redis_url
    if args.payout_job_child:
        print(json.dumps(payout_job()))
        return 0

    url = args.database_url
    shop_file = RESULTS / "seller_ledger_shop.json"
    if args.reuse:
        shop = json.loads(shop_file.read_text())
        migrate(url)  # indexes a later migration added
        if args.undo_payout_runs:
            print("undone:", undo_payout_runs(url, shop), flush=True)
        made = ensure_bank_accounts(url, shop)
        if made:
            print(f"{made} verified default bank accounts added", flush=True)
    else:
        fresh_database(url)
        shop = build(url, args.entries, args.sellers, args.products)
        RESULTS.mkdir(exist_ok=True)
        shop_file.write_text(json.dumps(shop, indent=1) + "\n")
    print(json.dumps(shop, indent=1), flush=True)
    if args.seed_only:
        return 0
    if args.payout_job_only:
        runs = []
        for i in range(args.payout_job_runs):
            runs.append(run_payout_job_child(url))
            print(f"payout job, run {i + 1}", runs[-1], flush=True)
        return report_payout_job(args, shop, runs)

    import requests
    from flask_jwt_extended import create_access_token

    from app import create_app
    from app.core import cache
    from app.core.tenancy import tenant_scope

    secret = secrets.token_urlsafe(48)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, SECRET_KEY=secret)
    with app.app_context():
        cache.forget_database()  # a re-seeded database under the same URL: nothing cached stands
    proc, server = start_server(url, args.redis_url, args.port, secret)
    base = f"http://127.0.0.1:{args.port}"
    results: dict = {}
    try:
        with app.app_context(), tenant_scope(shop["tenant_id"]):
            token = create_access_token(identity=str(shop["biggest_user_id"]))
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {token}", "X-Tenant": shop["tenant"]})

        def get(path):
            response = session.get(base + path, timeout=900)
            return response.status_code, response.content

        today = dt.datetime.now(dt.timezone.utc).date()
        api = {}
        for name, path in api_cases(shop["rows"]["biggest_seller_entries"], today).items():
            n = args.ledger_requests if name.startswith("ledger") else args.requests
            api[name] = time_http(get, path, n, min(args.warmup, n), proc.pid)
            print(name, api[name], flush=True)
        results["api"] = api
        results["api_uncached_in_process"] = {
            "dashboard, 30 days": uncached_dashboard(app, shop, args.uncached_requests)
        }
        print("uncached", results["api_uncached_in_process"], flush=True)
        exports = {"csv": time_export(get, "/api/v1/sellers/me/statement.csv")}
        print("csv", exports["csv"], flush=True)
        if not args.no_xlsx:
            exports["xlsx"] = time_export(get, "/api/v1/sellers/me/statement.xlsx")
            print("xlsx", exports["xlsx"], flush=True)
        results["exports"] = exports
    finally:
        stop_server(proc)
    results["payout_job"] = run_payout_job_child(url)
    print("payout job", results["payout_job"], flush=True)
    for i in range(1, args.payout_job_runs):
        results.setdefault("payout_job_later_runs", []).append(run_payout_job_child(url))
        print(f"payout job, run {i + 1}", results["payout_job_later_runs"][-1], flush=True)
    return report(args, shop, server, results)


def report(args, shop: dict, server: str, results: dict) -> int:
    dashboard_p99 = max(
        results["api"][name]["p99_ms"] for name in results["api"] if name.startswith("dashboard")
    )
    job = results["payout_job"]
    verdict = {
        "dashboard_p99_ms": dashboard_p99,
        "dashboard_ok": dashboard_p99 < TARGETS["dashboard_p99_ms"],
        "csv_export_s": results["exports"]["csv"]["seconds"],
        "csv_ok": results["exports"]["csv"]["seconds"] < TARGETS["csv_export_s"],
        "payout_job_s": job.get("seconds"),
        "payout_job_ok": None if "seconds" not in job else job["seconds"] < TARGETS["payout_job_s"],
    }
    load = os.getloadavg()
    record = {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_average": [round(x, 2) for x in load],
        "command": "python bench/seller_ledger_bench.py " + " ".join(sys.argv[1:]),
        "server": server,
        "shop": shop,
        "targets": TARGETS,
        "verdict": verdict,
        **results,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "seller_ledger.json").write_text(json.dumps(record, indent=1) + "\n")
    rows = shop["rows"]
    lines = [
        f"## {record['when']} {args.tag}".rstrip(),
        "",
        f"`{record['command']}` ({record['machine']}, load average {load[0]:.1f} at the end; "
        f"{server}): {rows['entries']:,} entries of {shop['sellers']} sellers over "
        f"{rows['sub_orders']:,} sub-orders; the biggest seller has "
        f"{rows['biggest_seller_entries']:,} entries and {rows['biggest_seller_sub_orders']:,} "
        f"sub-orders ({rows['biggest_seller_sub_orders_last_30_days']:,} in the last 30 days), "
        f"the next biggest {rows['second_seller_entries']:,} entries.",
        "",
        "| case | n | mean ms | p50 ms | p95 ms | p99 ms | max ms | server CPU ms/req | bytes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results["api"].items():
        lines.append(
            f"| {name} | {r['n']} | {r['mean_ms']} | {r['p50_ms']} | {r['p95_ms']} "
            f"| {r['p99_ms']} | {r['max_ms']} | {r['server_cpu_ms']} | {r['bytes']:,} |"
        )
    for name, r in results["api_uncached_in_process"].items():
        lines.append(
            f"| {name}, uncached, in-process | {r['n']} | {r['mean_ms']} | {r['p50_ms']} "
            f"| {r['p95_ms']} | {r['p99_ms']} | {r['max_ms']} | | |"
        )
    lines += ["", "| export | seconds | rows | bytes |", "|---|---|---|---|"]
    for name, r in results["exports"].items():
        lines.append(f"| {name} | {r['seconds']} | {r.get('rows', '')} | {r['bytes']:,} |")
    if "seconds" in job:
        lines.append(
            f"\nPayout job: {job['seconds']} s, peak RSS {job['peak_rss_mb']} MB "
            f"({job['rss_before_job_mb']} MB before it)."
        )
    else:
        lines.append(f"\nPayout job: {job.get('skipped') or 'failed: ' + job.get('failed', '')}")
    lines.append(
        f"\nTargets: dashboard p99 {dashboard_p99} ms "
        f"({'met' if verdict['dashboard_ok'] else 'MISSED'}, < 50), CSV export "
        f"{verdict['csv_export_s']} s ({'met' if verdict['csv_ok'] else 'MISSED'}, < 10), "
        f"payout job {verdict['payout_job_s'] if job.get('seconds') is not None else 'not run'}."
    )
    with (RESULTS / "seller_ledger.md").open("a") as out:
        out.write("\n".join(lines) + "\n\n")
    print("\n".join(lines))
    missed = (
        not verdict["dashboard_ok"] or not verdict["csv_ok"] or verdict["payout_job_ok"] is False
    )
    return 1 if missed else 0


def payout_job_claimed(url: str, shop: dict) -> dict:
    """What the shop's payouts hold after the runs: payouts, claimed entries, skip notices."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        counts = {
            name: conn.scalar(text(f"SELECT COUNT(*) FROM {name} WHERE tenant_id = :t"), {"t": tid})
            for name, tid in (
                ("payouts", shop["tenant_id"]),
                ("payout_items", shop["tenant_id"]),
                ("payout_skips", shop["tenant_id"]),
            )
        }
    engine.dispose()
    return counts


def undo_payout_runs(url: str, shop: dict) -> dict:
    """Deletes what payout job runs wrote in the bench tenant: its payouts and their items, the
    skip notices, the payout.* outbox events and the PAYOUT (and PAYOUT_REVERSAL) entries the
    payouts point at, so the entries are unclaimed again, as seeded. The ledger is append-only
    (migration 0020's trigger refuses DELETE): the trigger is dropped for the delete and created
    again from its own definition, in a bench database only (its comment says so)."""
    from sqlalchemy import bindparam, create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    engine = create_engine(url)
    done = {}
    with engine.begin() as conn:
        comment = conn.scalar(
            text("SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"),
            {"n": name},
        )
        if comment not in (COMMENT, SIBLING_COMMENT):
            sys.exit(f"{name} was not made by a ledger bench: not undoing payouts in it")
        t = {"t": shop["tenant_id"]}
        entry_ids = [
            i
            for row in conn.execute(
                text("SELECT payout_entry_id, reversal_entry_id FROM payouts WHERE tenant_id = :t"),
                t,
            )
            for i in row
            if i is not None
        ]
        done["payout_items"] = conn.execute(
            text("DELETE FROM payout_items WHERE tenant_id = :t"), t
        ).rowcount
        done["payouts"] = conn.execute(text("DELETE FROM payouts WHERE tenant_id = :t"), t).rowcount
        done["payout_skips"] = conn.execute(
            text("DELETE FROM payout_skips WHERE tenant_id = :t"), t
        ).rowcount
        done["outbox_events"] = conn.execute(
            text("DELETE FROM outbox_events WHERE tenant_id = :t AND name LIKE 'payout.%'"), t
        ).rowcount
        trigger = "seller_ledger_entries_no_delete"
        row = conn.execute(text(f"SHOW CREATE TRIGGER {trigger}")).mappings().first()
        definition = row["SQL Original Statement"] if row else None
        if entry_ids and definition:
            conn.execute(text(f"DROP TRIGGER {trigger}"))
            try:
                done["entries"] = conn.execute(
                    text("DELETE FROM seller_ledger_entries WHERE id IN :ids").bindparams(
                        bindparam("ids", expanding=True)
                    ),
                    {"ids": entry_ids},
                ).rowcount
            finally:
                conn.exec_driver_sql(definition)
    engine.dispose()
    return done


def report_payout_job(args, shop: dict, runs: list[dict]) -> int:
    """--payout-job-only: the runs replace the payout job's section of seller_ledger.json (the
    HTTP cases of the last full run stay) and a paragraph is appended to seller_ledger.md."""
    load = os.getloadavg()
    when = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    command = "python bench/seller_ledger_bench.py " + shlex.join(sys.argv[1:])
    first = runs[0]
    ok = None if "seconds" not in first else first["seconds"] < TARGETS["payout_job_s"]
    path = RESULTS / "seller_ledger.json"
    record = json.loads(path.read_text()) if path.exists() else {"targets": TARGETS}
    record["payout_job"] = {
        **first,
        "when": when,
        "command": command,
        "load_average": [round(x, 2) for x in load],
    }
    record["payout_job_later_runs"] = runs[1:]
    record["payout_job_state_after"] = payout_job_claimed(args.database_url, shop)
    record.setdefault("verdict", {}).update(payout_job_s=first.get("seconds"), payout_job_ok=ok)
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
    rows = shop["rows"]
    lines = [
        f"## {when} payout job {args.tag}".rstrip(),
        "",
        f"`{command}` ({platform.machine()} {os.cpu_count()} CPUs, load average {load[0]:.1f} "
        f"at the end): `run_payout_job(now=None)` in a child process on {rows['entries']:,} "
        f"entries of {shop['sellers']} sellers.",
        "",
        "| run | seconds | peak RSS MB | peak before the job MB | resident before / after MB "
        "| outcome |",
        "|---|---|---|---|---|---|",
    ]
    for i, run in enumerate(runs, 1):
        if "seconds" in run:
            lines.append(
                f"| {i} | {run['seconds']} | {run['peak_rss_mb']} | {run['rss_before_job_mb']} "
                f"| {run.get('resident_before_job_mb')} / {run.get('resident_after_job_mb')} "
                f"| {json.dumps(run['outcome'])} |"
            )
        else:
            lines.append(f"| {i} | | | | | {run.get('skipped') or 'failed'} |")
    lines.append(
        f"\nAfter the runs: {record['payout_job_state_after']}. Target < 60 s for the first run: "
        f"{'met' if ok else 'MISSED' if ok is False else 'not run'}."
    )
    with (RESULTS / "seller_ledger.md").open("a") as out:
        out.write("\n".join(lines) + "\n\n")
    print("\n".join(lines))
    return 1 if ok is False else 0


if __name__ == "__main__":
    sys.exit(main())
