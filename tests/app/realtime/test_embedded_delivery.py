"""The embedded default (`make run`: jobs in-process, no Redis message queue): the consumers of
app/realtime emit straight through the app's own Socket.IO server after commit, to the rooms the
connect handler put each client in. Clients here are Flask-SocketIO's test client on the session
app (the same handlers and server as `flask serve`); tests/storefront_api/realtime drives the
production path (separate processes, Redis message queue).

Who hears what: a seller only its own sub-order and its own products' stock, the customer its
order, the tenant's staff every order of the tenant, a recipient list only within the event's
tenant; a redelivered event is not emitted twice; a rolled-back consumer emits nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.db import transaction
from app.core.tenancy import tenant_scope, unscoped
from app.events import bus
from app.events.bus import publish
from app.events.models import OutboxEvent
from app.extensions import db, socketio
from app.inventory import services as inventory
from app.realtime.emitter import emit_after_commit
from tests.builders.auth import token
from tests.builders.orders import CARD_OK, patch, place, sub_of


@pytest.fixture(autouse=True)
def _served_by_the_session_app(app):
    """Flask-SocketIO's test client talks to the server the `socketio` singleton points at, which
    is the latest app's; the session app's own server is the one its emits and handlers use."""
    latest = socketio.server
    socketio.server = app.extensions["socketio_server"]
    yield
    socketio.server = latest


def _sock(app, user):
    client = socketio.test_client(app, auth={"token": token(app, user)})
    assert client.is_connected(), "refused"
    return client


def _heard(client, name: str | None = None) -> list[dict]:
    return [
        {"name": m["name"], **m["args"][0]}
        for m in client.get_received()
        if name is None or m["name"] == name
    ]


@pytest.fixture
def ears(app, shop):
    made = {
        "seller": _sock(app, shop.seller.user),
        "seller2": _sock(app, shop.seller2.user),
        "customer": _sock(app, shop.customer.user),
        "other": _sock(app, shop.other.user),
        "admin": _sock(app, shop.admin),
        "foreign_seller": _sock(app, shop.foreign_seller.user),
    }
    yield made
    for client in made.values():
        if client.is_connected():
            client.disconnect()


def test_order_created_reaches_each_seller_its_sub_order_the_customer_and_staff(
    app, client, shop, ears
):
    order = place(client, shop)
    mine = [e for e in _heard(ears["seller"]) if e["name"] == "order.created"]
    assert len(mine) == 1
    sub = sub_of(order, shop.seller.id)
    assert mine[0]["sub_order_id"] == sub["id"] and mine[0]["total"] == sub["total"]
    assert mine[0]["order_id"] == order["id"] and mine[0]["number"] == order["number"]
    (theirs,) = _heard(ears["seller2"], "order.created")
    assert theirs["sub_order_id"] == sub_of(order, shop.seller2.id)["id"]
    (customer,) = _heard(ears["customer"], "order.created")
    assert customer["total"] == order["total"] and "sub_order_id" not in customer
    (staff,) = _heard(ears["admin"], "order.created")
    assert staff["total"] == order["total"] and staff["sub_orders"] == 2
    assert _heard(ears["other"]) == []
    assert _heard(ears["foreign_seller"]) == []


def test_status_changes_reach_the_seller_and_the_customer_only(app, client, shop, ears):
    order = place(client, shop, payment=CARD_OK)
    for name in ears:
        _heard(ears[name])  # forget the order's creation and payment
    response = patch(client, shop.h_seller, order["id"], status="processing")
    assert response.status_code == 200, response.get_json()
    (seller,) = _heard(ears["seller"], "order.status_changed")
    assert seller["sub_order_id"] == sub_of(order, shop.seller.id)["id"]
    assert (seller["from_status"], seller["to_status"]) == ("paid", "processing")
    (customer,) = _heard(ears["customer"], "order.status_changed")
    assert customer["event_id"] == seller["event_id"]
    for name in ("seller2", "other", "admin", "foreign_seller"):
        assert _heard(ears[name], "order.status_changed") == [], name


def test_stock_changes_and_low_stock_reach_the_products_seller(app, shop, ears):
    with app.app_context(), tenant_scope(shop.tenant.id):
        inventory.adjust_stock(shop.product.stock_level_id, -8)  # 10 -> 2, reorder point 3
    heard = _heard(ears["seller"])
    (changed,) = [e for e in heard if e["name"] == "inventory.stock_changed"]
    assert changed["product_id"] == shop.product.id and changed["sku"] == shop.product.sku
    assert (changed["on_hand"], changed["reserved"], changed["available"]) == (2, 0, 2)
    (low,) = [e for e in heard if e["name"] == "inventory.low_stock"]
    assert low["available"] == 2 and low["reorder_point"] == 3
    # the shop's staff are told of low stock through the notification centre (stored, then pushed),
    # never the seller's stock events themselves
    (told,) = _heard(ears["admin"])
    assert told["name"] == "notification.created" and told["link"] == "/admin/low-stock/list/"
    for name in ("seller2", "customer", "foreign_seller"):
        assert _heard(ears[name]) == [], name


def _publish(app, tenant_id: int, name: str, payload: dict) -> int:
    with app.app_context(), tenant_scope(tenant_id):
        with transaction():
            event = publish(name, payload)
        return event.id


def test_payout_paid_reaches_the_seller_without_internal_ids(app, shop, ears):
    payload = {"seller_id": shop.seller.id, "payout_id": 41, "amount": "12.50", "currency": "USD"}
    event_id = _publish(app, shop.tenant.id, "payout.paid", payload)
    (paid,) = _heard(ears["seller"], "payout.paid")
    assert paid["payout_id"] == 41 and paid["amount"] == "12.50" and paid["event_id"] == event_id
    assert "seller_id" not in paid
    assert _heard(ears["seller2"]) == [] and _heard(ears["admin"]) == []


@pytest.mark.parametrize("name", ["notification.created", "chat.message"])
def test_an_addressed_event_reaches_its_recipients_in_its_own_tenant_only(app, shop, ears, name):
    recipients = [shop.customer.user_id, shop.seller2.user.id, shop.foreign_seller.user.id]
    _publish(app, shop.tenant.id, name, {"recipient_user_ids": recipients, "title": "Hello"})
    for who in ("customer", "seller2"):
        (event,) = _heard(ears[who], name)
        assert event["title"] == "Hello" and "recipient_user_ids" not in event
    for who in ("seller", "other", "admin", "foreign_seller"):  # not named / another tenant
        assert _heard(ears[who]) == [], who


def test_a_redelivered_event_is_not_emitted_again(app, client, shop, ears):
    place(client, shop)
    assert len(_heard(ears["seller"], "order.created")) == 1
    with app.app_context(), unscoped():
        event_id = db.session.scalars(
            select(OutboxEvent.id)
            .where(OutboxEvent.name == "order.created", OutboxEvent.tenant_id == shop.tenant.id)
            .order_by(OutboxEvent.id.desc())
        ).first()
        assert bus.consume(event_id, "realtime.order.created") is False
    assert _heard(ears["seller"]) == []


def test_nothing_is_emitted_when_the_transaction_rolls_back(app, shop, ears):
    with app.app_context(), tenant_scope(shop.tenant.id):
        with pytest.raises(RuntimeError), transaction():
            emit_after_commit("order.created", {"order_id": 1}, [f"seller:{shop.seller.id}"])
            raise RuntimeError("the consumer failed")
        with transaction():  # the next commit of the same session emits nothing left over
            emit_after_commit("order.created", {"order_id": 2}, [f"seller:{shop.seller.id}"])
    assert [e["order_id"] for e in _heard(ears["seller"])] == [2]


def test_rooms_follow_the_account(app, factory, shop):
    """A Seller joins its seller room, an Admin its tenant's staff room, a customer only its own;
    a seller's room is never joined by another account."""
    from app.realtime.access import authorize

    expected = {
        shop.seller.user.id: {f"user:{shop.seller.user.id}", f"seller:{shop.seller.id}"},
        shop.admin.id: {f"user:{shop.admin.id}", f"tenant:{shop.tenant.id}:admin"},
        shop.customer.user_id: {f"user:{shop.customer.user_id}"},
    }
    users = {shop.seller.user.id: shop.seller.user, shop.admin.id: shop.admin}
    users[shop.customer.user_id] = shop.customer.user
    for user_id, rooms in expected.items():
        with app.test_request_context():
            assert set(authorize({"token": token(app, users[user_id])}).rooms) == rooms


def test_a_disabled_account_and_a_suspended_tenant_are_refused_and_dropped(app, factory):
    from app.realtime.access import ConnectRefused, authorize
    from app.security.models import User
    from app.tenants.models import Tenant

    tenant = factory.tenant()
    seller, customer = factory.seller(tenant), factory.customer(tenant)
    seller_token, customer_token = token(app, seller.user), token(app, customer.user)
    connected = socketio.test_client(app, auth={"token": seller_token})
    assert connected.is_connected()
    with app.app_context(), unscoped():
        db.session.get(User, seller.user.id).active = False
        db.session.commit()
    with app.test_request_context(), pytest.raises(ConnectRefused) as refused:
        authorize({"token": seller_token})
    assert refused.value.code == "account_inactive"
    # the revocation check of the serving process drops the live connection with it
    assert app.extensions["realtime"].check() >= 1
    assert not connected.is_connected()
    with app.app_context(), unscoped():
        db.session.get(Tenant, tenant.id).status = "suspended"
        db.session.commit()
    with app.test_request_context(), pytest.raises(ConnectRefused) as refused:
        authorize({"token": customer_token})
    assert refused.value.code == "tenant_suspended"
    assert not socketio.test_client(app, auth={"token": customer_token}).is_connected()
