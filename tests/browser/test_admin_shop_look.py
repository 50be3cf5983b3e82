"""The admin as staff and sellers see it at 1280 px in headless Chromium: the navbar's menus fit on
one row for every role, and the product list, payments list and home read like a shop (no None,
True/False or raw timestamps). Set SCREENSHOT_DIR to keep the pictures."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from app.extensions import db
from app.orders.models import Order
from app.security import roles
from tests.browser.chromium import admin_page
from tests.builders.admin import scope
from tests.builders.payments import CARD_OK, Payments

pytestmark = pytest.mark.browser

WIDTH = 1280
# the top-level menu entries (left and right) and the brand: one row when their tops are equal
NAVBAR_ITEMS = ".navbar .navbar-brand, .navbar .navbar-nav > li"


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    seller = factory.seller(tenant)
    customer = factory.customer(tenant)
    for i in range(3):
        factory.product(seller, title=f"Oak side table {i}", price="129.90")
    payments = Payments(app)
    order_id = payments.order(
        tenant.id, total="129.90", user_id=customer.user_id, seller_ids=(seller.id,)
    )
    payment = payments.start(
        tenant.id, amount="129.90", details=CARD_OK, user_id=customer.user_id, order_id=order_id
    )
    with scope(app, tenant.id):
        number = db.session.get(Order, order_id).number
    return {
        "tenant": tenant,
        "admin": admin,
        "seller": seller,
        "payment": payment,
        "number": number,
    }


def _menu_rows(page) -> list[float]:
    """The distinct tops of the navbar's top-level entries (one row: one top)."""
    tops = page.eval_on_selector_all(
        NAVBAR_ITEMS, "els => els.map(e => Math.round(e.getBoundingClientRect().top))"
    )
    assert len(tops) >= 4, "no navbar menus found"
    return sorted(set(tops))


def _keep(shot, name: str) -> None:
    keep = os.environ.get("SCREENSHOT_DIR")
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(shot, os.path.join(keep, name))


@pytest.mark.parametrize("who", ["admin", "seller", "super_admin"])
def test_the_navbar_is_one_row_at_1280_px(app, live_server, shop, who, tmp_path):
    username, password = {
        "admin": (shop["admin"].username, None),
        "seller": (shop["seller"].user.username, None),
        "super_admin": (app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"]),
    }[who]
    kwargs = {"password": password} if password else {}
    with admin_page(live_server, shop["tenant"].slug, username, width=WIDTH, **kwargs) as page:
        page.goto(f"{live_server}/")
        page.wait_for_load_state("load")
        rows = _menu_rows(page)
        height = page.eval_on_selector(".navbar", "e => e.getBoundingClientRect().height")
        menus = page.eval_on_selector_all(
            ".navbar .navbar-nav:not(.navbar-right) > li > a", "els => els.map(e => e.innerText)"
        )
        shot = tmp_path / f"navbar-{who}.png"
        page.screenshot(path=str(shot))
    _keep(shot, f"navbar-{who}-{WIDTH}.png")
    assert len(rows) == 1, f"{who}: the navbar wraps onto {len(rows)} rows: {menus}"
    assert height < 80, f"{who}: the navbar is {height}px high"
    assert not any(name.strip() == "Search" for name in menus)  # it is search analytics


@pytest.mark.parametrize("who", ["admin", "seller"])
def test_lists_and_home_read_like_a_shop(app, live_server, shop, who, tmp_path):
    username = shop["admin"].username if who == "admin" else shop["seller"].user.username
    pages = {
        "home": "/",
        "products": "/admin/products/list/",
        "payments": "/admin/payments/list/",
        "missing": "/admin/products/show/999999999",
    }
    texts = {}
    with admin_page(live_server, shop["tenant"].slug, username, width=WIDTH) as page:
        for name, url in pages.items():
            page.goto(f"{live_server}{url}")
            page.wait_for_load_state("load")
            shot = tmp_path / f"{name}-{who}.png"
            page.screenshot(path=str(shot), full_page=True)
            _keep(shot, f"{name}-{who}.png")
            texts[name] = page.inner_text("body")
    for name, text in texts.items():
        assert "None" not in text and "True" not in text and "False" not in text, name
        # times to the minute: no seconds or microseconds, no "+00:00"
        assert not re.search(r"\d\d:\d\d:\d\d", text) and "+00:00" not in text, name
    assert "Oak side table 0" in texts["products"]
    # a page that is not there: inside the layout, the menus still there, a way home
    assert "Page not found" in texts["missing"] and "Admin home" in texts["missing"]
    assert "Catalog" in texts["missing"]
    assert "$129.90" in texts["payments"]
    assert shop["number"] in texts["payments"] and "Order Id" not in texts["payments"]
