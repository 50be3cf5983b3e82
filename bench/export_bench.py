"""Export of 100,000 products (issue 18's bench, export part): CSV and XLSX of the products entity
through the Data Management API (JWT, test client, the streamed body read chunk by chunk), and the
admin products list as the background job writes it (admin.exports replayed by
app.dataio.exports.run_export), on MariaDB. Prints and records wall time, CPU time and the
process's peak RSS growth of each; target: under 30 s each.

    python bench/export_bench.py                      # 100,000 products, shop_export_bench
    python bench/export_bench.py --products 20000 --skip-admin

It creates the database `shop_export_bench` with the comment `created by bench/export_bench.py`
(seeded by bulk INSERTs: one variant per product, 20 sellers, 50 categories and brands), and on a
later run drops it only if it carries that comment. Results: bench/results/export_bench.json and
one line appended to bench/results/export_bench.md."""

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
COMMENT = "created by bench/export_bench.py"
SERVER = "mysql+mysqldb://root@127.0.0.1:3306"
NAME = "shop_export_bench"
TARGET_SECONDS = 30


def _fresh_database() -> None:
    from sqlalchemy import create_engine, text

    server = create_engine(SERVER + "/?charset=utf8mb4")
    with server.begin() as conn:
        found = conn.execute(
            text("SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"),
            {"n": NAME},
        ).first()
        if found is not None and found[0] != COMMENT:
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


