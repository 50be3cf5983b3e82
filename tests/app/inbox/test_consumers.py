"""Domain events stored as notifications (app.inbox.consumers): a checkout tells each seller of
its sub-order and the customer that the order was placed; stock falling to its reorder point tells
the seller and the shop's admins. Nobody else (another seller's customer, another storefront) is
told, nothing is mailed by these notices (the transactional mails are their own consumers'), and
the event delivered again stores nothing more."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.events.bus import consume
from app.events.models import OutboxEvent
from app.extensions import db
from tests.builders.inbox import deliveries
from tests.builders.orders import place, shop  # noqa: F401  (fixture)

API = "/api/v1/notifications"


def _titles(client, h):
    return [i["title"] for i in client.get(f"{API}/", headers=h).get_json()["items"]]


def test_a_checkout_tells_each_seller_and_the_customer(app, client, shop):  # noqa: F811
    order = place(client, shop, items=[(shop.product.variant_id, 2), (shop.product2.variant_id, 3)])
    number = order["number"]
    (seller_item,) = client.get(f"{API}/", headers=shop.h_seller).get_json()["items"]
    sub = next(s for s in order["sub_orders"] if s["seller_id"] == shop.seller.id)
    assert seller_item["title"] == f"New order {number}"
    assert seller_item["link"] == f"/admin/sub-orders/show/{sub['id']}"
    assert seller_item["data"] == {"order_id": order["id"], "sub_order_id": sub["id"]}
    # the amount as the shop reads it (an English-speaking USD shop): "$59.98", not "59.98 USD"
    assert order["currency"] == "USD"
    assert seller_item["body"] == f"Your part comes to ${Decimal(sub['total']):,.2f}."
    # seller 2's stock fell from 5 to 2 (reorder point 3): its new order and a low-stock notice
    titles2 = _titles(client, shop.h_seller2)
    assert f"New order {number}" in titles2
    assert any(t.startswith("Low stock: ") for t in titles2)
    assert _titles(client, shop.h) == [f"Order {number} placed"]
    assert any(t.startswith("Low stock: ") for t in _titles(client, shop.h_admin))
    assert _titles(client, shop.h_other) == []
    assert _titles(client, shop.h_foreign) == []
    # in the app; never mailed by this notice
    with app.app_context(), tenant_scope(shop.tenant.id):
        event = db.session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.name == "order.created", OutboxEvent.aggregate_id == str(order["id"])
            )
        ).one()
        event_id = event.id
    got = deliveries(app, shop.tenant.id, seller_item["id"])
    assert got[(shop.seller.user.id, "in_app")][0] == "sent"
    assert got[(shop.seller.user.id, "email")][4] == "not a channel of this notification"
    # the event handed over again: nothing more stored
    with app.app_context():
        assert consume(event_id, "inbox.order_created") is False
    assert _titles(client, shop.h_seller).count(f"New order {number}") == 1
