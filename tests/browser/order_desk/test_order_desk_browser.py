"""Staff run an order from its admin page in headless Chromium, as a person does: open the order,
type why it is cancelled, confirm, and read the outcome on the page shown again; the database
says the same (the order and its sub-orders cancelled, their stock released, the payment refunded).
A cancel the person does not confirm changes nothing. Screenshots of the page, before and after,
go to SCREENSHOT_DIR when it is set."""

from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import select

from app.extensions import db
from app.inventory.models import StockLevel
from app.orders.models import Order
from app.payments.models import Payment
from tests.browser.chromium import admin_page
from tests.builders.admin import scope
from tests.builders.orders import CARD_OK, place

pytestmark = pytest.mark.browser


def _reserved(app, shop) -> int:
    with scope(app, shop.tenant.id):
        return sum(
            db.session.scalars(
                select(StockLevel.quantity_reserved).where(
                    StockLevel.variant_id.in_([shop.product.variant_id, shop.product2.variant_id])
                )
            )
        )


def _order(app, shop, order_id) -> tuple[str, list[str], str]:
    with scope(app, shop.tenant.id):
        order = db.session.get(Order, order_id)
        payment = db.session.scalar(select(Payment.status).where(Payment.order_id == order_id))
        return order.status, sorted(s.status for s in order.sub_orders), payment


def _keep(page, tmp_path, name: str) -> None:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)
    keep = os.environ.get("SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, keep)


def test_staff_cancel_an_order_in_the_browser(app, client, shop, live_server, tmp_path):
    order = place(client, shop, payment=CARD_OK)
    held = _reserved(app, shop)
    assert held >= 3  # 2 + 1 units held for the order
    with admin_page(live_server, shop.tenant.slug, shop.admin.username) as page:
        errors = []  # the page's own script and stylesheet load under the admin's CSP
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live_server}/admin/orders/show/{order['id']}")
        page.wait_for_load_state("load")
        assert "Paid" in page.inner_text("h2.od-title")
        _keep(page, tmp_path, "order-desk-before-cancel.png")

        # the person types a reason, then thinks better of it at the confirmation: nothing happens
        page.fill("#cancel-reason", "customer changed their mind")
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.click("form.od-cancel button[type=submit]")
        page.wait_for_timeout(300)
        assert _order(app, shop, order["id"])[0] == "paid"

        # this time it is confirmed: the page comes back saying so, the order reads Cancelled
        seen = []

        def accept(dialog):
            seen.append(dialog.message)
            dialog.accept()

        page.once("dialog", accept)
        with page.expect_navigation():
            page.click("form.od-cancel button[type=submit]")
        page.wait_for_load_state("load")
        _keep(page, tmp_path, "order-desk-after-cancel.png")
        assert seen and order["number"] in seen[0]
        flash = page.inner_text(".alert")
        title = page.inner_text("h2.od-title")
        timeline = page.inner_text(".od-timeline")
        assert page.locator("form.od-cancel").count() == 0  # nothing left to cancel
    assert errors == []
    assert "Order cancelled" in flash
    assert "Cancelled" in title
    assert "customer changed their mind" in timeline
    assert _order(app, shop, order["id"]) == ("cancelled", ["cancelled", "cancelled"], "refunded")
    assert _reserved(app, shop) == held - 3  # the stock it held is released
