"""The admin home's dashboards in headless Chromium: a Seller's and an Admin's home draw their charts
(Chart.js, vendored, from admin/static/admin/dashboard.js) with no console error and no CSP
violation, show the period's figures, and the period selector changes the period."""

from __future__ import annotations

import datetime as dt

import pytest

from app.security import roles
from tests.browser.chromium import admin_page
from tests.builders.dashboards import Part, placed

pytestmark = pytest.mark.browser


def _ago(days: int) -> str:
    at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    return at.strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    lamp = factory.product(seller, title="Walnut desk lamp", stock=2)
    vase = factory.product(other, title="Other seller's vase")
    t = app, tenant.id
    placed(*t, _ago(2), Part(seller.id, "120.00", "12.00", "delivered", ((lamp, 2, "120.00"),)))
    placed(*t, _ago(1), Part(seller.id, "60.00", "6.00", "paid", ((lamp, 1, "60.00"),)))
    placed(*t, _ago(3), Part(seller.id, "45.00", "4.50", "cancelled", ((lamp, 1, "45.00"),)))
    placed(*t, _ago(20), Part(seller.id, "80.00", "8.00", "shipped", ((lamp, 1, "80.00"),)))
    placed(*t, _ago(2), Part(other.id, "999.00", "99.90", "paid", ((vase, 1, "999.00"),)))
    return tenant, seller


def _open_home(page, live_server: str, query: str = "") -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server}/{query}")
    page.wait_for_load_state("load")
    page.wait_for_function("() => window.Chart && Chart.getChart('dash-sales')")
    return problems


def _drawn(page, canvas_id: str) -> bool:
    """The canvas has a chart and is not blank (some pixel painted)."""
    return page.evaluate(
        """id => {
            const c = document.getElementById(id);
            if (!c || !Chart.getChart(c)) return false;
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
            return false;
        }""",
        canvas_id,
    )


def test_the_sellers_home_draws_its_charts(app, live_server, shop, tmp_path):
    tenant, seller = shop
    with admin_page(live_server, tenant.slug, seller.user.username) as page:
        problems = _open_home(page, live_server)
        assert _drawn(page, "dash-sales") and _drawn(page, "dash-statuses")
        text = page.inner_text("body")
        page.screenshot(path=str(tmp_path / "seller-home.png"), full_page=True)
        # 30 days: 120 + 60 + 80 (the cancelled 45 is not a sale; the other seller's 999 not ours)
        assert "$260.00" in text and "999" not in text
        assert "Walnut desk lamp" in text  # a top product and a low-stock item
        assert "1 to process" in " ".join(text.split())
        series = page.evaluate("Chart.getChart('dash-sales').data.datasets[0].data")
        assert len(series) == 30 and sum(series) == 260
        page.click("text=7 days")
        page.wait_for_url("**/?days=7")
        page.wait_for_function("() => window.Chart && Chart.getChart('dash-sales')")
        assert "$180.00" in page.inner_text("body")  # the shipped 80 was 20 days ago
        assert len(page.evaluate("Chart.getChart('dash-sales').data.labels")) == 7
    assert problems == []


def test_the_admins_home_draws_the_platform(app, factory, live_server, shop):
    tenant, _seller = shop
    factory.seller(tenant, status="pending")
    admin = factory.user(tenant, roles.ADMIN)
    with admin_page(live_server, tenant.slug, admin.username) as page:
        problems = _open_home(page, live_server, "?days=90")
        assert _drawn(page, "dash-sales") and _drawn(page, "dash-statuses")
        text = " ".join(page.inner_text("body").split())
        assert "$1,259.00" in text  # GMV: 260 + the other seller's 999
        assert "SELLERS TO REVIEW 1" in text.upper()
    assert problems == []
