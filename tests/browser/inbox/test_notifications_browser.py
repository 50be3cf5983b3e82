"""The notification centre's pages in headless Chromium: an Admin sends to the approved sellers
through the form and reads the sent list, the delivery outcomes and the shop's defaults; a Seller
reads its own notifications (not another's), opens one, and sets its preferences. Set
SCREENSHOT_DIR to keep the pictures."""

from __future__ import annotations

import pytest

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.inbox import services
from app.inbox.inputs import Message
from app.security import roles
from tests.browser.chromium import admin_page, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_notification_pages_in_chromium(app, factory, live_server, tmp_path):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    with app.app_context(), tenant_scope(tenant.id):
        services.notify(
            [seller.user.id],
            Message(
                type="order.created",
                title="New order R-1042",
                body="2 items, $61.25. Ship by Thursday.",
                link="/admin/sub-orders/list/",
            ),
        )
        services.notify(
            [other.user.id], Message(type="announcement", title="Only for the other seller")
        )
        db.session.commit()

    with admin_page(live_server, tenant.slug, admin.username, width=1280) as page:
        page.goto(f"{live_server}/admin/notifications/send")
        page.select_option("select[name=audience]", "sellers:approved")
        page.fill("input[name=title]", "Holiday shipping cut-off")
        page.fill(
            "textarea[name=body]",
            "Orders placed after 20 December ship in January.\nPlease update your listings.",
        )
        page.fill("input[name=link]", "/admin/products/list/")
        shoot(page, tmp_path, "notif-admin-send")
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/admin/notifications/show/" in url)
        assert "Sent to 2 recipient(s)." in page.inner_text("body")
        page.goto(f"{live_server}/admin/notifications/list/")
        assert "Holiday shipping cut-off" in page.inner_text("body")
        shoot(page, tmp_path, "notif-admin-sent")
        page.goto(f"{live_server}/admin/notification-deliveries/list/")
        body = page.inner_text("body")
        assert "turned off in the user's preferences" in body or "Skipped" in body
        shoot(page, tmp_path, "notif-admin-deliveries")
        page.goto(f"{live_server}/admin/notification-defaults/")
        shoot(page, tmp_path, "notif-admin-defaults")
        # the navbar still fits one row at 1280 px with the new menu
        assert page.locator(".navbar").first.bounding_box()["height"] < 80

    with admin_page(live_server, tenant.slug, seller.user.username, width=1280) as page:
        page.goto(f"{live_server}/admin/my-notifications/")
        body = page.inner_text("body")
        assert "New order R-1042" in body and "Holiday shipping cut-off" in body
        assert "Only for the other seller" not in body
        assert "2 unread" in body
        shoot(page, tmp_path, "notif-seller-inbox")
        page.goto(f"{live_server}/admin/my-notifications/preferences")
        page.select_option("select[name='order.created|sms']", "on")
        with page.expect_navigation():  # the POST, its redirect and the page it lands on
            page.click("button[type=submit]")
        page.wait_for_selector("text=Your notification preferences are saved.")
        shoot(page, tmp_path, "notif-seller-preferences")
        page.goto(f"{live_server}/admin/notifications/list/")
        assert "Holiday shipping cut-off" not in page.inner_text("body")
