"""The navbar's search box in headless Chromium: staff type an order number into it, press Enter
and land on that order's page; a seller typing the same number lands on its own sub-order. The box
sits in the navbar's one row at 1280 px."""

from __future__ import annotations

import pytest

from tests.browser.chromium import admin_page
from tests.builders.orders import CARD_OK, place, sub_of

pytestmark = pytest.mark.browser


def test_the_navbar_search_finds_an_order_by_number(app, client, shop, live_server, tmp_path):
    order = place(client, shop, payment=CARD_OK)
    with admin_page(live_server, shop.tenant.slug, shop.admin.username, width=1280) as page:
        box = page.locator("form.market-navbar-find input[name=q]")
        brand_top = page.locator(".navbar-brand").bounding_box()["y"]
        page.screenshot(path=str(tmp_path / "navbar-find.png"))
        assert abs(box.bounding_box()["y"] - brand_top) < 30, "the box sits in the navbar's row"
        box.fill(order["number"])
        box.press("Enter")
        page.wait_for_url(f"**/admin/orders/show/{order['id']}")
        assert order["number"] in page.locator("h1, h2").first.inner_text()

    own_sub = sub_of(order, shop.seller.id)
    with admin_page(live_server, shop.tenant.slug, shop.seller.user.username) as page:
        box = page.locator("form.market-navbar-find input[name=q]")
        box.fill(order["number"])
        box.press("Enter")
        # its one sub-order of that order is the one answer: it opens
        page.wait_for_url(f"**/admin/sub-orders/show/{own_sub['id']}")
