"""The admin's analytics pages in headless Chromium, as an Admin and as a Seller: every chart the
page carries is drawn by Chart.js (Chart.getChart finds a chart on each canvas, none blank), the
forecast is drawn after the actual series, the segments and stock tables render, and the navbar
still fits one row at 1280 px with the Analytics menu. Set SCREENSHOT_DIR to keep the pictures.

The shop: 84 days of planted sales ending yesterday, growing (seller S1 about $100 a day with a
weekly season, seller S2 $40 a day), 40 customers of S1 over the last 90 days, the aggregates rebuilt,
the segments and the sales forecast trained."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from analytics import inventory, registry, training
from app.core.tenancy import tenant_scope
from app.core.types import utcnow
from app.extensions import db
from app.security import roles
from tests.browser.chromium import admin_page, shoot
from tests.builders.analytics import rebuild
from tests.builders.customer_history import _customers, _orders
from tests.builders.product_models import Sale, plant

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DAYS = 84
W = (0.6, 0.8, 1.0, 1.0, 1.2, 1.6, 1.8)


@pytest.fixture(scope="module")
def shop(app):
    from tests.builders.factories import Factory

    factory = Factory(app)
    tenant = factory.tenant()
    s1, s2 = factory.seller(tenant), factory.seller(tenant)
    lamp = factory.product(s1, title="Oak desk lamp", stock=40)
    factory.product(s1, title="Walnut shelf", stock=2)  # never sold: a slow mover, low stock
    chair = factory.product(s2, title="Linen armchair", stock=12)
    today = dt.datetime.now(dt.timezone.utc).date()
    orders = []
    for t in range(DAYS):
        day = today - dt.timedelta(days=DAYS - t)
        at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.timezone.utc)
        w = W[day.weekday()]
        # growing week by week: a plain weekly repeat would be seasonal-naive's perfect case, and
        # a forecast that cannot beat that baseline is not served (analytics.registry.PRIMARY)
        grow = 1 + t / 60
        s1_sales = Decimal(f"{round(100 * w * grow):d}.00")
        orders.append((at, "USD", (Sale(s1.id, s1_sales, ((lamp, 2),)),)))
        orders.append(
            (at, "USD", (Sale(s2.id, Decimal(f"{round(40 * grow):d}.00"), ((chair, 1),)),))
        )
    plant(app, tenant.id, orders)
    now = utcnow()
    with app.app_context(), tenant_scope(tenant.id):
        people = _customers(tenant.id, 40, "shop")
        history = []
        for i, (user, _) in enumerate(people):
            history.append(
                (user, now - dt.timedelta(days=3 + (i * 7) % 85), 20.0 + 25 * (i % 4), 0.0, "USD")
            )
            if i % 3 == 0:
                history.append((user, now - dt.timedelta(days=1 + i % 20), 35.0, 0.0, "USD"))
        _orders(s1.id, history)
        db.session.commit()
    rebuild(app, tenant.id)
    with app.app_context():
        for kind in (registry.SEGMENTS, registry.SALES_FORECAST):
            assert training.train(kind, tenant.id).status == "active", kind
        for back in range(6, -1, -1):  # a week of the hourly job's snapshots
            inventory.refresh(tenant.id, now - dt.timedelta(days=back))
    return {"tenant": tenant, "s1": s1, "admin": factory.user(tenant, roles.ADMIN)}


def _charts(page) -> list[dict]:
    """Each canvas of the page: its id, whether Chart.js drew a chart on it, and its datasets."""
    return page.eval_on_selector_all(
        "canvas.an-canvas",
        """els => els.map(c => {
            const chart = Chart.getChart(c);
            return {id: c.id, drawn: !!chart, width: c.width,
                    datasets: chart ? chart.data.datasets.map(d => d.label) : []};
        })""",
    )


def _all_drawn(page, expected: set[str]) -> list[dict]:
    charts = _charts(page)
    assert {c["id"] for c in charts} >= expected, charts
    assert all(c["drawn"] and c["width"] > 100 for c in charts), charts
    return charts


def _one_row(page, who: str) -> None:
    """The navbar's top-level entries on one row (at the 1280 px the pages are opened at)."""
    tops = page.eval_on_selector_all(
        ".navbar .navbar-brand, .navbar .navbar-nav > li",
        "els => els.map(e => Math.round(e.getBoundingClientRect().top))",
    )
    menus = page.eval_on_selector_all(
        ".navbar .navbar-nav:not(.navbar-right) > li > a", "els => els.map(e => e.innerText)"
    )
    widths = page.eval_on_selector_all(
        ".navbar .navbar-header, .navbar .navbar-nav, .navbar .navbar-form, .navbar .container",
        "els => els.map(e => e.className + ':' + Math.round(e.getBoundingClientRect().width))",
    )
    assert len(set(tops)) == 1, f"{who}: the navbar wraps at 1280 px: {menus} {widths}"


def test_analytics_pages_as_admin_and_seller(app, live_server, shop, tmp_path):
    slug = shop["tenant"].slug
    with admin_page(live_server, slug, shop["admin"].username, width=1280) as page:
        page.goto(f"{live_server}/admin/analytics/?days=90")
        charts = _all_drawn(page, {"an-sales-0", "an-forecast-0", "an-acquisition"})
        forecast = next(c for c in charts if c["id"] == "an-forecast-0")
        assert forecast["datasets"][:2] == ["Actual (USD)", "Forecast"]
        body = page.inner_text("body")
        assert "Oak desk lamp" in body and "Linen armchair" in body and "Walnut shelf" in body
        assert page.is_visible("#an-cohorts") and page.is_visible(".an-up, .an-down, .an-change")
        shoot(page, tmp_path, "analytics-sales-admin")
        _one_row(page, "admin")

        page.goto(f"{live_server}/admin/analytics/?days=90&group_by=seller&granularity=week")
        charts = _all_drawn(page, {"an-sales-0"})
        assert len(next(c for c in charts if c["id"] == "an-sales-0")["datasets"]) == 2
        shoot(page, tmp_path, "analytics-sales-by-seller")

        page.goto(f"{live_server}/admin/analytics/segments/")
        assert page.is_visible("#an-segment-table") and page.is_visible("#an-members")
        shoot(page, tmp_path, "analytics-segments")

        page.goto(f"{live_server}/admin/analytics/inventory/")
        assert page.is_visible("#an-variants")
        _all_drawn(page, {"an-stock"})
        body = page.inner_text("body")
        assert "Linen armchair" in body and "Walnut shelf" in body
        shoot(page, tmp_path, "analytics-stock-admin")

    with admin_page(live_server, slug, shop["s1"].user.username, width=1280) as page:
        page.goto(f"{live_server}/admin/analytics/?days=90")
        _all_drawn(page, {"an-sales-0", "an-forecast-0"})
        body = page.inner_text("body")
        assert "Oak desk lamp" in body and "Linen armchair" not in body
        assert page.query_selector("#an-group option[value='seller']") is None
        assert page.is_visible("a.dropdown-toggle:has-text('Analytics')")
        shoot(page, tmp_path, "analytics-sales-seller")
        _one_row(page, "seller")

        page.goto(f"{live_server}/admin/analytics/inventory/")
        _all_drawn(page, {"an-stock"})
        body = page.inner_text("body")
        assert "Walnut shelf" in body and "Linen armchair" not in body
        shoot(page, tmp_path, "analytics-stock-seller")

        response = page.goto(f"{live_server}/admin/analytics/segments/")
        assert response.status == 403 or "/admin/analytics/segments" not in page.url
