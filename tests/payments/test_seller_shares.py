"""A seller sees its share of the money of orders holding its sub-orders, never the whole amounts
nor other sellers' figures (app.orders.shares): in the admin's payments, transactions and refunds
(list, show page, sorting, filters) and in the orders API's refunded total. Staff see the whole.

The order of the issue: 335.69 paid in one payment, of which seller 1's sub-order is 58.98 and
seller 2's 276.71. Refunds: 21.37 answering seller 2's request, 12.34 answering seller 1's, and
33.57 of the whole order (no request: seller 1's share 33.57 x 58.98 / 335.69 = 5.90, seller 2's
27.67)."""

from __future__ import annotations

import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.orders.models import RefundRequest, SubOrder
from app.payments import refunds as payment_refunds
from app.payments.models import PaymentTransaction
from tests.admin.test_admin_views import login
from tests.payments.conftest import CARD_OK, headers
from tests.payments.test_admin import shows

WHOLE = (
    "335.69",
    "276.71",
    "67.28",
    "21.37",
    "33.57",
    "27.67",
    "49.04",
)  # never on seller 1's pages


def _answer(
    app, tenant_id: int, order_id: int, seller_id: int, refund_id: int, amount: str
) -> None:
    """Link the refund to a refund request of the seller's sub-order, as an approved request's is."""
    with app.app_context(), tenant_scope(tenant_id):
        sub = db.session.scalar(
            select(SubOrder.id).where(
                SubOrder.order_id == order_id, SubOrder.seller_id == seller_id
            )
        )
        db.session.add(
            RefundRequest(
                order_id=order_id,
                sub_order_id=sub,
                amount=Decimal(amount),
                reason="x",
                status="completed",
                payment_refund_id=refund_id,
            )
        )
        db.session.commit()
        db.session.remove()


@pytest.fixture
def money(app, factory, payments, shop):
    s1, s2 = shop.seller, factory.seller(shop.tenant)
    tid = shop.tenant.id
    # seller 1's own order (before the shared one): 100.00, all of it seller 1's
    own_order = payments.order(tid, total="100.00", seller_ids=(s1.id,), status="paid")
    own = payments.start(tid, amount="100.00", order_id=own_order, details=CARD_OK)
    # the shared order: 335.69 = 58.98 (seller 1) + 276.71 (seller 2)
    order_id = payments.order(tid, total="335.69", seller_ids=(s1.id, s2.id), status="paid")
    with app.app_context(), tenant_scope(tid):
        for seller_id, total in ((s1.id, "58.98"), (s2.id, "276.71")):
            db.session.execute(
                update(SubOrder)
                .where(SubOrder.order_id == order_id, SubOrder.seller_id == seller_id)
                .values(subtotal=Decimal(total), total=Decimal(total))
            )
        db.session.commit()
        db.session.remove()
    payment = payments.start(tid, amount="335.69", order_id=order_id, details=CARD_OK)
    for_s2 = payments.run(tid, payment_refunds.refund, payment.id, Decimal("21.37"), "s2's request")
    for_s1 = payments.run(tid, payment_refunds.refund, payment.id, Decimal("12.34"), "s1's request")
    whole = payments.run(tid, payment_refunds.refund, payment.id, Decimal("33.57"), "goodwill")
    _answer(app, tid, order_id, s2.id, for_s2.id, "21.37")
    _answer(app, tid, order_id, s1.id, for_s1.id, "12.34")
    with app.app_context(), tenant_scope(tid):
        transactions = {
            (t.kind, t.refund_id): t.id
            for t in db.session.scalars(
                select(PaymentTransaction).where(PaymentTransaction.payment_id == payment.id)
            )
        }
        db.session.remove()
    return SimpleNamespace(
        s1=s1,
        s2=s2,
        order_id=order_id,
        payment=payment,
        own=own,
        for_s1=for_s1,
        for_s2=for_s2,
        whole=whole,
        transactions=transactions,
    )


