"""The money pages as a seller and an admin see them in headless Chromium: the seller's payments,
transactions and refunds show its share (58.98 of the 335.69 order) and offer no sort on money;
the admin's show the whole. Set SCREENSHOT_DIR to keep the pictures."""

from __future__ import annotations

import pytest

from tests.browser.chromium import admin_page, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_money_pages_in_chromium(app, shop, money, live_server, tmp_path):  # noqa: F811
    with admin_page(live_server, shop.tenant.slug, money.s1.user.username) as page:
        page.goto(f"{live_server}/admin/payments/list/")
        row = page.locator(f"tr:has(a[href$='/admin/payments/show/{money.payment.id}'])")
        text = row.inner_text()
        assert "58.98" in text and "18.24" in text and "335.69" not in text
        headers = page.locator("table thead th")
        assert page.locator("th a[href*='_oc_PaymentView=amount']").count() == 0
        assert page.locator("th a[href*='_oc_PaymentView=created_at']").count() == 1
        assert any(
            "Amount (your share)" in h for h in headers.all_inner_texts()
        )  # said, not to be guessed
        shoot(page, tmp_path, "seller-payments")
        page.goto(f"{live_server}/admin/payments/show/{money.payment.id}")
        body = page.inner_text("body")
        assert "58.98" in body and "335.69" not in body
        shoot(page, tmp_path, "seller-payment-show")
        page.goto(f"{live_server}/admin/payment-transactions/list/")
        body = page.inner_text("body")
        assert "58.98" in body and "335.69" not in body and "21.37" not in body
        shoot(page, tmp_path, "seller-transactions")
        page.goto(f"{live_server}/admin/refunds/list/")
        body = page.inner_text("body")
        assert "12.34" in body and "5.90" in body and "21.37" not in body and "33.57" not in body
        shoot(page, tmp_path, "seller-refunds")

    with admin_page(live_server, shop.tenant.slug, shop.admin.username) as page:
        page.goto(f"{live_server}/admin/payments/list/")
        text = page.locator(
            f"tr:has(a[href$='/admin/payments/show/{money.payment.id}'])"
        ).inner_text()
        assert "335.69" in text and "67.28" in text
        assert not any("your share" in h for h in page.locator("table thead th").all_inner_texts())
        shoot(page, tmp_path, "admin-payments")
        page.goto(f"{live_server}/admin/audit-log/list/")
        assert "login" in page.inner_text("body")
        shoot(page, tmp_path, "admin-audit-log")
