"""Import benchmark: validate and import N products with 2 variants each (2 x N file rows, one row
per variant) from CSV and from XLSX on a database of its own, as one seller of one tenant.

    $V/bin/python bench/import_bench.py                  # 100,000 products, MariaDB shop_import_bench
    $V/bin/python bench/import_bench.py --products 2000  # a quick look first

For each format: the file is written (streamed), then the dry run (app.dataio.imports.
validate_upload) and the import job (run_import, row_by_row, as the RQ worker runs it) are timed
in this process: wall time, CPU time (user + system, resource.getrusage) and the process's peak
resident memory (ru_maxrss: a high-water mark, so the figure after a phase is the peak so far).
The CSV and the XLSX files hold different products (each import creates its own 2 x N variants).
Search indexing and the other event consumers are jobs of their own: here the outbox events are
written as always but not dispatched (the task runner is replaced by one that only counts).

The database is made as bench/seed_bench.py makes its own (dropped and re-created only when
that script's comment marks it as made by a bench), then `flask db upgrade` and `flask init`.
Writes bench/results/import_bench.json (this run) and appends lines to
bench/results/import_bench.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_URL = "mysql+mysqldb://root@127.0.0.1:3306/shop_import_bench?charset=utf8mb4"
HEADER = ["handle", "title", "category", "brand", "attributes", "images", "sku", "options",
          "price", "currency", "status"]  # fmt: skip


def _rows(prefix: str, products: int, category: str):
    yield HEADER
    for i in range(products):
        handle = f"{prefix}-{i}"
        for size in ("S", "M"):
            yield [handle, f"Bench product {i}", category, f"Brand {i % 50}", "material=cotton",
                   f"https://cdn.example.com/{handle}.jpg", f"{handle}-{size}".upper(),
                   f"size={size}", f"{10 + i % 90}.90", "USD", "active"]  # fmt: skip


def write_file(path: Path, fmt: str, prefix: str, products: int, category: str) -> None:
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(_rows(prefix, products, category))
        return
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("products")
    for row in _rows(prefix, products, category):
        sheet.append(row)
    workbook.save(path)


def _usage() -> tuple[float, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024  # CPU s, peak MB (Linux: KiB)


class CountingRunner:
    """Stands in for RQ: counts what would be enqueued (event consumers, the import job)."""

    def __init__(self):
        self.calls = 0

    def enqueue(self, task, *args, queue="default", job_id=None, timeout=None):
        self.calls += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--chunk-rows", type=int, default=None)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "bench"))
    from seed_bench import prepare_database

    url = args.database_url
    print(f"database {url.split('@')[-1]}: {prepare_database(url, keep=False)}", flush=True)
    instance = tempfile.mkdtemp(prefix="import-bench-")
    os.environ.update(
        APP_CONFIG="development", DATABASE_URL=url, INSTANCE_PATH=instance, FLASK_APP="wsgi.py"
    )
    if args.chunk_rows:
        os.environ["DATA_IMPORT_CHUNK_ROWS"] = str(args.chunk_rows)
    for name in ("REDIS_URL", "JOBS_MODE", "RATELIMIT_STORAGE_URI", "SOCKETIO_MESSAGE_QUEUE"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))

    from decimal import Decimal

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from admin.cli import init_platform
    from app import create_app
    from app.catalog.models import Attribute, Category, ProductVariant
    from app.core.tenancy import tenant_scope, unscoped
    from app.dataio import imports
    from app.dataio.models import DataImport
    from app.events.bus import get_bus
    from app.extensions import db
    from app.security import roles
    from app.security.models import User
    from app.security.services import create_user
    from app.sellers.actors import actor_for
    from app.sellers.models import SellerProfile
    from app.tenants.services import create_tenant

    app = create_app("development", SQLALCHEMY_DATABASE_URI=url)
    runner = CountingRunner()
    get_bus(app).runner = runner
    figures: list[dict] = []
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        init_platform("bench-admin-password-1")
        with unscoped():
            tenant = create_tenant(slug="import-bench", name="Import bench")
            tenant_id = tenant.id
        with tenant_scope(tenant_id):
            user = create_user(
                tenant_id=tenant_id, email="seller@bench.example", password="x",
                first_name="Bench", last_name="Seller", role_names=[roles.SELLER],
                check_password=False, password_hash="-",
            )  # fmt: skip
            db.session.flush()
            db.session.add(
                SellerProfile(
                    user_id=user.id,
                    store_name="Bench store",
                    slug="bench-store",
                    status="approved",
                    commission_rate=Decimal("0.1"),
                )  # fmt: skip
            )
            db.session.add_all(
                [Category(name="Bench", slug="bench"), Attribute(code="material", name="Material")]
            )
            db.session.commit()
            user_id = user.id
        db.session.remove()

        folder = Path(tempfile.mkdtemp(prefix="import-bench-files-"))
        for fmt in [f.strip() for f in args.formats.split(",") if f.strip()]:
            path = folder / f"products.{fmt}"
            t = time.perf_counter()
            write_file(path, fmt, f"{fmt}b", args.products, "bench")
            write_s = time.perf_counter() - t
            rows = 2 * args.products
            size_mb = path.stat().st_size / 1024 / 1024
            print(f"{fmt}: {rows:,} rows, {size_mb:.1f} MB written in {write_s:.1f} s", flush=True)

            with app.test_request_context(), tenant_scope(tenant_id):
                actor = actor_for(db.session.get(User, user_id))
                cpu0, _ = _usage()
                t = time.perf_counter()
                with path.open("rb") as fh:
                    report = imports.validate_upload(actor, "products", fh, path.name)
                wall = time.perf_counter() - t
                cpu1, peak = _usage()
                assert report.ok and report.rows_total == rows, report.problems[:5]
                figures.append(
                    _figure(fmt, "validate", rows, args.products, wall, cpu1 - cpu0, peak, size_mb)
                )
                print(_line(figures[-1]), flush=True)
                with path.open("rb") as fh:
                    import_id = imports.start_import(actor, "products", "row_by_row", fh, path.name)
            db.session.remove()

            cpu0, _ = _usage()
            t = time.perf_counter()
            status = imports.run_import(import_id)
            wall = time.perf_counter() - t
            cpu1, peak = _usage()
            with tenant_scope(tenant_id):
                row = db.session.get(DataImport, import_id)
                assert status == "completed" and row.rows_done == rows, (status, row.message)
                variants = db.session.scalar(
                    select(func.count()).select_from(ProductVariant)
                    .where(ProductVariant.sku.like(f"{fmt.upper()}B-%"))
                )  # fmt: skip
                assert variants == rows, variants
            db.session.remove()
            figures.append(
                _figure(fmt, "import", rows, args.products, wall, cpu1 - cpu0, peak, size_mb)
            )
            print(_line(figures[-1]), flush=True)

    result = {
        "bench": "import",
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "database": url.split("@")[-1],
        "products": args.products,
        "rows_per_file": 2 * args.products,
        "chunk_rows": int(app.config["DATA_IMPORT_CHUNK_ROWS"]),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "events_not_dispatched": runner.calls,
        "figures": figures,
        "targets": {"rows_per_s": 2000, "peak_rss_mb": 500},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "import_bench.json").write_text(json.dumps(result, indent=2) + "\n")
    md = RESULTS / "import_bench.md"
    if not md.exists():
        md.write_text(
            "| when (UTC) | format | phase | products | rows | file (MB) | wall (s) | rows/s | "
            "CPU (s) | peak RSS so far (MB) |\n|---|---|---|---|---|---|---|---|---|---|\n"
        )
    with md.open("a") as fh:
        for f in figures:
            fh.write(
                f"| {result['when']} | {f['format']} | {f['phase']} | {f['products']:,} | "
                f"{f['rows']:,} | {f['file_mb']} | {f['wall_s']} | {f['rows_per_s']:,} | "
                f"{f['cpu_s']} | {f['peak_rss_mb']} |\n"
            )
    return 0


def _figure(fmt, phase, rows, products, wall, cpu, peak, size_mb) -> dict:
    return {
        "format": fmt,
        "phase": phase,
        "products": products,
        "rows": rows,
        "file_mb": round(size_mb, 1),
        "wall_s": round(wall, 1),
        "rows_per_s": int(rows / wall) if wall else 0,
        "cpu_s": round(cpu, 1),
        "peak_rss_mb": round(peak, 1),
    }


def _line(f: dict) -> str:
    return (
        f"  {f['format']} {f['phase']}: {f['rows']:,} rows in {f['wall_s']} s = "
        f"{f['rows_per_s']:,} rows/s, CPU {f['cpu_s']} s, peak RSS {f['peak_rss_mb']} MB"
    )


if __name__ == "__main__":
    sys.exit(main())
