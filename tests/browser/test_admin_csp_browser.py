"""The admin under its Content-Security-Policy, in headless Chromium: every page of the menu (and the
add form it links to), as an Admin, a Seller and a Super Admin, answers 200 and loads without a
single CSP violation and without a request to another origin, scripts loaded by scripts included
(no CDN: the admin works offline; FAB's "User's Statistics" pulled Google Charts from gstatic.com),
and its scripts run (FAB's select2 boxes are built)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from app.security import roles
from tests.browser.chromium import admin_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _watch_foreign_requests(
    page, origin: str, found: list[str], framed_origin: str | None = None
) -> None:
    """Requests for another origin that left the browser: Chromium also reports the ones the
    policy blocked (failed, with failure "csp"), which never leave.

    `framed_origin` is the one other origin the admin names in its frame-src: the shop's own
    Superset, whose dashboard the BI page frames when Superset is running (a session fixture of
    tests/superset may have it up in this process). Its requests pass only from inside a child
    frame; the admin's own page fetching it, or anything from a third origin, still counts."""

    def started(request):
        if request.url.startswith((origin, "data:", "blob:")):
            return
        if framed_origin and request.url.startswith(framed_origin + "/"):
            try:
                framed = request.frame != page.main_frame
            except Exception:  # a request with no frame (a worker's): not framed
                framed = False
            if framed:
                return
        found.append(request.url)

    def failed(request):
        if "csp" in (request.failure or "").lower() and request.url in found:
            found.remove(request.url)

    page.on("request", started)
    page.on("requestfailed", failed)


def _menu_links(page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all(".navbar a[href]", "els => els.map(e => e.href)")
    links = []
    for href in hrefs:
        url = urlparse(href)
        if (
            f"{url.scheme}://{url.netloc}" == origin
            and url.path not in ("/logout/", "/")
            and not url.path.startswith("/lang/")
            and href not in links
        ):
            links.append(href)
    return links


@pytest.mark.parametrize("role", ["admin", "seller", "superadmin"])
def test_every_menu_page_passes_the_csp(app, factory, live_server, role):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    factory.product(seller, title="Csp lamp")
    factory.customer(tenant)
    username, password = {
        "admin": (factory.user(tenant, roles.ADMIN).username, None),
        "seller": (seller.user.username, None),
        "superadmin": (app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"]),
    }[role]
    foreign, violations, visited = [], [], []
    with admin_page(live_server, tenant.slug, username, *([password] if password else [])) as page:
        superset = urlparse(app.config.get("SUPERSET_PUBLIC_URL") or "")
        _watch_foreign_requests(
            page,
            live_server,
            foreign,
            f"{superset.scheme}://{superset.netloc}" if superset.netloc else None,
        )
        # Chromium reports every blocked load, inline script or eval on the console
        page.on(
            "console",
            lambda message: (
                violations.append(f"{page.url}: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )
        links = _menu_links(page, live_server)
        assert len(links) >= (8 if role == "seller" else 20), links
        for url in links:
            response = page.goto(url, wait_until="load")
            assert response is not None and response.status == 200, url
            visited.append(url)
            # an add form exercises the form scripts (select2, datepicker) too
            add = page.locator("a[href$='/add']").first
            if add.count():
                page.goto(
                    add.get_attribute("href")
                    if add.get_attribute("href").startswith("http")
                    else live_server + add.get_attribute("href")
                )
                page.wait_for_load_state("load")
                visited.append(page.url)
        # the scripts ran under the policy: FAB's ab.js turned the form's selects into select2 boxes
        page.goto(f"{live_server}/admin/products/add")
        page.wait_for_load_state("load")
        assert page.locator(".select2-container").count() > 0
    assert violations == [], violations
    assert foreign == [], foreign
    assert len(visited) >= len(links)


def _spec(app) -> dict:
    return app.test_client().get("/api/schema/").get_json()


def test_api_docs_render_from_this_origin(app, factory, live_server):
    """Swagger UI (/api/docs/) and ReDoc (/api/redoc/): the npm packages `make install` vendors,
    served from this origin under the same policy, and both show the API's operations."""
    playwright = pytest.importorskip("playwright.sync_api")
    from tests.browser.chromium import ARGS, CHROMIUM

    foreign, violations = [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            _watch_foreign_requests(page, live_server, foreign)
            page.on(
                "console",
                lambda message: (
                    violations.append(f"{page.url}: {message.text}")
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            page.set_viewport_size({"width": 1280, "height": 900})
            page.goto(f"{live_server}/api/docs/")
            page.wait_for_selector(".opblock", timeout=20_000)
            # Swagger UI 5 virtualises long lists: only the operations near the viewport are in the
            # DOM. So read the page as a reader does, scrolling to the end, and collect every tag
            # heading that comes into view; each of the spec's tags must show up.
            spec_tags = {tag["name"] for tag in _spec(app)["tags"]}
            seen: set[str] = set()
            for _ in range(200):
                seen.update(
                    t.split("\n")[0] for t in page.locator(".opblock-tag").all_inner_texts()
                )
                at_end = page.evaluate(
                    "window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2"
                )
                if seen >= spec_tags or at_end:
                    break
                page.mouse.wheel(0, 700)
                page.wait_for_timeout(100)
            assert spec_tags - seen == set(), f"tags Swagger UI never showed: {spec_tags - seen}"
            page.goto(f"{live_server}/api/redoc/")
            page.wait_for_selector("text=Marketplace API", timeout=20_000)
            page.wait_for_selector("[data-section-id^='tag/']", timeout=20_000)
        finally:
            browser.close()
    # ReDoc's bundle links its maker's logo from their CDN ("API docs by Redocly"): the policy blocks
    # it (no request leaves), and the page works without it. Anything else is a failure.
    branding = "Loading the image 'https://cdn.redoc.ly/redoc/logo-mini.svg'"
    assert [v for v in violations if branding not in v] == [], violations
    assert foreign == [], foreign
