"""The payouts pages as a Seller and an Admin see them in headless Chromium: the seller its own
payouts and payout notices, no action; the admin every seller's payouts, "Run payout job now",
and a payout's page whose Approve and Mark paid forms work as a person clicks them. Set
SCREENSHOT_DIR to keep the pictures."""

from __future__ import annotations

import pytest

from tests.browser.chromium import admin_page, shoot
from tests.builders.payouts import payout_shop  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FIXTURES = (payout_shop,)


def test_payout_pages_in_chromium(payout_shop, live_server, tmp_path):
    shop = payout_shop
    a, b = shop.sellers
    shop.account(a)
    shop.account(b)
    for amount in ("42.50", "12.25", "-3.75"):
        shop.adjust(a, amount)
    shop.adjust(b, "77.70")
    shop.adjust(a, "3.10", "EUR")
    shop.job()
    ids = {p[1]: p[0] for p in shop.payouts()}
    slug = shop.shop.tenant.slug

    with admin_page(live_server, slug, a.user.username) as page:
        page.goto(f"{live_server}/admin/payouts/list/")
        body = page.inner_text("body")
        assert "51.00" in body and "77.70" not in body and b.store_name not in body
        assert "Run payout job now" not in body
        shoot(page, tmp_path, "payouts-seller-list")
        page.goto(f"{live_server}/admin/payouts/show/{ids[a.id]}")
        body = page.inner_text("body")
        assert "Ledger entries paid" in body and "Approve" not in body
        shoot(page, tmp_path, "payouts-seller-show")
        page.goto(f"{live_server}/admin/payout-notices/list/")
        assert "No bank account" in page.inner_text("body")
        shoot(page, tmp_path, "payouts-seller-notices")

    with admin_page(live_server, slug, shop.admin.username) as page:
        page.goto(f"{live_server}/admin/payouts/list/")
        body = page.inner_text("body")
        assert "51.00" in body and "77.70" in body and "Run payout job now" in body
        shoot(page, tmp_path, "payouts-admin-list")
        page.goto(f"{live_server}/admin/payouts/show/{ids[a.id]}")
        with page.expect_navigation():  # the POST, its redirect and the page it lands on
            page.click("form.payout-approve button")
        assert "is now approved" in page.inner_text("body")
        shoot(page, tmp_path, "payouts-admin-approved")
        page.fill("form.payout-mark-paid input[name=reference]", "BANK-2026-0042")
        with page.expect_navigation():  # the POST, its redirect and the page it lands on
            page.click("form.payout-mark-paid button")
        body = page.inner_text("body")
        assert "is now paid" in body and "BANK-2026-0042" in body
        shoot(page, tmp_path, "payouts-admin-paid")
