"""A refund the gateway refuses at once (the test gateway's card 4000000000005126 pays, but every
refund of it is refused): the approved request ends "failed" with the gateway's code, the approver
gets 409 refund_failed, the sub-order goes back to where it was, the units and money count no more
(they can be asked for again), and units put back on hand at approval stay there, never twice."""

from __future__ import annotations

import email
import email.policy
from decimal import Decimal

from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.orders.models import OrderEvent
from app.payments import refunds as payment_refunds
from app.payments.models import Payment
from app.security import roles
from tests.app.orders.test_line_refunds import API
from tests.builders.admin import login
from tests.builders.api import error
from tests.builders.orders import ask, patch, place, requests_of, stock_of, sub_of

CARD_REFUND_FAILS = {"method": "test_card", "details": {"card_number": "4000000000005126"}}


def _payment(app, shop, order_id):
    with app.app_context(), tenant_scope(shop.tenant.id):
        payment = db.session.scalar(select(Payment).where(Payment.order_id == order_id))
        out = (payment.status, payment.amount_refunded, payment.refundable)
        db.session.remove()
        return out


def test_a_refused_refund_fails_its_request_and_frees_its_units_and_money(
    app, client, factory, shop
):
    item = factory.product(shop.seller, price="3.33", stock=10)
    order = place(client, shop, items=[(item.variant_id, 3)], payment=CARD_REFUND_FAILS)
    for target in ("processing", "shipped", "delivered"):
        assert patch(client, shop.h_seller, order["id"], status=target).status_code == 200
    sub = sub_of(order, shop.seller.id)
    line = sub["lines"][0]
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (7, 0)  # 3 units sold
    assert _payment(app, shop, order["id"])[0] == "captured"

    assert ask(client, shop.h, order["id"], (line["id"], 2)).status_code == 200
    [first] = requests_of(app, shop, order["id"])
    response = client.post(
        f"{API}/{order['id']}/refund/",
        headers=shop.h_seller,
        json={"request_id": first.id, "approve": True, "restock": True},
    )
    body = error(response, 409, "refund_failed")
    assert body["details"] == {"request_id": first.id, "failure_code": "expired_or_canceled_card"}

    [first] = requests_of(app, shop, order["id"])
    assert (first.status, first.failure_code) == ("failed", "expired_or_canceled_card")
    assert first.payment_refund_id is not None
    # the returned units were put back on hand and stay there: they are in the warehouse
    assert [(rl.quantity, rl.restocked_quantity) for rl in first.lines] == [(2, 2)]
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (9, 0)
    # the money was never paid out, and the whole payment can be refunded again
    assert _payment(app, shop, order["id"]) == (
        "captured",
        Decimal("0.00"),
        Decimal(order["total"]),
    )
    view = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert view["status"] == "delivered" and view["refunded_total"] == "0.00"
    assert sub_of(view, shop.seller.id)["status"] == "delivered"
    assert sub_of(view, shop.seller.id)["lines"][0]["returned_quantity"] == 0
    with app.app_context(), tenant_scope(shop.tenant.id):
        notes = list(
            db.session.scalars(
                select(OrderEvent.note).where(
                    OrderEvent.sub_order_id == sub["id"], OrderEvent.to_status == "delivered"
                )
            )
        )
        assert any("failed (expired_or_canceled_card)" in (n or "") for n in notes), notes

    # the same units (and all three) can be asked for again: the failed request counts no more
    response = ask(client, shop.h, order["id"], (line["id"], 3))
    assert response.status_code == 200, response.get_json()
    assert sub_of(response.get_json(), shop.seller.id)["status"] == "refund_requested"
    _, second = requests_of(app, shop, order["id"])
    assert second.status == "requested" and second.amount == Decimal(sub["total"])
    # approving it with restock puts back only the unit not restocked yet; this card refuses again
    response = client.post(
        f"{API}/{order['id']}/refund/",
        headers=shop.h_seller,
        json={"request_id": second.id, "approve": True, "restock": True},
    )
    error(response, 409, "refund_failed")
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (10, 0)
    _, second = requests_of(app, shop, order["id"])
    assert second.status == "failed" and [rl.restocked_quantity for rl in second.lines] == [1]


