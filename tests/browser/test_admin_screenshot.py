"""The admin product list as a person sees it: headless Chromium (Debian's, driven by Playwright)
against a real HTTP server, with a screenshot checked for real content."""

from __future__ import annotations

import os
import shutil

import pytest

from app.security import roles
from tests.browser.chromium import admin_page

pytestmark = pytest.mark.browser


def test_product_list_renders_in_chromium(app, factory, live_server, tmp_path):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    seller = factory.seller(tenant)
    titles = [f"Walnut desk lamp {i}" for i in range(3)]
    for title in titles:
        factory.product(seller, title=title, price="49.90")

    with admin_page(live_server, tenant.slug, admin.username) as page:
        page.goto(f"{live_server}/admin/products/list/")
        page.wait_for_selector(f"text={titles[0]}")
        page.wait_for_load_state("load")  # stylesheets too: the picture is what a person sees
        assert "Helvetica" in page.evaluate(
            "getComputedStyle(document.body).fontFamily"
        )  # Bootstrap applied
        shot = tmp_path / "admin-products.png"
        page.screenshot(path=str(shot), full_page=True)
        text = page.inner_text("body")
        rows = page.locator("table.model-list tbody tr, .table-hover tbody tr").count()

    for title in titles:
        assert title in text
    assert seller.store_name in text and "Products" in text
    assert rows >= len(titles)
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    keep = os.environ.get("SCREENSHOT_DIR")  # set it to keep the picture
    if keep:
        shutil.copy(shot, keep)