def _seed(app, products: int) -> dict:
    from sqlalchemy import insert, select

    from app.catalog.models import Brand, Category, Product, ProductVariant
    from app.core.tenancy import tenant_scope, unscoped
    from app.extensions import db
    from app.security import roles
    from app.security.services import create_user
    from app.sellers.models import SellerProfile
    from app.tenants.services import create_tenant

    started = time.perf_counter()
    with unscoped():
        tenant_id = create_tenant(slug="export-bench", name="Export bench").id
        db.session.commit()
    with tenant_scope(tenant_id):
        admin = create_user(
            tenant_id=tenant_id,
            email="admin@export-bench.example",
            password="bench-password-1",
            first_name="Bench",
            last_name="Admin",
            role_names=[roles.ADMIN],
            check_password=False,
        )
        sellers = []
        for i in range(20):
            user = create_user(
                tenant_id=tenant_id,
                email=f"seller{i}@export-bench.example",
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
            sellers.append(profile.id)
        categories = [Category(name=f"Category {i}", slug=f"category-{i}") for i in range(50)]
        brands = [Brand(name=f"Brand {i}", slug=f"brand-{i}") for i in range(50)]
        db.session.add_all(categories + brands)
        db.session.commit()
        admin_id = admin.id
        category_ids = [c.id for c in categories]
        brand_ids = [b.id for b in brands]
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    connection = db.session.connection()
    chunk = 5000
    for start in range(0, products, chunk):
        rows = [
            {
                "tenant_id": tenant_id,
                "seller_id": sellers[i % len(sellers)],
                "category_id": category_ids[i % 50],
                "brand_id": brand_ids[(i * 7) % 50],
                # every 50th title starts like a formula: the neutralising path is measured too
                "title": f"=Product {i}" if i % 50 == 0 else f"Product {i} in a fine finish",
                "slug": f"product-{i}",
                "status": "active",
                "product_type": "physical",
                "is_featured": False,
                "rating_avg": Decimal("4.20"),
                "rating_count": 3,
                "sold_count": 0,
                "min_price": Decimal("19.99"),
                "published_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(start, min(start + chunk, products))
        ]
        connection.execute(insert(Product.__table__), rows)
    db.session.commit()
    ids = db.session.execute(
        select(Product.__table__.c.id, Product.__table__.c.seller_id).where(
            Product.__table__.c.tenant_id == tenant_id
        )
    ).all()
    connection = db.session.connection()
    for start in range(0, len(ids), chunk):
        rows = [
            {
                "tenant_id": tenant_id,
                "product_id": pid,
                "seller_id": sid,
                "sku": f"SKU-{pid}",
                "title": "Standard",
                "price": Decimal("19.99"),
                "compare_at_price": None,
                "currency": "USD",
                "weight_kg": Decimal("1.250"),
                "options": {"size": "M", "colour": "blue"},
                "is_active": True,
                "position": 0,
                "created_at": now,
                "updated_at": now,
            }
            for pid, sid in ids[start : start + chunk]
        ]
        connection.execute(insert(ProductVariant.__table__), rows)
    db.session.commit()
    return {
        "tenant_id": tenant_id,
        "admin_id": admin_id,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class _RssSampler:
    """The largest resident set seen while a case runs (sampled every 20 ms): ru_maxrss is the
    process's peak since it started (the migrations' import), which an export never exceeds."""

    def __init__(self):
        import threading

        self.start = self.peak = _rss_kb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_kb())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_kb())


def _measure(name: str, run) -> dict:
    rss_before = _peak_kb()
    cpu, wall = time.process_time(), time.perf_counter()
    with _RssSampler() as rss:
        size, rows = run()
    result = {
        "case": name,
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "bytes": size,
        "rows": rows,
        "rss_start_mb": round(rss.start / 1024, 1),
        "rss_peak_mb": round(rss.peak / 1024, 1),
        "rss_growth_mb": round((rss.peak - rss.start) / 1024, 1),
        "process_peak_rss_growth_mb": round((_peak_kb() - rss_before) / 1024, 1),
    }
    result["under_target"] = result["wall_s"] < TARGET_SECONDS
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--skip-admin", action="store_true", help="only the API exports")
    args = parser.parse_args()
    os.environ.setdefault("APP_CONFIG", "testing")
    _fresh_database()
    url = f"{SERVER}/{NAME}?charset=utf8mb4"

    import tempfile

    from flask_jwt_extended import create_access_token
    from flask_migrate import upgrade
    from sqlalchemy import select

    from admin.cli import init_platform
    from app import create_app
    from app.core.tenancy import tenant_scope
    from app.dataio import exports
    from app.dataio.models import LIST, DataExport
    from app.extensions import db
    from app.security.models import User

    out_dir = Path(tempfile.mkdtemp(prefix="export-bench-"))
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=url,
        DATA_EXPORT_DIR=str(out_dir),
        # the API streams every row here (over the threshold it answers 202 and runs the job,
        # which writes the same rows to a file: measured by the admin list cases' run_export)
        DATA_EXPORT_SYNC_MAX_ROWS=10**9,
        RATELIMIT_ENABLED=False,
    )
    with app.app_context():
        upgrade(revision="heads")
        init_platform()
        seeded = _seed(app, args.products)
        print(f"seeded {args.products:,} products in {seeded['seconds']} s", flush=True)
        with tenant_scope(seeded["tenant_id"]):
            admin = db.session.get(User, seeded["admin_id"])
            token = create_access_token(identity=str(admin.id))
        db.session.remove()

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "X-Tenant": "export-bench"}

    def api(fmt):
        def run():
            response = client.get(
                f"/api/v1/admin/data-management/export/products/?format={fmt}",
                headers=headers,
                buffered=False,
            )
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
            size = 0
            lines = 0
            for chunk in response.response:
                size += len(chunk)
                if fmt == "csv":
                    lines += chunk.count(b"\r\n")
            response.close()
            return size, (lines - 1 if fmt == "csv" else None)

        return run

    results = [_measure("api_products_csv", api("csv")), _measure("api_products_xlsx", api("xlsx"))]

    if not args.skip_admin:

        def admin_job(fmt):
            def run():
                with app.app_context(), tenant_scope(seeded["tenant_id"]):
                    export = exports.request_export(
                        seeded["admin_id"], LIST, "ProductView", {}, fmt, "Products"
                    )
                    export_id = export.id
                    db.session.remove()
                with app.app_context():
                    assert exports.run_export(export_id) == "done"
                    with tenant_scope(seeded["tenant_id"]):
                        done = db.session.scalar(
                            select(DataExport).where(DataExport.id == export_id)
                        )
                        return (out_dir / done.file_name).stat().st_size, done.row_count

            return run

        results.append(_measure("admin_list_job_csv", admin_job("csv")))
        results.append(_measure("admin_list_job_xlsx", admin_job("xlsx")))

    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPUs (shared), Python {platform.python_version()}"
    )
    record = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "products": args.products,
        "seed_seconds": seeded["seconds"],
        "machine": machine,
        "load_average": load,
        "target_s": TARGET_SECONDS,
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "export_bench.json").write_text(json.dumps(record, indent=2) + "\n")
    md = RESULTS / "export_bench.md"
    if not md.exists():
        md.write_text(
            "# Export of 100,000 products (bench/export_bench.py)\n\n"
            "Wall and CPU seconds, bytes, rows, and the resident set's growth and peak while each "
            "case ran (sampled every 20 ms); "
            f"target under {TARGET_SECONDS} s each. MariaDB, in-process (test client).\n\n"
            "| when | products | case | wall s | CPU s | bytes | rows | RSS growth MB | RSS peak MB "
            "| load avg | machine |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|\n"
        )
    with md.open("a") as fh:
        for r in results:
            fh.write(
                f"| {record['when']} | {args.products:,} | {r['case']} | {r['wall_s']} | "
                f"{r['cpu_s']} | {r['bytes']:,} | {r['rows'] if r['rows'] is not None else ''} | "
                f"{r['rss_growth_mb']} | {r['rss_peak_mb']} | {load} | {machine} |\n"
            )


if __name__ == "__main__":
    main()
