"""/api/v1/chat over HTTP against MariaDB: starting conversations about a product or an order,
isolation (another customer, another seller, another storefront, staff: 404 or 403, nothing
leaked), unread counts and read markers, keyset paging of messages, the rate limit per user, and
the `chat.message` outbox event (once per message, with the other side as recipients)."""

from __future__ import annotations

import pytest

from tests.builders.api import error
from tests.builders.chat import CHAT, chat_events, say, start

CONV = f"{CHAT}/conversations/"


def conv_url(cid: int, tail: str = "") -> str:
    return f"{CHAT}/conversations/{cid}/{tail}"


# --- starting ------------------------------------------------------------------------------------


def test_a_customer_asks_a_seller_about_a_product_and_the_seller_sees_it(client, chat_shop):
    s = chat_shop
    answer = client.post(
        CONV,
        headers=s.h,
        json={"subject_type": "product", "product_id": s.product.id, "body": "  Is it blue?  "},
    )
    assert answer.status_code == 201, answer.get_json()
    started = answer.get_json()
    conversation, message = started["conversation"], started["message"]
    assert conversation["seller_id"] == s.seller.id
    assert conversation["subject_title"] == "Blue lamp"
    assert conversation["my_side"] == "customer" and conversation["unread_count"] == 0
    assert message["body"] == "Is it blue?" and message["sender_side"] == "customer"

    listed = client.get(CONV, headers=s.h_seller).get_json()
    assert listed["total"] == 1
    seen = listed["items"][0]
    assert seen["id"] == conversation["id"] and seen["my_side"] == "seller"
    assert seen["unread_count"] == 1 and seen["last_message_preview"] == "Is it blue?"
    assert seen["customer_name"] == "Test C."


def test_one_open_conversation_per_subject_then_a_new_one_after_closing(client, chat_shop):
    s = chat_shop
    first = start(client, s.h, product_id=s.product.id)
    again = client.post(
        CONV, headers=s.h, json={"subject_type": "product", "product_id": s.product.id, "body": "?"}
    )
    assert again.status_code == 200
    assert again.get_json()["conversation"]["id"] == first["conversation"]["id"]
    messages = client.get(conv_url(first["conversation"]["id"], "messages/"), headers=s.h)
    assert [m["body"] for m in messages.get_json()["items"]] == ["?", "Hello, is it in stock?"]

    closed = client.post(conv_url(first["conversation"]["id"], "close/"), headers=s.h_seller)
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    error(say(client, s.h, first["conversation"]["id"], "still there?"), 409, "conversation_closed")
    fresh = client.post(
        CONV, headers=s.h, json={"subject_type": "product", "product_id": s.product.id, "body": "!"}
    )
    assert fresh.status_code == 201
    assert fresh.get_json()["conversation"]["id"] != first["conversation"]["id"]


def test_an_order_subject_must_be_the_customers_order_and_hold_the_sellers_sub_order(
    client, chat_shop
):
    s = chat_shop
    about = start(client, s.h, order_id=s.order_id, seller_id=s.seller2.id)
    assert about["conversation"]["seller_id"] == s.seller2.id
    assert about["conversation"]["subject_title"].startswith("Order ")
    # one seller: it may be left out
    solo = start(client, s.h, order_id=s.solo_order_id)
    assert solo["conversation"]["seller_id"] == s.seller.id

    def ask(h, **subject):
        return client.post(CONV, headers=h, json={"subject_type": "order", "body": "hi", **subject})

    # several sellers: name one
    error(ask(s.h, order_id=s.order_id), 422, "validation_error")
    # a seller with no part in the order
    no_part = s.seller2.id
    assert (
        "seller_id" in error(ask(s.h, order_id=s.solo_order_id, seller_id=no_part), 422)["details"]
    )
    # another customer's order, another storefront's order, no such order: all 404 alike
    for order_id in (s.other_order_id, s.foreign_order_id, 2**31 - 1):
        error(ask(s.h, order_id=order_id), 404, "not_found")


