"""An import whose worker is killed mid-way (a real `flask worker` process, SIGKILL) leaves no
half-written product, and a second worker resumes it from its checkpoint: every product ends with
both its variants, none twice, and the rows the first worker committed are not written again.

The workers are real RQ workers on this test's Redis database and MariaDB database (the test app
runs jobs in-process; here the import is handed to RQ instead, as production does)."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from app.catalog.models import Category, Product, ProductVariant
from app.core.tenancy import tenant_scope
from app.dataio import imports
from app.dataio.models import DataImport
from app.events.bus import get_bus
from app.extensions import db
from app.security.models import User
from app.sellers.actors import actor_for
from jobs.runner import RQRunner
from tests.builders.workers import ROOT, worker_environment
from tests.conftest import unique

PRODUCTS = 300  # 600 rows in chunks of 10: long enough to be killed between two chunks


def _file(prefix: str, category: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["handle", "title", "category", "sku", "options", "price"])
    for i in range(PRODUCTS):
        for size in ("S", "M"):
            writer.writerow(
                [f"{prefix}-{i}", f"P {i}", category, f"{prefix}-{i}-{size}", f"size={size}", "5"]
            )
    return out.getvalue().encode()


def _worker(app, tmp_path: Path, name: str, *args: str, **env) -> subprocess.Popen:
    environ = worker_environment(
        app,
        TEST_DATA_IMPORT_DIR=app.config["DATA_IMPORT_DIR"],
        DATA_IMPORT_CHUNK_ROWS="10",
        **env,
    )
    log = (tmp_path / f"{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "worker", "default", "--simple", *args],
        cwd=ROOT,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
        # a group of its own: RQ's worker forks its scheduler, which must die with it
        start_new_session=True,
    )


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and what it forked (its group), as a dying machine would."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


def _progress(app, tenant_id: int, import_id: int) -> DataImport:
    with app.app_context(), tenant_scope(tenant_id):
        row = db.session.get(DataImport, import_id)
        db.session.expunge(row)
        return row


def _shape(app, tenant_id: int, prefix: str) -> dict[str, int]:
    """Variants per product of this file's products."""
    with app.app_context(), tenant_scope(tenant_id):
        return dict(
            db.session.execute(
                select(Product.slug, func.count(ProductVariant.id))
                .join(ProductVariant, ProductVariant.product_id == Product.id)
                .where(Product.slug.like(f"{prefix}-%"))
                .group_by(Product.slug)
            ).all()
        )


def test_an_import_killed_mid_way_resumes_without_half_written_products(app, factory, tmp_path):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    prefix = unique("k")
    with app.app_context(), tenant_scope(tenant.id):
        category = Category(name="Kill", slug=unique("kill"))
        db.session.add(category)
        db.session.commit()
        category_slug = category.slug
    redis = Redis.from_url(app.config["REDIS_URL"])
    Queue("default", connection=redis).empty()

    bus = get_bus(app)
    inline, bus.runner = bus.runner, RQRunner(redis)
    try:
        with app.test_request_context(), tenant_scope(tenant.id):
            actor = actor_for(db.session.get(User, seller.user.id))
            import_id = imports.start_import(
                actor, "products", "row_by_row", io.BytesIO(_file(prefix, category_slug)), "k.csv"
            )
    finally:
        bus.runner = inline

    first = _worker(app, tmp_path, "first")
    try:
        deadline = time.monotonic() + 90
        while _progress(app, tenant.id, import_id).rows_done < 100:
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "first.log").read_text()
            time.sleep(0.02)
    finally:
        _kill(first)

    killed = _progress(app, tenant.id, import_id)
    assert killed.status == "running" and 100 <= killed.rows_done < 2 * PRODUCTS, killed.rows_done
    shape = _shape(app, tenant.id, prefix)
    # what was committed is whole products only, and exactly the checkpoint's rows
    assert set(shape.values()) == {2} and 2 * len(shape) == killed.rows_done

    # a second worker takes the stalled import over (no heartbeat for 0 s counts as dead here)
    with app.app_context():
        Queue("default", connection=redis).enqueue(imports.TASK, import_id)
    second = _worker(app, tmp_path, "second", "--burst", DATA_IMPORT_STALE_SECONDS="0")
    try:
        assert second.wait(120) == 0, (tmp_path / "second.log").read_text()
    finally:
        _kill(second)
    done = _progress(app, tenant.id, import_id)
    assert done.status == "completed", (done.status, done.message)
    assert (done.rows_done, done.rows_failed) == (2 * PRODUCTS, 0)
    # resumed, not restarted: the first worker's rows were not written (updated) again
    assert (done.rows_created, done.rows_updated) == (2 * PRODUCTS, 0)
    shape = _shape(app, tenant.id, prefix)
    assert len(shape) == PRODUCTS and set(shape.values()) == {2}
    assert done.storage_name is None  # the upload is deleted once the import is done
