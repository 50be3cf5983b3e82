"""/api/v1/orders after checkout: lists and details by role, the state machine (409 with the
allowed transitions), customer edits, cancel (stock released, payment voided or refunded),
tracking, refunds with approval, payment outcomes, and the expiry of unpaid reservations."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.core.errors import Conflict
from app.core.tenancy import tenant_scope
from app.core.types import utcnow
from app.events.models import OutboxEvent
from app.extensions import db
from app.orders import states
from app.orders.lifecycle import expire_unpaid
from app.orders.models import Order, SubOrder
from app.orders.transitions import move
from app.security import roles
from tests.builders.api import error
from tests.builders.auth import api_headers
from tests.builders.orders import (
    ADDRESS,
    API,
    CARD_DECLINED,
    CARD_OK,
    patch,
    place,
    stock_of,
    sub_of,
)

# --- payment outcomes ----------------------------------------------------------------------------


@pytest.mark.smoke
def test_captured_payment_moves_the_order_to_paid(app, client, shop):
    order = place(client, shop, payment=CARD_OK)
    assert order["payment"]["status"] == "captured" and order["payment"]["id"]
    body = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert body["status"] == "paid" and body["payment_status"] == "captured" and body["paid_at"]
    assert {s["status"] for s in body["sub_orders"]} == {"paid"}
    assert body["reservation_expires_at"] is None
    timeline = client.get(f"{API}/{order['id']}/tracking/", headers=shop.h).get_json()["timeline"]
    assert [(t["from_status"], t["to_status"]) for t in timeline if t["sub_order_id"] is None] == [
        (None, "pending"),
        ("pending", "paid"),
    ]


def test_failed_payment_leaves_no_reserved_stock_after_expiry(app, client, shop):
    order = place(client, shop, payment=CARD_DECLINED)
    assert order["payment"]["status"] == "failed"
    body = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert body["status"] == "pending" and body["payment_status"] == "failed"
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 2)
    with app.app_context():
        tenant = shop.tenant.id  # time travel on this test's shop only, not on other tests' orders
        assert expire_unpaid(now=utcnow(), tenant_id=tenant) == 0  # not yet expired
        ttl = app.config["ORDER_RESERVATION_TTL_MINUTES"]
        later = utcnow() + dt.timedelta(minutes=ttl, seconds=1)
        assert expire_unpaid(now=later, tenant_id=tenant) == 1
        assert expire_unpaid(now=later, tenant_id=tenant) == 0
    body = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert body["status"] == "cancelled" and {s["status"] for s in body["sub_orders"]} == {
        "cancelled"
    }
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 0)
    assert stock_of(app, shop.tenant.id, shop.product2.stock_level_id) == (5, 0)


def test_the_cron_task_expires_unpaid_orders_of_every_tenant(app, client, shop):
    from jobs.schedule import SCHEDULE
    from jobs.tasks import expire_unpaid_orders

    assert any(entry.func is expire_unpaid_orders for entry in SCHEDULE)
    unpaid = place(client, shop)
    paid = place(
        client, shop, h=shop.h_other, items=[(shop.product.variant_id, 1)], payment=CARD_OK
    )
    foreign = place(client, shop, h=shop.h_foreign, items=[(shop.foreign_product.variant_id, 1)])
    with app.app_context():
        from app.core.tenancy import unscoped

        with unscoped():
            # long overdue (the cron takes the longest overdue first, 200 a run): this run reaches
            # them whatever other tests' orders the database holds; the paid one is not pending
            ours = [unpaid["id"], paid["id"], foreign["id"]]
            for order in db.session.scalars(select(Order).where(Order.id.in_(ours))).all():
                order.reservation_expires_at = utcnow() - dt.timedelta(days=3650)
            db.session.commit()
        assert expire_unpaid_orders() >= 2  # one run, every tenant
    assert client.get(f"{API}/{unpaid['id']}/", headers=shop.h).get_json()["status"] == "cancelled"
    assert client.get(f"{API}/{paid['id']}/", headers=shop.h_other).get_json()["status"] == "paid"
    assert (
        client.get(f"{API}/{foreign['id']}/", headers=shop.h_foreign).get_json()["status"]
        == "cancelled"
    )
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (
        10,
        1,
    )  # the paid order's unit


# --- reading by role -----------------------------------------------------------------------------


def test_lists_by_role(app, client, factory, shop):
    mine = place(client, shop)
    theirs = place(client, shop, h=shop.h_other, items=[(shop.product2.variant_id, 1)])
    place(client, shop, h=shop.h_foreign, items=[(shop.foreign_product.variant_id, 1)])

    def ids(h, query=""):
        response = client.get(f"{API}/{query}", headers=h)
        assert response.status_code == 200, response.get_json()
        return [o["id"] for o in response.get_json()["items"]], response.get_json()

    assert ids(shop.h)[0] == [mine["id"]]
    assert ids(shop.h_other)[0] == [theirs["id"]]
    assert ids(shop.h_admin)[0] == [theirs["id"], mine["id"]]
    assert ids(shop.h_seller)[0] == [mine["id"]]  # seller 1 is only in the first order
    got, body = ids(shop.h_seller2)
    assert got == [theirs["id"], mine["id"]]
    # a seller sees only its sub-orders, and totals over them
    seen = next(o for o in body["items"] if o["id"] == mine["id"])
    assert [s["seller_id"] for s in seen["sub_orders"]] == [shop.seller2.id]
    assert seen["total"] == sub_of(mine, shop.seller2.id)["total"] != mine["total"]
    assert ids(shop.h_admin, "?status=pending&page_size=1")[1]["total"] == 2
    assert ids(shop.h_admin, "?status=paid")[0] == []
    err = error(client.get(f"{API}/?status=bogus&page_size=1000&x=1", headers=shop.h), 422)
    assert {"status", "page_size", "x"} <= set(err["details"])
    error(client.get(f"{API}/"), 401)
    error(client.get(f"{API}/", headers=shop.h_guest), 401)
    no_profile = factory.user(shop.tenant, roles.SELLER)
    error(client.get(f"{API}/", headers=api_headers(app, no_profile)), 403, "forbidden")


def test_detail_is_404_for_anyone_else(app, client, shop):
    order = place(client, shop, items=[(shop.product.variant_id, 1)])
    assert client.get(f"{API}/{order['id']}/", headers=shop.h).status_code == 200
    assert client.get(f"{API}/{order['id']}/", headers=shop.h_admin).status_code == 200
    assert client.get(f"{API}/{order['id']}/", headers=shop.h_seller).status_code == 200
    for h in (shop.h_other, shop.h_seller2, shop.h_foreign):
        error(client.get(f"{API}/{order['id']}/", headers=h), 404, "not_found")
        error(client.get(f"{API}/{order['id']}/tracking/", headers=h), 404)
        error(patch(client, h, order["id"], notes="hi"), 404)
        error(client.post(f"{API}/{order['id']}/cancel/", headers=h), 404)
        error(
            client.post(
                f"{API}/{order['id']}/refund/",
                headers=h,
                json={"request_id": 1, "approve": True} if h is shop.h_seller2 else {"reason": "x"},
            ),
            404,
        )
    error(client.get(f"{API}/{order['id']}/"), 401)
    error(client.get(f"{API}/999999999/", headers=shop.h_admin), 404)
    assert client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()["status"] == "pending"


# --- the state machine ---------------------------------------------------------------------------

ILLEGAL = [
    (a, b)
    for a, b in itertools.product(states.STATUSES, states.STATUSES)
    if b not in states.TRANSITIONS[a]
]


@pytest.mark.parametrize("current,target", ILLEGAL, ids=lambda v: v)
def test_every_illegal_transition_is_a_conflict_naming_the_allowed_ones(current, target):
    sub = SubOrder(status=current)
    with pytest.raises(Conflict) as caught:
        move(sub, target, actor_id=None)
    assert caught.value.code == "illegal_transition" and caught.value.status == 409
    assert caught.value.details == {
        "status": current,
        "requested": target,
        "allowed": states.allowed(current),
    }
    assert sub.status == current


def test_fulfilment_by_the_seller_follows_the_machine(app, client, shop):
    order = place(client, shop, payment=CARD_OK)
    oid = order["id"]
    err = error(patch(client, shop.h_seller, oid, status="shipped"), 409, "illegal_transition")
    assert err["details"] == {
        "status": "paid",
        "requested": "shipped",
        "allowed": ["cancelled", "processing", "refund_requested", "refunded"],
    }
    for target in ("processing", "shipped", "delivered", "completed"):
        response = patch(client, shop.h_seller, oid, status=target, note=f"now {target}")
        assert response.status_code == 200, response.get_json()
        assert [s["status"] for s in response.get_json()["sub_orders"]] == [target]
        if target == "shipped":  # the reserved units are sold now
            assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (8, 0)
    body = client.get(f"{API}/{oid}/", headers=shop.h).get_json()
    assert sub_of(body, shop.seller.id)["status"] == "completed"
    assert body["status"] == "paid"  # the parent follows its least advanced sub-order (seller 2's)
    err = error(patch(client, shop.h_seller, oid, status="processing"), 409)
    assert err["details"]["allowed"] == ["refund_requested", "refunded"]
    # the admin moves seller 2's sub-order by id
    sub2 = sub_of(order, shop.seller2.id)["id"]
    response = patch(client, shop.h_admin, oid, status="processing", sub_order_id=sub2)
    assert response.status_code == 200 and response.get_json()["status"] == "processing"
    error(
        patch(client, shop.h_seller, oid, status="processing", sub_order_id=sub2), 404
    )  # not its own
    error(patch(client, shop.h, oid, status="processing"), 403, "forbidden")  # customers cannot
    err = error(patch(client, shop.h_seller, oid, status="paid"), 422)  # not a manual target
    assert "status" in err["details"]
    with app.app_context(), tenant_scope(shop.tenant.id):
        changes = db.session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.name == "order.status_changed", OutboxEvent.aggregate_id == str(oid))
        )
        assert (
            changes == 2 + 4 + 1
        )  # paid x2 sub-orders, seller 1's four steps, seller 2's processing


def test_unpaid_orders_cannot_be_fulfilled(client, shop):
    order = place(client, shop)
    err = error(
        patch(client, shop.h_admin, order["id"], status="processing"), 409, "illegal_transition"
    )
    assert err["details"]["allowed"] == ["cancelled", "paid"]


def test_customer_edits_notes_and_address_while_pending(client, shop):
    order = place(client, shop)
    response = patch(
        client,
        shop.h,
        order["id"],
        notes="ring twice",
        shipping_address=dict(ADDRESS, line1="2 Main St"),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["notes"] == "ring twice" and body["shipping_address"]["line1"] == "2 Main St"
    err = error(
        patch(client, shop.h, order["id"], shipping_address=dict(ADDRESS, country="FR")), 422
    )
    assert "shipping_address" in err["details"]
    err = error(patch(client, shop.h, order["id"], shipping_address={"city": ""}, bogus=True), 422)
    assert {"shipping_address", "bogus"} <= set(err["details"])
    error(patch(client, shop.h, order["id"]), 422)
    error(patch(client, shop.h_seller, order["id"], notes="mine now"), 403)
    paid = place(client, shop, items=[(shop.product.variant_id, 1)], payment=CARD_OK)
    error(patch(client, shop.h, paid["id"], notes="too late"), 409, "order_not_editable")
    assert client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()["notes"] == "ring twice"


# --- cancel --------------------------------------------------------------------------------------


def test_customer_cancels_a_pending_order_and_the_stock_is_released(app, client, shop):
    order = place(client, shop)
    response = client.post(
        f"{API}/{order['id']}/cancel/", headers=shop.h, json={"reason": "changed my mind"}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "cancelled"
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 0)
    assert stock_of(app, shop.tenant.id, shop.product2.stock_level_id) == (5, 0)
    err = error(
        client.post(f"{API}/{order['id']}/cancel/", headers=shop.h), 409, "illegal_transition"
    )
    assert err["details"]["allowed"] == []
    error(client.post(f"{API}/{order['id']}/cancel/", headers=shop.h, json={"reason": ""}), 422)


def test_a_seller_cancels_only_its_sub_order(app, client, shop):
    order = place(client, shop)
    body = client.post(f"{API}/{order['id']}/cancel/", headers=shop.h_seller).get_json()
    assert [s["status"] for s in body["sub_orders"]] == ["cancelled"]
    body = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert body["status"] == "pending" and sub_of(body, shop.seller2.id)["status"] == "pending"
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 0)
    assert stock_of(app, shop.tenant.id, shop.product2.stock_level_id) == (5, 1)


def test_cancelling_a_paid_order_refunds_it_through_payments(app, client, shop):
    order = place(client, shop, payment=CARD_OK)
    body = client.post(f"{API}/{order['id']}/cancel/", headers=shop.h_admin).get_json()
    assert body["status"] == "cancelled"
    body = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert body["payment_status"] == "refunded" and body["refunded_total"] == order["total"]
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 0)


# --- refunds -------------------------------------------------------------------------------------


def _delivered(client, shop) -> dict:
    order = place(client, shop, payment=CARD_OK)
    for target in ("processing", "shipped", "delivered"):
        assert patch(client, shop.h_seller, order["id"], status=target).status_code == 200
    return order


def _requests(app, shop, order_id):
    from app.orders.models import RefundRequest

    with app.app_context(), tenant_scope(shop.tenant.id):
        return [
            (r.id, r.status, r.amount)
            for r in db.session.scalars(
                select(RefundRequest)
                .where(RefundRequest.order_id == order_id)
                .order_by(RefundRequest.id)
            )
        ]


def test_refund_requested_approved_and_paid_out(app, client, shop):
    order = _delivered(client, shop)
    sub = sub_of(order, shop.seller.id)
    response = client.post(
        f"{API}/{order['id']}/refund/",
        headers=shop.h,
        json={"reason": "arrived broken", "sub_order_id": sub["id"], "amount": "10.00"},
    )
    assert response.status_code == 200, response.get_json()
    assert sub_of(response.get_json(), shop.seller.id)["status"] == "refund_requested"
    [(request_id, status, amount)] = _requests(app, shop, order["id"])
    assert (status, amount) == ("requested", Decimal("10.00"))
    error(
        client.post(
            f"{API}/{order['id']}/refund/",
            headers=shop.h_seller2,
            json={"request_id": request_id, "approve": True},
        ),
        404,
    )  # not its sub-order
    response = client.post(
        f"{API}/{order['id']}/refund/",
        headers=shop.h_seller,
        json={"request_id": request_id, "approve": True},
    )
    assert response.status_code == 200, response.get_json()
    body = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert sub_of(body, shop.seller.id)["status"] == "partially_refunded"
    assert body["refunded_total"] == "10.00" and body["payment_status"] == "partially_refunded"
    assert _requests(app, shop, order["id"])[0][1] == "completed"
    error(
        client.post(
            f"{API}/{order['id']}/refund/",
            headers=shop.h_seller,
            json={"request_id": request_id, "approve": True},
        ),
        409,
        "refund_decided",
    )
    # the rest of it: refunded in full
    client.post(
        f"{API}/{order['id']}/refund/",
        headers=shop.h,
        json={"reason": "all of it", "sub_order_id": sub["id"]},
    )
    request_id = _requests(app, shop, order["id"])[-1][0]
    assert _requests(app, shop, order["id"])[-1][2] == Decimal(sub["total"]) - Decimal("10.00")
    client.post(
        f"{API}/{order['id']}/refund/",
        headers=shop.h_admin,
        json={"request_id": request_id, "approve": True},
    )
    body = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert sub_of(body, shop.seller.id)["status"] == "refunded"
    assert Decimal(body["refunded_total"]) == Decimal(sub["total"])


def test_refund_rejected_returns_the_sub_order_to_where_it_was(app, client, shop):
    order = _delivered(client, shop)
    sub = sub_of(order, shop.seller.id)
    client.post(
        f"{API}/{order['id']}/refund/",
        headers=shop.h,
        json={"reason": "meh", "sub_order_id": sub["id"]},
    )
    request_id = _requests(app, shop, order["id"])[0][0]
    response = client.post(
        f"{API}/{order['id']}/refund/",
        headers=shop.h_seller,
        json={"request_id": request_id, "approve": False, "reason": "used"},
    )
    assert response.status_code == 200
    assert sub_of(response.get_json(), shop.seller.id)["status"] == "delivered"
    assert _requests(app, shop, order["id"])[0][1] == "rejected"


def test_refund_validation_roles_and_state(app, client, shop):
    pending = place(client, shop)
    err = error(
        client.post(f"{API}/{pending['id']}/refund/", headers=shop.h, json={"reason": "x"}),
        409,
        "illegal_transition",
    )
    assert err["details"]["allowed"] == ["cancelled", "paid"]
    order = _delivered(client, shop)
    sub = sub_of(order, shop.seller.id)
    err = error(
        client.post(f"{API}/{order['id']}/refund/", headers=shop.h, json={"amount": "-1", "y": 1}),
        422,
    )
    assert {"amount", "y"} <= set(err["details"])
    error(client.post(f"{API}/{order['id']}/refund/", headers=shop.h, json={"request_id": 1}), 422)
    err = error(
        client.post(
            f"{API}/{order['id']}/refund/",
            headers=shop.h,
            json={"reason": "x", "sub_order_id": sub["id"], "amount": "9999.00"},
        ),
        422,
    )
    assert "amount" in err["details"]
    # admins decide, they do not request (sellers may request for their own sub-orders: tests/app/payments)
    error(
        client.post(f"{API}/{order['id']}/refund/", headers=shop.h_admin, json={"reason": "x"}), 403
    )
    error(
        client.post(
            f"{API}/{order['id']}/refund/", headers=shop.h, json={"request_id": 1, "approve": True}
        ),
        403,
    )
    error(client.post(f"{API}/{order['id']}/refund/", json={"reason": "x"}), 401)
    assert _requests(app, shop, order["id"]) == []


def test_cancelling_one_sub_order_of_a_paid_order_refunds_that_part(app, client, shop):
    order = place(client, shop, payment=CARD_OK)
    one = sub_of(order, shop.seller.id)
    body = client.post(
        f"{API}/{order['id']}/cancel/", headers=shop.h_seller, json={"reason": "cannot ship"}
    )
    assert body.status_code == 200, body.get_json()
    body = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert [s["status"] for s in body["sub_orders"]] == ["cancelled", "paid"]
    assert body["status"] == "paid" and body["refunded_total"] == one["total"]
    assert body["payment_status"] == "partially_refunded"
    assert [(status, amount) for _, status, amount in _requests(app, shop, order["id"])] == [
        ("completed", Decimal(one["total"]))
    ]


def test_sold_counts_follow_payment_and_cancellation(app, client, shop):
    from app.catalog.models import Product

    def sold():
        with app.app_context(), tenant_scope(shop.tenant.id):
            return [db.session.get(Product, p.id).sold_count for p in (shop.product, shop.product2)]

    pending = place(client, shop)
    assert sold() == [0, 0]  # not paid: not sold
    paid = place(client, shop, h=shop.h_other, payment=CARD_OK)
    assert sold() == [2, 1]
    client.post(f"{API}/{paid['id']}/cancel/", headers=shop.h_seller)  # seller 1's part only
    assert sold() == [0, 1]
    client.post(f"{API}/{pending['id']}/cancel/", headers=shop.h)
    assert sold() == [0, 1]