def test_an_approval_payments_cannot_start_fails_its_request_instead_of_leaving_it_approved(
    app, client, factory, shop
):
    """The approval commits first; if payments then refuses to start the refund at all (here an
    admin refunded all but 1.00 of the payment meanwhile, so none covers the request), no refund
    event will ever answer the request: it fails at once with payments' error code, and can be
    asked again, for what the payment still has. (A refund of the WHOLE payment closes the open
    request instead: tests/app/orders/test_refunds_follow_payments.py.)"""
    item = factory.product(shop.seller, price="5.00", stock=5)
    order = place(
        client,
        shop,
        items=[(item.variant_id, 2)],
        payment={"method": "test_card", "details": {"card_number": "4242424242424242"}},
    )
    for target in ("processing", "shipped", "delivered"):
        assert patch(client, shop.h_seller, order["id"], status=target).status_code == 200
    line = sub_of(order, shop.seller.id)["lines"][0]
    assert ask(client, shop.h, order["id"], (line["id"], 1)).status_code == 200
    [request] = requests_of(app, shop, order["id"])
    assert request.amount > Decimal("1.00")
    with app.app_context(), tenant_scope(shop.tenant.id):
        payment = db.session.scalar(select(Payment).where(Payment.order_id == order["id"]))
        payment_refunds.refund(
            payment.id, payment.refundable - Decimal("1.00"), "refunded by an admin"
        )
        db.session.remove()

    response = client.post(
        f"{API}/{order['id']}/refund/",
        headers=shop.h_seller,
        json={"request_id": request.id, "approve": True},
    )
    error(response, 409, "refund_exceeds_captured")
    [request] = requests_of(app, shop, order["id"])
    assert (request.status, request.failure_code, request.payment_refund_id) == (
        "failed",
        "refund_exceeds_captured",
        None,
    )
    view = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert sub_of(view, shop.seller.id)["status"] == "delivered"
    assert _payment(app, shop, order["id"]) == (
        "partially_refunded",
        Decimal(order["total"]) - Decimal("1.00"),
        Decimal("1.00"),
    )
    # not stuck: the units can be asked for again, for what the payment has left
    assert sub_of(view, shop.seller.id)["refundable"] == "1.00"
    assert ask(client, shop.h, order["id"], (line["id"], 1)).status_code == 200
    assert requests_of(app, shop, order["id"])[-1].amount == Decimal("1.00")


def test_a_refused_refund_of_a_cancelled_order_is_mailed_to_the_tenants_admins(
    app, client, factory, shop, monkeypatch, tmp_path
):
    """A cancelled paid order has no refund request: when its refund is refused, the e-mail to the
    tenant's admins (.eml files of the embedded outbox here) is what tells anyone the money did
    not go back. Another tenant's admin, and this tenant's sellers, get nothing."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path))
    second_admin = factory.user(shop.tenant, roles.ADMIN)
    factory.user(shop.foreign_tenant, roles.ADMIN)
    order = place(client, shop, items=[(shop.product.variant_id, 1)], payment=CARD_REFUND_FAILS)
    assert client.post(f"{API}/{order['id']}/cancel/", headers=shop.h_admin).status_code == 200
    assert _payment(app, shop, order["id"]) == (
        "captured",
        Decimal("0.00"),
        Decimal(order["total"]),
    )

    mails = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in tmp_path.glob("*.eml")
    ]
    # (the order's own mails, its confirmation and cancellation, go to the customer and seller)
    mails = [m for m in mails if "refund" in m["Subject"]]
    assert sorted(m["To"] for m in mails) == sorted([shop.admin.email, second_admin.email])
    for m in mails:
        assert m["Subject"] == f"A refund of order {order['number']} failed"
        text = m.get_body(("plain",)).get_content()
        assert (
            f"{order['total']} " in text
            and "expired_or_canceled_card" in text
            and "cancelled" in text
        )
    # where the mail sends them: the failed refund and why, in the admin's refunds list
    admin, _ = login(app, shop.tenant.slug, shop.admin.username)
    page = admin.get("/admin/refunds/list/")
    assert page.status_code == 200
    row = next(
        r for r in page.get_data(as_text=True).split("<tr")[1:] if "expired_or_canceled_card" in r
    )
    assert "failed" in row and order["total"] in row