def _cells(page: str, row_id: int, route: str) -> str:
    """The text of the list row whose show link is /admin/<route>/show/<row_id>."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S)
    return next(r for r in rows if re.search(rf"/admin/{route}/show/{row_id}\"", r))


def _ids(page: str, route: str) -> list[int]:
    seen = []
    for found in re.findall(rf"/admin/{route}/show/(\d+)", page):
        if int(found) not in seen:
            seen.append(int(found))
    return seen


def test_a_seller_sees_its_share_of_payments_never_the_whole(app, shop, money):
    seller, _ = login(app, shop.tenant.slug, money.s1.user.username)
    page = seller.get("/admin/payments/list/").get_data(as_text=True)
    row = _cells(page, money.payment.id, "payments")
    # amount, captured, refunded (12.34 of its request + 5.90 of the whole-order refund)
    assert shows(row, "58.98") and shows(row, "18.24")
    for whole in WHOLE:
        assert not shows(page, whole), whole
    assert shows(_cells(page, money.own.id, "payments"), "100.00")  # its own order: all of it

    show = seller.get(f"/admin/payments/show/{money.payment.id}").get_data(as_text=True)
    assert shows(show, "58.98") and shows(show, "18.24")
    for whole in WHOLE:
        assert not shows(show, whole), whole

    # seller 2: its own share, none of seller 1's
    other, _ = login(app, shop.tenant.slug, money.s2.user.username)
    row = _cells(
        other.get("/admin/payments/list/").get_data(as_text=True), money.payment.id, "payments"
    )
    assert shows(row, "276.71") and shows(row, "49.04")  # 21.37 + 27.67
    assert not shows(row, "335.69") and not shows(row, "58.98") and not shows(row, "18.24")

    # staff: the whole figures
    admin, _ = login(app, shop.tenant.slug, shop.admin.username)
    row = _cells(
        admin.get("/admin/payments/list/").get_data(as_text=True), money.payment.id, "payments"
    )
    assert shows(row, "335.69") and shows(row, "67.28")


def test_sorting_and_filtering_do_not_give_the_whole_amounts_away(app, shop, money):
    seller, _ = login(app, shop.tenant.slug, money.s1.user.username)
    plain = seller.get("/admin/payments/list/").get_data(as_text=True)
    assert _ids(plain, "payments")[:2] == [money.payment.id, money.own.id]  # newest first
    # no sort on money is offered to a seller, and one asked for in the URL is not applied: sorted by
    # the whole amounts (100.00 < 335.69) the shared order would come second
    for column in ("amount", "amount_captured", "amount_refunded"):
        assert f"_oc_PaymentView={column}" not in plain
        for direction in ("asc", "desc"):
            page = seller.get(
                f"/admin/payments/list/?_oc_PaymentView={column}&_od_PaymentView={direction}"
            )
            assert _ids(page.get_data(as_text=True), "payments") == _ids(plain, "payments"), (
                column,
                direction,
            )
    assert "_oc_PaymentView=created_at" in plain  # other columns still sort
    # filters on amounts are not offered: asked for in the URL, they filter nothing
    for query in (
        "_flt_0_amount=335.69",
        "_flt_0_amount=58.98",
        "_flt_1_amount=300",
        "_flt_2_amount=300",
    ):
        page = seller.get(f"/admin/payments/list/?{query}").get_data(as_text=True)
        assert _ids(page, "payments") == _ids(plain, "payments"), query
    for route, view in (
        ("payment-transactions", "PaymentTransactionView"),
        ("refunds", "RefundView"),
    ):
        page = seller.get(f"/admin/{route}/list/?_oc_{view}=amount&_od_{view}=asc").get_data(
            as_text=True
        )
        assert f"_oc_{view}=amount" not in page
        assert _ids(page, route) == _ids(
            seller.get(f"/admin/{route}/list/").get_data(as_text=True), route
        )
    # staff still sort on money
    admin, _ = login(app, shop.tenant.slug, shop.admin.username)
    page = admin.get("/admin/payments/list/?_oc_PaymentView=amount&_od_PaymentView=asc").get_data(
        as_text=True
    )
    assert "_oc_PaymentView=amount" in page
    ids = _ids(page, "payments")
    assert ids.index(money.own.id) < ids.index(money.payment.id)


def test_a_seller_sees_only_the_refunds_and_transactions_that_concern_it(app, shop, money):
    seller, _ = login(app, shop.tenant.slug, money.s1.user.username)
    refunds = seller.get("/admin/refunds/list/").get_data(as_text=True)
    assert set(_ids(refunds, "refunds")) >= {money.for_s1.id, money.whole.id}
    assert money.for_s2.id not in _ids(refunds, "refunds")
    assert shows(_cells(refunds, money.for_s1.id, "refunds"), "12.34")
    assert shows(_cells(refunds, money.whole.id, "refunds"), "5.90")
    for whole in WHOLE:
        assert not shows(refunds, whole), whole
    assert shows(seller.get(f"/admin/refunds/show/{money.whole.id}").get_data(as_text=True), "5.90")
    assert seller.get(f"/admin/refunds/show/{money.for_s2.id}").status_code == 404

    t = money.transactions
    page = seller.get("/admin/payment-transactions/list/").get_data(as_text=True)
    listed = set(_ids(page, "payment-transactions"))
    assert {
        t[("authorize", None)],
        t[("capture", None)],
        t[("refund", money.for_s1.id)],
        t[("refund", money.whole.id)],
    } <= listed
    assert t[("refund", money.for_s2.id)] not in listed
    assert shows(_cells(page, t[("capture", None)], "payment-transactions"), "58.98")
    assert shows(_cells(page, t[("refund", money.for_s1.id)], "payment-transactions"), "12.34")
    assert shows(_cells(page, t[("refund", money.whole.id)], "payment-transactions"), "5.90")
    for whole in WHOLE:
        assert not shows(page, whole), whole
    show = seller.get(f"/admin/payment-transactions/show/{t[('capture', None)]}").get_data(
        as_text=True
    )
    assert shows(show, "58.98") and not shows(show, "335.69") and "Raw Response" not in show
    assert (
        seller.get(f"/admin/payment-transactions/show/{t[('refund', money.for_s2.id)]}").status_code
        == 404
    )

    # staff see every refund and transaction, whole, with the gateway's response
    admin, _ = login(app, shop.tenant.slug, shop.admin.username)
    assert shows(
        _cells(
            admin.get("/admin/refunds/list/").get_data(as_text=True), money.for_s2.id, "refunds"
        ),
        "21.37",
    )
    show = admin.get(f"/admin/payment-transactions/show/{t[('capture', None)]}").get_data(
        as_text=True
    )
    assert shows(show, "335.69") and "Raw Response" in show


def test_the_orders_api_gives_a_seller_its_share_of_the_refunded_total(app, shop, money):
    response = app.test_client().get(
        f"/api/v1/orders/{money.order_id}/", headers=headers(app, money.s1.user, shop.tenant.slug)
    )
    assert response.status_code == 200
    body = response.get_json()
    assert Decimal(str(body["total"])) == Decimal("58.98")
    assert Decimal(str(body["refunded_total"])) == Decimal("18.24")  # 12.34 + 5.90, not 67.28
    listed = app.test_client().get(
        "/api/v1/orders/", headers=headers(app, money.s1.user, shop.tenant.slug)
    )
    item = next(o for o in listed.get_json()["items"] if o["id"] == money.order_id)
    assert Decimal(str(item["refunded_total"])) == Decimal("18.24")
    # an admin gets the order's whole refunded total
    whole = (
        app.test_client().get(f"/api/v1/orders/{money.order_id}/", headers=shop.h_admin).get_json()
    )
    assert Decimal(str(whole["refunded_total"])) == Decimal("67.28")
