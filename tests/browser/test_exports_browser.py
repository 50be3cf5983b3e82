"""List exports in headless Chromium: the CSV and XLSX buttons above the products list, as a Seller
(a download of its own rows only) and an Admin; a list over DATA_EXPORT_SYNC_MAX_ROWS goes to My
exports, whose Download button hands over the file. Set SCREENSHOT_DIR to keep the pictures."""

from __future__ import annotations

import csv
import io

import pytest

from app.security import roles
from tests.browser.chromium import admin_page, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_export_buttons_and_my_exports_in_chromium(app, factory, live_server, tmp_path):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    mine = [factory.product(seller, title=f"Brass lamp {i}") for i in range(3)]
    theirs = factory.product(other, title="Oak chair")

    with admin_page(live_server, tenant.slug, seller.user.username) as page:
        page.goto(f"{live_server}/admin/products/list/?_flt_0_title=Brass")
        assert page.is_visible("a.list-export-csv") and page.is_visible("a.list-export-xlsx")
        shoot(page, tmp_path, "export-seller-products-list")
        with page.expect_download() as download:
            page.click("a.list-export-csv")
        text = open(download.value.path(), encoding="utf-8-sig").read()
        rows = list(csv.DictReader(io.StringIO(text)))
        assert sorted(r["Title"] for r in rows) == sorted(p.title for p in mine)
        assert theirs.title not in text

        before = app.config["DATA_EXPORT_SYNC_MAX_ROWS"]
        app.config["DATA_EXPORT_SYNC_MAX_ROWS"] = 1
        try:
            page.goto(f"{live_server}/admin/products/list/")
            page.click("a.list-export-xlsx")
            page.wait_for_url(lambda url: "/admin/exports/" in url)
        finally:
            app.config["DATA_EXPORT_SYNC_MAX_ROWS"] = before
        assert "being prepared" in page.inner_text("body")
        assert page.is_visible("a.export-download")
        shoot(page, tmp_path, "export-seller-my-exports")
        with page.expect_download() as download:
            page.click("a.export-download")
        assert download.value.suggested_filename.endswith(".xlsx")

    with admin_page(live_server, tenant.slug, admin.username) as page:
        page.goto(f"{live_server}/admin/products/list/")
        assert page.is_visible("a.list-export-csv")
        shoot(page, tmp_path, "export-admin-products-list")
        page.goto(f"{live_server}/admin/exports/")
        assert "No exports yet" in page.inner_text("body")
        shoot(page, tmp_path, "export-admin-my-exports-empty")


def test_a_super_admin_backs_up_a_tenant_in_chromium(app, factory, live_server, tmp_path):
    tenant = factory.tenant()
    factory.product(factory.seller(tenant), title="Brass lamp")
    with admin_page(
        live_server, tenant.slug, app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"]
    ) as page:
        page.goto(f"{live_server}/admin/tenants/list/?_flt_0_slug={tenant.slug}")
        page.check(f"input.action_check[value='{tenant.id}']")
        page.click("button.dropdown-toggle:has-text('Actions')")
        page.click("a:has-text('Back up')")
        page.click("#modal-confirm-ok")  # FAB's confirmation modal
        page.wait_for_url(lambda url: "/admin/exports/" in url)
        body = page.inner_text("body")
        assert "Backup of Test shop" in body and "ZIP" in body
        shoot(page, tmp_path, "export-super-admin-backup")
        with page.expect_download() as download:
            page.click("a.export-download")
        assert download.value.suggested_filename.endswith(".zip")