def test_a_product_subject_must_be_on_the_storefront(client, chat_shop):
    s = chat_shop

    def ask(**subject):
        return client.post(
            CONV, headers=s.h, json={"subject_type": "product", "body": "hi", **subject}
        )

    error(ask(product_id=s.draft.id), 404, "not_found")
    error(ask(product_id=s.foreign_product.id), 404, "not_found")
    error(ask(product_id=s.product.id, seller_id=s.seller2.id), 422, "validation_error")
    error(ask(), 422, "validation_error")  # no product named


@pytest.mark.parametrize(
    "body, field",
    [
        ({"subject_type": "product", "body": "hi"}, None),
        ({"subject_type": "nope", "product_id": 1, "body": "hi"}, "subject_type"),
        ({"subject_type": "product", "product_id": 1}, "body"),
        ({"subject_type": "product", "product_id": 1, "body": ""}, "body"),
        ({"subject_type": "product", "product_id": 1, "body": "x" * 2001}, "body"),
        ({"subject_type": "product", "product_id": 1, "body": "hi", "extra": 1}, "extra"),
        ({"subject_type": "product", "product_id": "1", "body": "hi"}, "product_id"),
    ],
)
def test_bad_starts_are_422_and_change_nothing(client, chat_shop, body, field):
    s = chat_shop
    if body.get("product_id") == 1:
        body = {**body, "product_id": s.product.id}
    answer = error(client.post(CONV, headers=s.h, json=body), 422, "validation_error")
    if field:
        assert field in str(answer["details"])
    assert client.get(CONV, headers=s.h).get_json()["total"] == 0


def test_a_blank_message_is_refused_after_stripping(client, chat_shop):
    s = chat_shop
    cid = start(client, s.h, product_id=s.product.id)["conversation"]["id"]
    details = error(say(client, s.h, cid, " \n\t "), 422, "validation_error")["details"]
    assert "body" in details
    assert len(client.get(conv_url(cid, "messages/"), headers=s.h).get_json()["items"]) == 1


def test_html_is_kept_as_plain_text(client, chat_shop):
    s = chat_shop
    cid = start(client, s.h, product_id=s.product.id, body="<script>alert(1)</script>")[
        "conversation"
    ]["id"]
    item = client.get(conv_url(cid, "messages/"), headers=s.h_seller).get_json()["items"][0]
    assert item["body"] == "<script>alert(1)</script>"  # stored as sent; clients render text


# --- who may do what -----------------------------------------------------------------------------


def test_roles_and_tokens(client, chat_shop):
    s = chat_shop
    cid = start(client, s.h, product_id=s.product.id)["conversation"]["id"]
    error(client.get(CONV, headers=s.h_guest), 401, "unauthorized")
    error(say(client, s.h_guest, cid, "hi"), 401, "unauthorized")
    # staff read conversations in the admin, not through the participants' API
    error(client.get(CONV, headers=s.h_admin), 403, "forbidden")
    error(client.get(conv_url(cid), headers=s.h_admin), 403, "forbidden")
    # only customers start conversations
    answer = client.post(
        CONV,
        headers=s.h_seller,
        json={"subject_type": "product", "product_id": s.product.id, "body": "hi"},
    )
    error(answer, 403, "forbidden")


@pytest.mark.parametrize("intruder", ["h_other", "h_seller2", "h_foreign", "h_foreign_seller"])
def test_outsiders_can_neither_read_list_nor_post_nor_mark_read(client, chat_shop, intruder):
    s = chat_shop
    started = start(client, s.h, product_id=s.product.id, body="private question")
    cid = started["conversation"]["id"]
    h = getattr(s, intruder)
    if intruder.startswith("h_foreign"):
        # the same token at the conversation's storefront is refused; at its own it finds nothing
        error(client.get(conv_url(cid), headers={**h, "X-Tenant": s.tenant.slug}), 401)
    for answer in (
        client.get(conv_url(cid), headers=h),
        client.get(conv_url(cid, "messages/"), headers=h),
        say(client, h, cid, "let me in"),
        client.post(conv_url(cid, "read/"), headers=h),
        client.post(conv_url(cid, "close/"), headers=h),
    ):
        body = error(answer, 404, "not_found")
        assert "private question" not in str(body)
    assert client.get(CONV, headers=h).get_json()["total"] == 0
    assert client.get(f"{CHAT}/unread/", headers=h).get_json()["unread_count"] == 0
    # nothing changed: one message, still open
    items = client.get(conv_url(cid, "messages/"), headers=s.h).get_json()["items"]
    assert [m["body"] for m in items] == ["private question"]
    assert client.get(conv_url(cid), headers=s.h).get_json()["status"] == "open"


