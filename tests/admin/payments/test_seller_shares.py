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

from tests.builders.admin import login, shows
from tests.builders.auth import api_headers

WHOLE = (
    "335.69",
    "276.71",
    "67.28",
    "21.37",
    "33.57",
    "27.67",
    "49.04",
)  # never on seller 1's pages


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
        f"/api/v1/orders/{money.order_id}/",
        headers=api_headers(app, money.s1.user, shop.tenant.slug),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert Decimal(str(body["total"])) == Decimal("58.98")
    assert Decimal(str(body["refunded_total"])) == Decimal("18.24")  # 12.34 + 5.90, not 67.28
    listed = app.test_client().get(
        "/api/v1/orders/", headers=api_headers(app, money.s1.user, shop.tenant.slug)
    )
    item = next(o for o in listed.get_json()["items"] if o["id"] == money.order_id)
    assert Decimal(str(item["refunded_total"])) == Decimal("18.24")
    # an admin gets the order's whole refunded total
    whole = (
        app.test_client().get(f"/api/v1/orders/{money.order_id}/", headers=shop.h_admin).get_json()
    )
    assert Decimal(str(whole["refunded_total"])) == Decimal("67.28")
