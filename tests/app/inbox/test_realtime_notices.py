"""Every real-time event is also stored as a notification for its recipients (issue 15, item 1),
so a seller or customer who was offline sees it later: a sub-order's status change (its seller and
the customer), a published review (the product's seller), a chat message (the other side). Never
anyone else, and the event delivered again stores nothing more."""

from __future__ import annotations

from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.events.bus import consume
from app.events.models import OutboxEvent
from app.extensions import db
from tests.builders.chat import start
from tests.builders.fulfilment import review
from tests.builders.orders import CARD_OK, patch, place, shop, sub_of  # noqa: F401

API = "/api/v1/notifications"
FIXTURES = (shop,)


def _items(client, h) -> list[dict]:
    return client.get(f"{API}/", headers=h).get_json()["items"]


def _of_type(client, h, kind: str) -> list[dict]:
    return [i for i in _items(client, h) if i["type"] == kind]


def test_a_status_change_tells_its_seller_and_the_customer_once(app, client, shop):  # noqa: F811
    order = place(client, shop, payment=CARD_OK)
    number = order["number"]
    assert patch(client, shop.h_seller, order["id"], status="processing").status_code == 200
    sub = sub_of(order, shop.seller.id)
    seller_titles = [i["title"] for i in _of_type(client, shop.h_seller, "order.status_changed")]
    assert f"Order {number}: Processing" in seller_titles
    (mine,) = [
        i
        for i in _of_type(client, shop.h_seller, "order.status_changed")
        if i["title"].endswith("Processing")
    ]
    assert mine["link"] == f"/admin/sub-orders/show/{sub['id']}"
    customer_titles = [i["title"] for i in _of_type(client, shop.h, "order.status_changed")]
    assert f"Order {number}: Processing" in customer_titles
    # the other seller heard of its own sub-order's payment only, never of this step
    other = [i["title"] for i in _of_type(client, shop.h_seller2, "order.status_changed")]
    assert f"Order {number}: Processing" not in other
    assert _items(client, shop.h_other) == [] and _items(client, shop.h_foreign) == []
    with app.app_context(), tenant_scope(shop.tenant.id):
        moved = db.session.scalars(
            select(OutboxEvent.id)
            .where(OutboxEvent.name == "order.status_changed")
            .order_by(OutboxEvent.id.desc())
        ).first()
    with app.app_context():
        assert consume(moved, "inbox.order_status_changed") is False
    assert len(_of_type(client, shop.h, "order.status_changed")) == len(customer_titles)


def test_a_review_tells_the_products_seller(app, client, shop):  # noqa: F811
    review(app, shop.tenant.id, shop.customer, shop.product.id, 5, "Perfect")
    (item,) = _of_type(client, shop.h_seller, "review.created")
    assert item["title"] == f"New 5-star review of {shop.product.title}"
    assert item["body"] == "Perfect"
    assert _of_type(client, shop.h_seller2, "review.created") == []


def test_a_chat_message_tells_the_other_side(app, client, shop):  # noqa: F811
    conversation = start(client, shop.h, product_id=shop.product.id, body="Is it linen?")
    (item,) = _of_type(client, shop.h_seller, "chat.message")
    assert item["body"] == "Is it linen?"
    assert item["link"] == f"/admin/chat/show/{conversation['conversation']['id']}"
    assert _of_type(client, shop.h, "chat.message") == []  # not the sender
    assert _of_type(client, shop.h_seller2, "chat.message") == []
