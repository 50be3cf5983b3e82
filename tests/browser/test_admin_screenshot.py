"""The admin product list as a person sees it: headless Chromium (Debian's, driven by Playwright)
against a real HTTP server, with a screenshot checked for real content."""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from app.security import roles
from tests.factories import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_product_list_renders_in_chromium(app, factory, live_server, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    seller = factory.seller(tenant)
    titles = [f"Walnut desk lamp {i}" for i in range(3)]
    for title in titles:
        factory.product(seller, title=title, price="49.90")

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 900},
                                extra_http_headers={"X-Tenant": tenant.slug})
        page.goto(f"{live_server}/login/")
        page.fill("input[name=username]", admin.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(f"{live_server}/admin/products/list/")
        page.wait_for_selector(f"text={titles[0]}")
        page.wait_for_load_state("load")  # stylesheets too: the picture is what a person sees
        assert "Helvetica" in page.evaluate("getComputedStyle(document.body).fontFamily")  # Bootstrap applied
        shot = tmp_path / "admin-products.png"
        page.screenshot(path=str(shot), full_page=True)
        text = page.inner_text("body")
        rows = page.locator("table.model-list tbody tr, .table-hover tbody tr").count()
        browser.close()

    for title in titles:
        assert title in text
    assert seller.store_name in text and "Products" in text
    assert rows >= len(titles)
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    keep = os.environ.get("SCREENSHOT_DIR")  # set it to keep the picture
    if keep:
        shutil.copy(shot, keep)