def test_a_conversation_id_of_another_tenant_is_not_found_at_this_one(client, chat_shop):
    s = chat_shop
    foreign = start(client, s.h_foreign, product_id=s.foreign_product.id)
    cid = foreign["conversation"]["id"]
    # the shop's own customer and seller, at their own storefront
    error(client.get(conv_url(cid), headers=s.h), 404, "not_found")
    error(say(client, s.h_seller, cid, "hi"), 404, "not_found")


# --- unread counts and read markers --------------------------------------------------------------


def test_unread_counts_follow_the_other_sides_messages_and_the_read_marker(client, chat_shop):
    s = chat_shop
    cid = start(client, s.h, product_id=s.product.id, body="one")["conversation"]["id"]
    say(client, s.h, cid, "two")
    assert client.get(conv_url(cid), headers=s.h).get_json()["unread_count"] == 0  # own messages
    assert client.get(conv_url(cid), headers=s.h_seller).get_json()["unread_count"] == 2
    unread = client.get(f"{CHAT}/unread/", headers=s.h_seller).get_json()
    assert unread == {"unread_count": 2, "conversations_with_unread": 1}

    first_id = client.get(conv_url(cid, "messages/"), headers=s.h_seller).get_json()["items"][-1][
        "id"
    ]
    state = client.post(conv_url(cid, "read/"), headers=s.h_seller, json={"message_id": first_id})
    assert state.status_code == 200
    assert state.get_json() == {
        "conversation_id": cid,
        "last_read_message_id": first_id,
        "unread_count": 1,
    }
    # the marker never moves back
    back = client.post(conv_url(cid, "read/"), headers=s.h_seller, json={"message_id": 1})
    assert back.get_json()["last_read_message_id"] == first_id
    assert client.post(conv_url(cid, "read/"), headers=s.h_seller).get_json()["unread_count"] == 0

    # replying: the seller's reply is unread for the customer, and read for the seller
    assert say(client, s.h_seller, cid, "yes, in stock").status_code == 201
    assert client.get(conv_url(cid), headers=s.h).get_json()["unread_count"] == 1
    assert client.get(conv_url(cid), headers=s.h_seller).get_json()["unread_count"] == 0
    error(client.post(conv_url(cid, "read/"), headers=s.h, json={"message_id": 0}), 422)


def test_the_list_is_mine_most_recent_first_and_filters_by_status(client, chat_shop):
    s = chat_shop
    a = start(client, s.h, product_id=s.product.id)["conversation"]["id"]
    b = start(client, s.h, product_id=s.product2.id)["conversation"]["id"]
    start(client, s.h_other, product_id=s.product.id)
    assert [c["id"] for c in client.get(CONV, headers=s.h).get_json()["items"]] == [b, a]
    say(client, s.h, a, "bump")
    listed = client.get(CONV, headers=s.h).get_json()
    assert [c["id"] for c in listed["items"]] == [a, b] and listed["total"] == 2
    client.post(conv_url(b, "close/"), headers=s.h)
    open_only = client.get(CONV, headers=s.h, query_string={"status": "open"}).get_json()
    assert [c["id"] for c in open_only["items"]] == [a]
    # the seller of product 1 sees both customers' conversations, not seller 2's
    assert client.get(CONV, headers=s.h_seller).get_json()["total"] == 2
    assert client.get(CONV, headers=s.h_seller2).get_json()["total"] == 1
    error(client.get(CONV, headers=s.h, query_string={"status": "x"}), 422)
    error(client.get(CONV, headers=s.h, query_string={"sort": "x"}), 422)


# --- paging --------------------------------------------------------------------------------------


