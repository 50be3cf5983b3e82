"""A seller fulfils a sub-order in headless Chromium, as a person does: it opens the sub-order's
page, ships it with a label (the flash says so, the shipment shows its tracking number, the label
link answers a PDF) and approves a customer's return with the units put back in stock (the stock
on hand goes up, the request is approved). Set SCREENSHOT_DIR to keep the pictures."""

from __future__ import annotations

import pytest

from tests.browser.chromium import admin_page, shoot
from tests.builders.fulfilment import (
    SUB_ORDERS,
    processing_order,
    refund_request,
    returned_order,
    sub_order_state,
)
from tests.builders.orders import stock_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_seller_ships_a_sub_order_with_a_label(app, client, shop, live_server, tmp_path):
    order, sub = processing_order(client, shop)
    with admin_page(live_server, shop.tenant.slug, shop.seller.user.username) as page:
        page.goto(f"{live_server}{SUB_ORDERS}/list/")
        shoot(page, tmp_path, "seller-sub-orders-list")
        page.click(f"a[href$='{SUB_ORDERS}/show/{sub['id']}']")
        page.wait_for_url(f"**{SUB_ORDERS}/show/{sub['id']}")
        assert "Not shipped yet." in page.inner_text(".fulfilment")
        shoot(page, tmp_path, "seller-sub-order-processing")
        page.fill("#weight_kg", "1.2")
        page.click("button.ship-button")
        page.wait_for_load_state("load")
        flash = page.inner_text(".alert-success")
        tracking = page.inner_text(".fulfilment-shipments .tracking-number").strip()
        assert f"Sub-order {sub['number']} shipped" in flash and tracking in flash
        assert sub_order_state(app, shop.tenant.id, sub["id"])["status"] == "shipped"
        assert "Shipped" in page.inner_text(".fulfilment-title")  # its state badge, in words
        shoot(page, tmp_path, "seller-sub-order-shipped")
        href = page.get_attribute("a.label-pdf", "href")
        label = page.request.get(f"{live_server}{href}")
        assert label.status == 200 and label.headers["content-type"] == "application/pdf"
        assert label.body().startswith(b"%PDF")


def test_a_seller_approves_a_return_with_restock(app, client, shop, live_server, tmp_path):
    data = returned_order(client, shop)
    sub, request_id = data["sub"], data["request_id"]
    on_hand = stock_of(app, shop.tenant.id, shop.product.stock_level_id)[0]
    with admin_page(live_server, shop.tenant.slug, shop.seller.user.username) as page:
        page.goto(f"{live_server}{SUB_ORDERS}/show/{sub['id']}")
        decision = page.locator(f"#refund-{request_id}")
        assert "one lamp arrived cracked" in page.inner_text(".fulfilment-refunds")
        restock = decision.locator("input[name=restock]")
        assert restock.is_checked()  # ticked by default: a return comes back to the shelf
        shoot(page, tmp_path, "seller-sub-order-refund-request")
        decision.locator("form.approve-refund button[type=submit]").click()
        page.wait_for_load_state("load")
        assert "Refund request approved" in page.inner_text(".alert-success")
        assert page.locator(f"#refund-{request_id}").count() == 0  # decided: no more buttons
        assert "1 restocked" in page.inner_text(".fulfilment-refunds")
        shoot(page, tmp_path, "seller-sub-order-refund-approved")
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id)[0] == on_hand + 1
    assert refund_request(app, shop.tenant.id, request_id)["status"] in ("approved", "completed")
