"""/admin/data-management in headless Chromium: a Seller downloads nothing it may not (no customers
template), validates a file (the report lists each problem by row and column, nothing written),
imports it row by row and finds the import in the list with its error file; an Admin sees every
entity and the seller's import. Set SCREENSHOT_DIR to keep the pictures."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from app.catalog.models import Category, Product
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security import roles
from tests.browser.chromium import admin_page, shoot
from tests.conftest import unique

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _file(tmp_path, category: str) -> str:
    prefix = unique("b")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["handle", "title", "category", "sku", "options", "price", "currency"])
    writer.writerow(
        [f"{prefix}-1", "Linen shirt", category, f"{prefix}-1-S", "size=S", "49.90", "USD"]
    )
    writer.writerow(
        [f"{prefix}-1", "Linen shirt", category, f"{prefix}-1-M", "size=M", "49.90", "USD"]
    )
    writer.writerow(
        [f"{prefix}-2", "Wool scarf", "no-such-category", f"{prefix}-2", "", "-3", "usd"]
    )
    path = tmp_path / "catalog.csv"
    path.write_text(out.getvalue())
    return str(path)


def _products(app, tenant_id: int, seller_id: int) -> int:
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.scalar(
            select(func.count()).select_from(Product).where(Product.seller_id == seller_id)
        )


def test_data_management_page_in_chromium(app, factory, live_server, tmp_path):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    with app.app_context(), tenant_scope(tenant.id):
        category = Category(name="Shirts", slug=unique("shirts"))
        db.session.add(category)
        db.session.commit()
        slug = category.slug
    path = _file(tmp_path, slug)

    with admin_page(live_server, tenant.slug, seller.user.username) as page:
        page.goto(f"{live_server}/admin/data-management/")
        body = page.inner_text("body")
        assert "Download a template" in body and "No imports yet." in body
        assert "Customers" not in page.inner_text(".dm-templates")
        shoot(page, tmp_path, "data18-seller-empty")

        page.set_input_files("#dm-file", path)
        page.click("#dm-validate")
        page.wait_for_selector("#dm-report")
        report = page.inner_text("#dm-report")
        assert "3 row(s), 2 valid, 1 with problems" in report and "Nothing was written" in report
        assert "unknown category" in report and "zero or more" in report
        assert _products(app, tenant.id, seller.id) == 0
        shoot(page, tmp_path, "data18-seller-validated")

        page.set_input_files("#dm-file", path)
        page.click("#dm-import")
        page.wait_for_selector("#dm-imports")
        row = page.inner_text("#dm-imports tbody tr")
        assert "completed with errors" in row and "3 / 3" in row  # rows read, imported or failed
        assert page.inner_text("#dm-imports tbody tr .dm-failed") == "1"
        assert page.is_visible("#dm-imports .dm-download a")
        assert _products(app, tenant.id, seller.id) == 1
        with page.expect_download() as download:
            page.click("#dm-imports .dm-download a")
        lines = open(download.value.path()).read().splitlines()
        assert lines[0].endswith(",error") and len(lines) == 2
        shoot(page, tmp_path, "data18-seller-imported")

    with admin_page(live_server, tenant.slug, admin.username) as page:
        page.goto(f"{live_server}/admin/data-management/")
        assert "Customers" in page.inner_text(".dm-templates")
        assert "catalog.csv" in page.inner_text("#dm-imports")
        shoot(page, tmp_path, "data18-admin")

        # a file past DATA_IMPORT_SYNC_VALIDATE_BYTES is checked in the background
        before = app.config["DATA_IMPORT_SYNC_VALIDATE_BYTES"]
        app.config["DATA_IMPORT_SYNC_VALIDATE_BYTES"] = 10
        try:
            page.set_input_files("#dm-file", path)
            with page.expect_navigation():
                page.click("#dm-validate")
        finally:
            app.config["DATA_IMPORT_SYNC_VALIDATE_BYTES"] = before
        assert "checked in the background" in page.inner_text("body")
        row = page.inner_text("#dm-imports tbody tr")
        assert "check only" in row and "validated" in row and "nothing was written" in row
        assert page.is_visible("#dm-imports tbody tr .dm-download a")  # its problems' file
        assert _products(app, tenant.id, seller.id) == 1
        shoot(page, tmp_path, "data18-admin-background-check")