def test_messages_page_newest_first_by_keyset(client, chat_shop):
    s = chat_shop
    cid = start(client, s.h, product_id=s.product.id, body="m0")["conversation"]["id"]
    for n in range(1, 7):
        h = s.h_seller if n % 2 else s.h
        assert say(client, h, cid, f"m{n}").status_code == 201
    seen, before = [], None
    while True:
        query = {"limit": 3, **({"before": before} if before else {})}
        page = client.get(conv_url(cid, "messages/"), headers=s.h, query_string=query).get_json()
        seen.extend(m["body"] for m in page["items"])
        before = page["next_before"]
        if before is None:
            break
    assert seen == [f"m{n}" for n in range(6, -1, -1)]
    # a message posted while paging does not shift the older pages
    first = client.get(conv_url(cid, "messages/"), headers=s.h, query_string={"limit": 2})
    say(client, s.h, cid, "late")
    older = client.get(
        conv_url(cid, "messages/"),
        headers=s.h,
        query_string={"limit": 2, "before": first.get_json()["next_before"]},
    )
    assert [m["body"] for m in older.get_json()["items"]] == ["m4", "m3"]
    for bad in ({"limit": 0}, {"limit": 101}, {"before": "x"}, {"page": 2}):
        error(client.get(conv_url(cid, "messages/"), headers=s.h, query_string=bad), 422)


# --- the live event ------------------------------------------------------------------------------


def test_each_message_publishes_one_chat_message_event_for_the_other_side(app, client, chat_shop):
    s = chat_shop
    cid = start(client, s.h, product_id=s.product.id, body="question")["conversation"]["id"]
    say(client, s.h_seller, cid, "answer " + "x" * 300)
    error(say(client, s.h_other, cid, "intruder"), 404)  # refused: no event
    error(say(client, s.h, cid, ""), 422)
    events = chat_events(app, s.tenant.id, cid)
    assert len(events) == 2
    asked, answered = events
    assert asked["conversation_id"] == cid and asked["sender_user_id"] == s.customer.user_id
    assert asked["recipient_user_ids"] == [s.seller.user.id] and asked["body"] == "question"
    assert answered["sender_user_id"] == s.seller.user.id
    assert answered["recipient_user_ids"] == [s.customer.user_id]
    assert len(answered["body"]) == 200 and answered["body"].startswith("answer x")
    messages = client.get(conv_url(cid, "messages/"), headers=s.h).get_json()["items"]
    assert {e["message_id"] for e in events} == {m["id"] for m in messages}


# --- rate limit ----------------------------------------------------------------------------------


def test_posting_is_rate_limited_per_user(app, client, chat_shop, monkeypatch):
    s = chat_shop
    other = start(client, s.h_other, product_id=s.product.id)["conversation"]["id"]
    monkeypatch.setitem(app.config, "CHAT_MESSAGE_RATE_LIMIT", "3 per minute")
    # starting a conversation and posting share the user's one bucket
    cid = start(client, s.h, product_id=s.product.id, body="n0")["conversation"]["id"]
    answers = [say(client, s.h, cid, f"n{n}") for n in range(1, 4)]
    assert [a.status_code for a in answers[:2]] == [201, 201]
    error(answers[2], 429, "rate_limited")
    refused = client.post(
        CONV,
        headers=s.h,
        json={"subject_type": "product", "product_id": s.product2.id, "body": "x"},
    )
    error(refused, 429, "rate_limited")
    # another user from the same address still writes; the refused messages were not stored
    assert say(client, s.h_other, other, "mine").status_code == 201
    items = client.get(conv_url(cid, "messages/"), headers=s.h).get_json()["items"]
    assert [m["body"] for m in items] == ["n2", "n1", "n0"]
    assert len(chat_events(app, s.tenant.id, cid)) == 3
    assert client.get(CONV, headers=s.h).get_json()["total"] == 1


def test_a_message_is_not_an_audit_row_of_its_conversation(app, client, chat_shop):
    from sqlalchemy import select

    from app.core.tenancy import tenant_scope
    from app.extensions import db
    from app.security.models import AuditLog

    s = chat_shop
    cid = start(client, s.h, product_id=s.product.id)["conversation"]["id"]
    for n in range(3):
        say(client, s.h_seller, cid, f"r{n}")
    with app.app_context(), tenant_scope(s.tenant.id):
        rows = db.session.scalars(
            select(AuditLog).where(
                AuditLog.entity == "Conversation", AuditLog.entity_id == str(cid)
            )
        ).all()
        assert [r.action for r in rows] == ["create"]
