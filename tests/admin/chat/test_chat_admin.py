"""/admin/chat: staff read every conversation of their tenant, read-only; a Seller sees only its
own conversations and replies from the conversation's page (a POST with the CSRF token), which is
published like an API reply. Bodies are escaped."""

from __future__ import annotations

import pytest

from tests.builders.admin import login
from tests.builders.chat import chat_events, converse, messages_of


@pytest.fixture
def chats(app, chat_shop):
    s = chat_shop
    s.mine = converse(app, s.tenant.id, s.customer.user_id, s.product.id, "Is the lamp blue?")
    s.theirs = converse(app, s.tenant.id, s.other.user_id, s.product2.id, "Neighbour question")
    s.foreign = converse(
        app, s.foreign_tenant.id, s.foreign_customer.user_id, s.foreign_product.id, "Elsewhere"
    )
    return s


def test_staff_list_and_read_every_conversation_of_the_tenant_read_only(app, chats):
    s = chats
    client, _ = login(app, s.tenant.slug, s.admin.username)
    page = client.get("/admin/chat/list/").get_data(as_text=True)
    assert "Blue lamp" in page and s.seller2.store_name in page
    assert "Elsewhere" not in page
    shown = client.get(f"/admin/chat/show/{s.mine}")
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert "Is the lamp blue?" in html and "read-only" in html
    assert 'name="body"' not in html  # no reply form for staff
    # another tenant's conversation is not found here
    assert client.get(f"/admin/chat/show/{s.foreign}").status_code == 404
    # staff cannot write into it, even by posting directly
    client.post(f"/admin/chat/reply/{s.mine}", data={"body": "staff here"})
    assert messages_of(app, s.tenant.id, s.mine) == [("customer", "Is the lamp blue?")]


def test_the_list_filters_by_seller(app, chats):
    s = chats
    client, _ = login(app, s.tenant.slug, s.admin.username)
    page = client.get(
        "/admin/chat/list/",
        query_string={"_flt_0_status": "open", "_flt_0_subject_type": "product"},
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Blue lamp" in html


def test_a_seller_sees_only_its_own_conversations(app, chats):
    s = chats
    client, _ = login(app, s.tenant.slug, s.seller.user.username)
    page = client.get("/admin/chat/list/").get_data(as_text=True)
    assert "Blue lamp" in page and "Neighbour question" not in page
    assert "Is the lamp blue?" in page  # the newest message
    assert '<span class="badge">1</span>' in page  # unread by the seller
    assert s.product2.title not in page
    assert client.get(f"/admin/chat/show/{s.theirs}").status_code == 404
    assert client.get(f"/admin/chat/show/{s.foreign}").status_code == 404
    client.post(f"/admin/chat/reply/{s.theirs}", data={"body": "not mine"})
    assert messages_of(app, s.tenant.id, s.theirs) == [("customer", "Neighbour question")]


def test_a_seller_replies_from_the_admin_and_the_reply_is_published(app, chats):
    s = chats
    client, _ = login(app, s.tenant.slug, s.seller.user.username)
    html = client.get(f"/admin/chat/show/{s.mine}").get_data(as_text=True)
    assert 'name="body"' in html and "1 unread" in html
    answer = client.post(f"/admin/chat/reply/{s.mine}", data={"body": "  Yes, <b>blue</b>!  "})
    assert answer.status_code == 302
    assert messages_of(app, s.tenant.id, s.mine)[-1] == ("seller", "Yes, <b>blue</b>!")
    events = chat_events(app, s.tenant.id, s.mine)
    assert events[-1]["recipient_user_ids"] == [s.customer.user_id]
    assert events[-1]["sender_user_id"] == s.seller.user.id
    page = client.get(f"/admin/chat/show/{s.mine}").get_data(as_text=True)
    assert "Yes, &lt;b&gt;blue&lt;/b&gt;!" in page and "<b>blue</b>" not in page
    assert "unread" not in page.split("</h2>")[0]  # replying read the conversation
    # a blank reply is refused with a message, nothing stored
    client.post(f"/admin/chat/reply/{s.mine}", data={"body": "   "})
    assert len(messages_of(app, s.tenant.id, s.mine)) == 2


def test_a_reply_without_the_csrf_token_is_refused(app, chats):
    s = chats
    client, _ = login(app, s.tenant.slug, s.seller.user.username)
    answer = client.post(f"/admin/chat/reply/{s.mine}", data={"body": "forged"}, csrf=False)
    assert answer.status_code == 400
    assert len(messages_of(app, s.tenant.id, s.mine)) == 1


def test_a_seller_marks_a_conversation_read(app, client, chats):
    s = chats
    seller, _ = login(app, s.tenant.slug, s.seller.user.username)
    assert "1 unread" in seller.get(f"/admin/chat/show/{s.mine}").get_data(as_text=True)
    assert seller.post(f"/admin/chat/mark-read/{s.mine}").status_code == 302
    html = seller.get(f"/admin/chat/show/{s.mine}").get_data(as_text=True)
    assert "unread" not in html.split("</h2>")[0]
    assert 'action="/admin/chat/mark-read' not in html
