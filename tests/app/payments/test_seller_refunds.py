"""A seller asks for a refund of its own sub-order (POST /api/v1/orders/<id>/refund/); an admin,
never that seller, decides; approval refunds through payments, never more than was captured."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.orders.models import RefundRequest, SubOrder
from tests.builders.api import error
from tests.builders.auth import api_headers
from tests.builders.payments import CARD_OK

ORDERS = "/api/v1/orders"


@pytest.fixture
def paid_two_sellers(app, factory, payments, shop):
    s2 = factory.seller(shop.tenant)
    order_id, payment = payments.paid_order(
        shop.tenant.id,
        total="40.00",
        user_id=shop.customer.user_id,
        seller_ids=(shop.seller.id, s2.id),
        details=CARD_OK,
    )
    assert payment.status == "captured"
    with app.app_context(), tenant_scope(shop.tenant.id):
        subs = dict(
            db.session.execute(
                select(SubOrder.seller_id, SubOrder.id).where(SubOrder.order_id == order_id)
            ).all()
        )
        db.session.remove()
    return (
        order_id,
        payment,
        subs[shop.seller.id],
        subs[s2.id],
        api_headers(app, s2.user, shop.tenant.slug),
    )


def _request_id(app, tenant_id, sub_order_id):
    with app.app_context(), tenant_scope(tenant_id):
        found = db.session.scalar(
            select(RefundRequest.id).where(RefundRequest.sub_order_id == sub_order_id)
        )
        db.session.remove()
        return found


def test_a_seller_requests_a_refund_of_its_sub_order_and_an_admin_approves(
    app, client, payments, shop, paid_two_sellers
):
    order_id, payment, mine, theirs, h_seller2 = paid_two_sellers
    url = f"{ORDERS}/{order_id}/refund/"
    # not another seller's sub-order
    error(
        client.post(url, headers=shop.h_seller, json={"reason": "x", "sub_order_id": theirs}), 404
    )
    response = client.post(
        url, headers=shop.h_seller, json={"reason": "broken in our warehouse", "sub_order_id": mine}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [s["status"] for s in body["sub_orders"]] == [
        "refund_requested"
    ]  # a seller sees its own only
    request_id = _request_id(app, shop.tenant.id, mine)
    # the seller does not approve its own request; the other seller does not see it; the customer does not decide
    decision = {"request_id": request_id, "approve": True}
    error(client.post(url, headers=shop.h_seller, json=decision), 403)
    error(client.post(url, headers=h_seller2, json=decision), 404)
    error(client.post(url, headers=shop.h, json=decision), 403)
    assert payments.get(shop.tenant.id, payment.id).amount_refunded == Decimal("0.00")
    approved = client.post(url, headers=shop.h_admin, json=decision)
    assert approved.status_code == 200, approved.get_json()
    after = payments.get(shop.tenant.id, payment.id)
    assert (after.status, after.amount_refunded) == ("partially_refunded", Decimal("20.00"))
    view = approved.get_json()
    assert view["refunded_total"] == "20.00" and view["payment_status"] == "partially_refunded"
    assert {s["id"]: s["status"] for s in view["sub_orders"]} == {mine: "refunded", theirs: "paid"}
    with app.app_context(), tenant_scope(shop.tenant.id):
        row = db.session.get(RefundRequest, request_id)
        assert (row.status, row.requested_by_user_id) == ("completed", shop.seller.user.id)
        assert row.payment_refund_id is not None
        db.session.remove()


def test_a_seller_request_can_be_rejected_by_an_admin(
    app, client, payments, shop, paid_two_sellers
):
    order_id, payment, mine, _theirs, _h = paid_two_sellers
    url = f"{ORDERS}/{order_id}/refund/"
    assert (
        client.post(
            url, headers=shop.h_seller, json={"reason": "x", "sub_order_id": mine}
        ).status_code
        == 200
    )
    request_id = _request_id(app, shop.tenant.id, mine)
    rejected = client.post(
        url, headers=shop.h_admin, json={"request_id": request_id, "approve": False}
    )
    assert rejected.status_code == 200
    assert {s["id"]: s["status"] for s in rejected.get_json()["sub_orders"]}[mine] == "paid"
    assert payments.get(shop.tenant.id, payment.id).amount_refunded == Decimal("0.00")
