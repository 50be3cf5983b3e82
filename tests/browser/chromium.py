"""Headless Chromium for the browser tests: Debian's chromium (never `playwright install`) driven
by Playwright against a real HTTP server (the `live_server` fixture of tests/conftest.py), signed
in to the admin as a person is."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.builders.factories import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def admin_page(
    live_server: str,
    tenant_slug: str,
    username: str,
    password: str = PASSWORD,
    *,
    width: int = 1400,
    height: int = 900,
) -> Iterator:
    """A Chromium page of the tenant's storefront host, signed in through the login form; the browser
    closes when the block ends. Skips the test where Playwright or chromium is missing (make test
    installs chromium, and fails when it cannot)."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no chromium here (apt-get install -y chromium)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(
                viewport={"width": width, "height": height},
                extra_http_headers={"X-Tenant": tenant_slug},
            )
            page.goto(f"{live_server}/login/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", password)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url(lambda url: "/login" not in url)
            yield page
        finally:
            browser.close()


def shoot(page, tmp_path, name: str) -> None:
    """A full-page screenshot `name`.png of a rendered page (a blank one fails the test), copied to
    $SCREENSHOT_DIR when set, to look at."""
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    keep = os.environ.get("SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, keep)
