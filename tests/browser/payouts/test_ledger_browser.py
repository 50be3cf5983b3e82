"""The seller ledger page as a Seller and an Admin see it in headless Chromium: the seller its own
entries and balances (delivered, refunded in part, with an adjustment), the admin every seller's
with the statement form and the adjustment page. Set SCREENSHOT_DIR to keep the pictures."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.payouts import ledger
from tests.browser.chromium import admin_page, shoot
from tests.builders.ledger import Line, Sub

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _shoot(page, tmp_path, name: str) -> None:
    shoot(page, tmp_path, f"ledger-{name}")


def test_ledger_pages_in_chromium(app, ledger_shop, live_server, tmp_path):
    shop = ledger_shop
    a, b = shop.sellers
    order_id = shop.order(
        Sub(
            a.id,
            (
                Line("90.00", commission="10.00", discounts=(("10.00", "platform"),)),
                Line("45.00", commission="4.50", quantity=3, discounts=(("5.00", "seller"),)),
            ),
            shipping="7.50",
        ),
        Sub(b.id, (Line("61.25", commission="6.13"),)),
    )
    shop.pay(order_id)
    sub_a, _ = shop.sub_ids(order_id)
    shop.step(sub_a, "processing", "shipped", "delivered")
    shop.refund(order_id, lines=[(shop.line_ids(sub_a)[1], 1)])

    def adjust():
        ledger.record_adjustment(
            shop.actor(shop.admin.id),
            ledger.Adjustment(a.id, "USD", ledger.Decimal("-2.00"), "label reprinted"),
        )
        db.session.commit()

    shop.run(adjust)

    with admin_page(live_server, shop.tenant.slug, a.user.username) as page:
        page.goto(f"{live_server}/admin/seller-ledger/list/")
        body = page.inner_text("body")
        assert "Your balances" in body
        assert "61.25" not in body and b.store_name not in body
        balances = page.locator("table.ledger-balances").inner_text()
        # delivered today, held 14 days: 138.00 - 13.50 refunded is pending; the -2.00
        # adjustment counts at once
        assert "$124.50" in balances and "-$2.00" in balances
        assert page.locator("a[href*='/admin/seller-ledger/adjust']").count() == 0
        _shoot(page, tmp_path, "seller")

    with admin_page(live_server, shop.tenant.slug, shop.admin.username) as page:
        page.goto(f"{live_server}/admin/seller-ledger/list/")
        body = page.inner_text("body")
        assert "61.25" in body and "label reprinted" in body
        assert page.locator("form.ledger-statement select[name=seller_id]").count() == 1
        _shoot(page, tmp_path, "admin")
        page.click("a[href*='/admin/seller-ledger/adjust']")
        page.wait_for_url(lambda url: "/adjust" in url)
        _shoot(page, tmp_path, "admin-adjust")
        page.goto(f"{live_server}/admin/payout-settings/list/")
        _shoot(page, tmp_path, "admin-payout-settings")
