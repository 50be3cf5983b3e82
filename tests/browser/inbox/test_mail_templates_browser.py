"""The "Mail templates" pages in headless Chromium: an Admin lists the shop's mails, saves a
wording that does not render (refused, the line and message under the field, what was typed kept),
fixes it, and sees the preview: the HTML in its sandboxed iframe in the shop's colour, the text
beside it, and no Content-Security-Policy violation. A Seller has no menu entry and is refused the
page. Set SCREENSHOT_DIR to keep the pictures."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.core.tenancy import unscoped
from app.extensions import db
from app.security import roles
from app.tenants.models import Tenant
from tests.browser.chromium import admin_page, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_mail_template_pages_in_chromium(app, factory, live_server, tmp_path):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    seller = factory.seller(tenant)
    with app.app_context(), unscoped():
        db.session.execute(
            update(Tenant)
            .where(Tenant.id == tenant.id)
            .values(name="Acme Outfitters", primary_color="#aa3300", default_currency="EUR")
        )
        db.session.commit()

    with admin_page(live_server, tenant.slug, admin.username, width=1280) as page:
        problems: list[str] = []
        page.on(
            "console",
            lambda m: (
                problems.append(m.text)
                if m.type == "error" or "Content Security Policy" in m.text
                else None
            ),
        )
        page.goto(f"{live_server}/admin/mail-templates/")
        assert "Order confirmation" in page.inner_text("body")
        shoot(page, tmp_path, "mail-templates-list")
        with page.expect_navigation():
            page.click("tr:has-text('Order confirmation') >> text=Edit")
        page.fill("input[name=subject]", "Thanks for {{ order_numbr }}")
        with page.expect_navigation():
            page.click("button[type=submit]:has-text('Save')")
        body = page.inner_text("body")
        assert "Not saved" in body and "line 1: 'order_numbr' is undefined" in body
        assert page.input_value("input[name=subject]") == "Thanks for {{ order_numbr }}"
        shoot(page, tmp_path, "mail-templates-refused")
        page.fill("input[name=subject]", "Thanks for {{ order_number }}, {{ recipient_name }}")
        page.click("button[type=submit]:has-text('Save')")
        page.wait_for_url(lambda url: "/preview/order_confirmation" in url)
        assert "Thanks for 260314-5F3A9C21D0, Ada" in page.inner_text("body")
        frame = page.frame_locator("iframe.mail-html")
        assert "€75.99" in frame.locator("body").inner_text()
        assert "Acme Outfitters" in frame.locator("body").inner_text()
        shoot(page, tmp_path, "mail-templates-preview")
        assert problems == []

    with admin_page(live_server, tenant.slug, seller.user.username, width=1280) as page:
        assert "Mail templates" not in page.locator(".navbar").inner_html()  # no menu entry
        answer = page.goto(f"{live_server}/admin/mail-templates/preview/order_confirmation")
        assert answer.status == 403
        assert "Thanks for" not in page.inner_text("body")
        shoot(page, tmp_path, "mail-templates-seller-refused")
