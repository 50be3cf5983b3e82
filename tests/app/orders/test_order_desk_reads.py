"""Staff notes on an order's timeline (app.orders.lifecycle.add_note) and the admin order page's read
(app.orders.desk.order_desk): who may write a note on what, what it records, who reads it; what
the desk read holds and that it is for admins."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.errors import NotFound, PermissionDenied, ValidationError
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.orders import desk, lifecycle
from app.orders.models import OrderEvent
from app.security.models import User
from app.sellers.actors import actor_for
from tests.builders.orders import CARD_OK, place, sub_of


def _actor(user_id: int):
    return actor_for(db.session.get(User, user_id))


@pytest.fixture
def order(client, shop):
    return place(client, shop, payment={"method": "bank_transfer"})


def _notes(order_id: int) -> list[OrderEvent]:
    events = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)).all()
    return [e for e in events if e.is_note]


def test_who_writes_notes_on_what(app, client, shop, order):
    sub, sub2 = sub_of(order, shop.seller.id), sub_of(order, shop.seller2.id)
    with app.app_context(), tenant_scope(shop.tenant.id):
        lifecycle.add_note(_actor(shop.admin.id), order["id"], "  called the customer ")
        lifecycle.add_note(_actor(shop.admin.id), order["id"], "sub note", sub_order_id=sub["id"])
        lifecycle.add_note(_actor(shop.seller.user.id), order["id"], "packing", sub["id"])
        refused = [
            (PermissionDenied, shop.customer.user_id, None),  # customers write none
            (PermissionDenied, shop.seller.user.id, None),  # a seller: its own sub-orders only
            (NotFound, shop.seller.user.id, sub2["id"]),  # ...never another seller's
            (NotFound, shop.admin.id, 2147483000),  # no such sub-order in the order
        ]
        for error, user_id, sub_order_id in refused:
            with pytest.raises(error):
                lifecycle.add_note(_actor(user_id), order["id"], "x", sub_order_id)
        with pytest.raises(ValidationError):
            lifecycle.add_note(_actor(shop.admin.id), order["id"], "   ")
        with pytest.raises(ValidationError):
            lifecycle.add_note(_actor(shop.admin.id), order["id"], "x" * 501)
        with pytest.raises(NotFound):  # another tenant's admin does not see the order
            foreign = place(
                client, shop, h=shop.h_foreign, items=[(shop.foreign_product.variant_id, 1)]
            )
            lifecycle.add_note(_actor(shop.admin.id), foreign["id"], "x")
        notes = _notes(order["id"])
        assert [(n.note, n.sub_order_id, n.actor_user_id) for n in notes] == [
            ("called the customer", None, shop.admin.id),
            ("sub note", sub["id"], shop.admin.id),
            ("packing", sub["id"], shop.seller.user.id),
        ]
        assert all(n.from_status == n.to_status == "pending" for n in notes)


def test_the_customer_never_reads_staff_notes(app, client, shop, order):
    with app.app_context(), tenant_scope(shop.tenant.id):
        lifecycle.add_note(_actor(shop.admin.id), order["id"], "suspicious address")
    path = f"/api/v1/orders/{order['id']}/tracking/"
    customer = client.get(path, headers=shop.h).get_json()
    notes = [step["note"] for step in customer["timeline"]]
    assert "order placed" in notes and "suspicious address" not in notes
    for h in (shop.h_admin, shop.h_seller):
        staff = client.get(path, headers=h).get_json()
        assert "suspicious address" in [step["note"] for step in staff["timeline"]]


def test_the_desk_read_names_what_the_page_shows(app, client, shop):
    paid = place(client, shop, payment=CARD_OK)
    with app.app_context(), tenant_scope(shop.tenant.id):
        page = desk.order_desk(_actor(shop.admin.id), paid["id"])
        assert page.order.number == paid["number"] and page.tenant_id == shop.tenant.id
        assert page.customer.email == shop.customer.user.email
        assert page.customer.profile_id == shop.customer.id
        assert {s.store_name for s in page.sellers.values()} == {
            shop.seller.store_name,
            shop.seller2.store_name,
        }
        # what each sub-order may be moved to by hand: fulfilment steps only (not cancelled,
        # refund_requested or refunded, which other actions and payments make)
        assert set(page.moves.values()) == {("processing",)}
        assert page.cancellable
        (payment,) = page.payments
        assert (payment.gateway, payment.status, payment.receivable) == ("test", "captured", False)
        assert [step.note for step in page.timeline][0] == "order placed"
        assert page.timeline[0].by == "Test Customer"
        for user_id in (shop.seller.user.id, shop.customer.user_id):
            with pytest.raises(PermissionDenied):
                desk.order_desk(_actor(user_id), paid["id"])
        assert desk.order_tenant(paid["id"]) == shop.tenant.id
        assert desk.sub_order_in(paid["id"], sub_of(paid, shop.seller.id)["id"])
        assert not desk.sub_order_in(paid["id"], 2147483000)


def test_a_bank_transfer_waiting_for_its_money_is_receivable(app, shop, order):
    with app.app_context(), tenant_scope(shop.tenant.id):
        (payment,) = desk.order_desk(_actor(shop.admin.id), order["id"]).payments
        assert (payment.gateway, payment.status, payment.receivable) == ("manual", "pending", True)
