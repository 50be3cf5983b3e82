"""Every page of the admin menu, opened in headless Chromium as Admin, Seller and Super Admin, asks
nothing of another host: no CDN script or stylesheet, and no script that fetches one later (FAB's
"User's Statistics" shipped a local loader that then pulled Google Charts from gstatic.com).
Requests to other hosts are recorded and refused, so the test never needs the internet."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from app.security import roles
from tests.browser.chromium import admin_page
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_no_admin_page_fetches_anything_from_another_host(app, factory, live_server):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    seller = factory.seller(tenant)
    people = {"Admin": (admin.username, PASSWORD), "Seller": (seller.user.username, PASSWORD),
              "Super Admin": (app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"])}
    ours = urlsplit(live_server).netloc
    elsewhere: list[tuple[str, str, str]] = []  # (role, page, what it asked of another host)
    for role, (username, password) in people.items():
        with admin_page(live_server, tenant.slug, username, password) as page:
            def refuse(route, request, role=role, page=page):
                elsewhere.append((role, page.url, request.url))
                route.abort()

            page.route(lambda url: urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != ours,
                       refuse)
            page.goto(f"{live_server}/")
            links = page.eval_on_selector_all(".navbar a[href]", "els => els.map(a => a.getAttribute('href'))")
            paths = sorted({href for href in links if href.startswith("/") and href != "/logout/"})
            assert len(paths) > 5, role  # the menu was read
            for path in paths:
                response = page.goto(f"{live_server}{path}", wait_until="load")
                assert response is not None and response.status == 200, (role, path)
    assert not elsewhere
