"""Analytics > Models in headless Chromium as an Admin: the empty page, "Train now", the versions
with their figures against the baseline, a roll back (confirmed); a Seller has no link to it (its
Analytics menu holds its own sales and stock pages) and is refused the page. Set SCREENSHOT_DIR to
keep the pictures."""

from __future__ import annotations

import pytest

from tests.admin.test_models_admin import _small_shop
from tests.browser.chromium import admin_page, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_models_page_in_chromium(app, live_server, tmp_path):
    _, tenant, seller, admin = _small_shop(app)
    with admin_page(live_server, tenant.slug, admin.username) as page:
        page.goto(f"{live_server}/admin/models/")
        assert page.is_visible("#models-empty")
        assert page.is_visible("text=Analytics")  # the navbar menu
        shoot(page, tmp_path, "models-empty")
        page.click("#train-now")
        page.wait_for_selector("#models-table")
        assert "Training started" in page.inner_text("body")
        page.click("#train-now")
        page.wait_for_selector("button.rollback")
        body = page.inner_text("body")
        assert "Customer segments" in body and "silhouette" in body and "baseline" in body
        assert "not enough data" in body
        shoot(page, tmp_path, "models-trained")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button.rollback[data-kind='segments']")
        page.wait_for_selector("text=is served again")
        shoot(page, tmp_path, "models-rolled-back")
    with admin_page(live_server, tenant.slug, seller.user.username) as page:
        response = page.goto(f"{live_server}/admin/models/")
        shoot(page, tmp_path, "models-seller-refused")
        assert response.status == 403 and "You may not open this page" in page.inner_text("body")
        assert not page.is_visible("#train-now") and not page.is_visible("#models-table")
        # its Analytics menu holds its own sales and stock pages, never the models
        assert page.query_selector("a[href*='/admin/models']") is None
