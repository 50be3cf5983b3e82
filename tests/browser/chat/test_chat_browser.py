"""The conversations pages in headless Chromium: an Admin reads a conversation (read-only), a Seller
reads its own and replies through the page's form. Set SCREENSHOT_DIR to keep the pictures."""

from __future__ import annotations

import pytest

from tests.browser.chromium import admin_page, shoot
from tests.builders.chat import converse, messages_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LONG = (
    "Hello! I ordered the blue lamp last week.\n"
    "Does it take an E27 bulb, and is the cable long enough for a 3 m ceiling? "
    "<b>Thanks</b> in advance — a very-long-word-" + "x" * 80
)


def test_conversation_pages_in_chromium(app, chat_shop, live_server, tmp_path):
    s = chat_shop
    cid = converse(
        app, s.tenant.id, s.customer.user_id, s.product.id, LONG, "Also: is it dimmable?"
    )
    converse(app, s.tenant.id, s.other.user_id, s.product2.id, "Do you ship to Ireland?")

    with admin_page(live_server, s.tenant.slug, s.admin.username) as page:
        page.goto(f"{live_server}/admin/chat/list/")
        assert page.locator("text=Blue lamp").count() >= 1
        shoot(page, tmp_path, "chat-admin-list")
        page.goto(f"{live_server}/admin/chat/show/{cid}")
        assert page.locator(".chat-message").count() == 2
        assert page.locator("textarea[name=body]").count() == 0
        assert "<b>Thanks</b>" in page.inner_text(".chat-messages")  # shown as text
        shoot(page, tmp_path, "chat-admin-show")

    with admin_page(live_server, s.tenant.slug, s.seller.user.username) as page:
        page.goto(f"{live_server}/admin/chat/list/")
        assert page.locator("text=Do you ship").count() == 0
        shoot(page, tmp_path, "chat-seller-list")
        page.goto(f"{live_server}/admin/chat/show/{cid}")
        page.fill("textarea[name=body]", "Yes: E27, a 4 m cable, and it is dimmable.")
        page.click("button:has-text('Send reply')")
        page.wait_for_selector("text=Reply sent.")
        assert page.locator(".chat-message.chat-seller").count() == 1
        shoot(page, tmp_path, "chat-seller-show")
    assert messages_of(app, s.tenant.id, cid)[-1][0] == "seller"
