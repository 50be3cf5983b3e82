"""Refunds of order lines: a return of some units of a line, refunded at the line's paid share
(price, less its discounts, plus its tax; shipping once, with the last units or when asked), never
more units than were ordered nor more money than was paid, also under concurrent requests; the
approver may put shipped units back on hand where they were sold from, and units not yet shipped
are released."""

from __future__ import annotations

import threading
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.inventory.models import StockMovement
from app.orders.models import RefundRequestLine, StockReservation
from tests.builders.api import error
from tests.builders.orders import (
    CARD_OK,
    add_stock,
    ask,
    decide,
    patch,
    place,
    requests_of,
    stock_of,
    sub_of,
)

API = "/api/v1/orders"
CENT = Decimal("0.01")


def share(total: Decimal, units: int, of: int) -> Decimal:
    return (total * units / of).quantize(CENT, rounding=ROUND_HALF_UP)


def delivered(client, shop, items) -> dict:
    order = place(client, shop, items=items, payment=CARD_OK)
    for target in ("processing", "shipped", "delivered"):
        assert patch(client, shop.h_seller, order["id"], status=target).status_code == 200
    return order


def test_one_unit_then_the_rest_refunded_at_the_lines_paid_share(app, client, factory, shop):
    item = factory.product(shop.seller, price="3.33", stock=10)
    order = delivered(client, shop, [(item.variant_id, 3)])
    sub = sub_of(order, shop.seller.id)
    line = sub["lines"][0]
    total, sub_total = Decimal(line["total"]), Decimal(sub["total"])
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (7, 0)

    response = ask(client, shop.h, order["id"], (line["id"], 1))
    assert response.status_code == 200, response.get_json()
    assert sub_of(response.get_json(), shop.seller.id)["status"] == "refund_requested"
    assert sub_of(response.get_json(), shop.seller.id)["lines"][0]["returned_quantity"] == 1
    [first] = requests_of(app, shop, order["id"])
    assert first.amount == share(total, 1, 3) and first.shipping_amount == 0
    assert [(rl.order_line_id, rl.quantity, rl.amount) for rl in first.lines] == [
        (line["id"], 1, first.amount)
    ]
    # approved with restock: the unit goes back where it was sold from, and the ledger says so
    decide(client, shop.h_seller, order["id"], first.id, restock=True)
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (8, 0)
    with app.app_context(), tenant_scope(shop.tenant.id):
        moves = db.session.scalars(
            select(StockMovement).where(
                StockMovement.stock_level_id == item.stock_level_id,
                StockMovement.reason == "return",
            )
        ).all()
        assert [(m.delta_on_hand, m.reference) for m in moves] == [
            (1, f"refund:{sub['number']}:{first.id}")
        ]
    body = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert sub_of(body, shop.seller.id)["status"] == "partially_refunded"
    assert (
        Decimal(body["refunded_total"]) == first.amount
        and body["payment_status"] == "partially_refunded"
    )

    # no more units than are left
    err = error(ask(client, shop.h, order["id"], (line["id"], 3)), 422)
    assert err["details"]["lines"] == {str(line["id"]): ["at most 2 of 3 units"]}
    # one more, not restocked (damaged)
    assert ask(client, shop.h, order["id"], (line["id"], 1)).status_code == 200
    second = requests_of(app, shop, order["id"])[-1]
    assert second.amount == share(total, 2, 3) - first.amount
    decide(client, shop.h_seller, order["id"], second.id)
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (8, 0)
    # the last unit brings the shipping back with it: all of the sub-order is refunded, to the cent
    assert ask(client, shop.h, order["id"], (line["id"], 1)).status_code == 200
    last = requests_of(app, shop, order["id"])[-1]
    assert last.shipping_amount == sub_total - total > 0
    assert first.amount + second.amount + last.amount == sub_total
    decide(client, shop.h_admin, order["id"], last.id, restock=True)
    body = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert sub_of(body, shop.seller.id)["status"] == "refunded"
    assert Decimal(body["refunded_total"]) == sub_total
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (9, 0)
    error(ask(client, shop.h, order["id"], (line["id"], 1)), 422)


def test_restock_goes_back_to_the_warehouses_the_units_came_from(app, client, factory, shop):
    item = factory.product(shop.seller, price="10.00", stock=2)
    second_row = add_stock(app, item, 5)
    order = delivered(client, shop, [(item.variant_id, 3)])
    line = sub_of(order, shop.seller.id)["lines"][0]
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (0, 0)
    assert stock_of(app, shop.tenant.id, second_row) == (4, 0)
    ask(client, shop.h, order["id"], (line["id"], 1))
    decide(
        client, shop.h_seller, order["id"], requests_of(app, shop, order["id"])[-1].id, restock=True
    )
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (1, 0)
    ask(client, shop.h, order["id"], (line["id"], 2))
    decide(
        client, shop.h_seller, order["id"], requests_of(app, shop, order["id"])[-1].id, restock=True
    )
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (2, 0)
    assert stock_of(app, shop.tenant.id, second_row) == (5, 0)
    with app.app_context(), tenant_scope(shop.tenant.id):
        assert sorted(
            db.session.scalars(
                select(RefundRequestLine.restocked_quantity).where(
                    RefundRequestLine.order_line_id == line["id"]
                )
            )
        ) == [1, 2]


def test_a_rejected_request_gives_its_units_back_and_shipping_can_be_asked_for(
    app, client, factory, shop
):
    item = factory.product(shop.seller, price="5.00", stock=10)
    order = delivered(client, shop, [(item.variant_id, 2), (shop.product.variant_id, 1)])
    sub = sub_of(order, shop.seller.id)
    a, b = sub["lines"]
    assert ask(client, shop.h, order["id"], (a["id"], 2)).status_code == 200
    decide(
        client,
        shop.h_seller,
        order["id"],
        requests_of(app, shop, order["id"])[-1].id,
        approve=False,
    )
    after = sub_of(client.get(f"{API}/{order['id']}/", headers=shop.h).get_json(), shop.seller.id)
    assert after["status"] == "delivered" and [x["returned_quantity"] for x in after["lines"]] == [
        0,
        0,
    ]
    # the two units can be asked for again; with the shipping, explicitly
    assert ask(client, shop.h, order["id"], (a["id"], 2), include_shipping=True).status_code == 200
    request = requests_of(app, shop, order["id"])[-1]
    shipping = Decimal(sub["total"]) - Decimal(a["total"]) - Decimal(b["total"])
    assert request.shipping_amount == shipping and request.amount == Decimal(a["total"]) + shipping
    decide(client, shop.h_seller, order["id"], request.id)
    # the other line's unit: no shipping a second time
    assert ask(client, shop.h, order["id"], (b["id"], 1)).status_code == 200
    request = requests_of(app, shop, order["id"])[-1]
    assert request.shipping_amount == 0 and request.amount == Decimal(b["total"])
    decide(client, shop.h_seller, order["id"], request.id)
    body = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert sub_of(body, shop.seller.id)["status"] == "refunded" and Decimal(
        body["refunded_total"]
    ) == Decimal(sub["total"])


def test_units_refunded_before_shipping_are_released_and_the_rest_ships(app, client, factory, shop):
    item = factory.product(shop.seller, price="4.00", stock=10)
    order = place(client, shop, items=[(item.variant_id, 3)], payment=CARD_OK)
    line = sub_of(order, shop.seller.id)["lines"][0]
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (10, 3)
    assert ask(client, shop.h, order["id"], (line["id"], 1)).status_code == 200
    body = decide(client, shop.h_seller, order["id"], requests_of(app, shop, order["id"])[-1].id)
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (10, 2)
    sub = sub_of(body, shop.seller.id)
    assert sub["status"] == "partially_refunded" and {"processing", "shipped"} <= set(
        sub["allowed_transitions"]
    )
    assert patch(client, shop.h_seller, order["id"], status="shipped").status_code == 200
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (
        8,
        0,
    )  # two units sold, one never left
    with app.app_context(), tenant_scope(shop.tenant.id):
        assert [
            (r.quantity, r.status)
            for r in db.session.scalars(
                select(StockReservation).where(StockReservation.order_line_id == line["id"])
            )
        ] == [(2, "consumed")]


def test_a_partially_refunded_shipped_sub_order_does_not_ship_again(app, client, factory, shop):
    item = factory.product(shop.seller, price="4.00", stock=10)
    order = delivered(client, shop, [(item.variant_id, 2)])
    line = sub_of(order, shop.seller.id)["lines"][0]
    ask(client, shop.h, order["id"], (line["id"], 1))
    body = decide(client, shop.h_seller, order["id"], requests_of(app, shop, order["id"])[-1].id)
    sub = sub_of(body, shop.seller.id)
    # delivered before the refund: completing it (and more refunds) is still possible
    assert sub["allowed_transitions"] == ["completed", "refund_requested", "refunded"]
    err = error(
        patch(client, shop.h_seller, order["id"], status="shipped"), 409, "illegal_transition"
    )
    assert err["details"]["allowed"] == ["completed", "refund_requested", "refunded"]


def test_line_refund_validation(app, client, factory, shop):
    order = delivered(client, shop, [(shop.product.variant_id, 2), (shop.product2.variant_id, 1)])
    line = sub_of(order, shop.seller.id)["lines"][0]
    other_line = sub_of(order, shop.seller2.id)["lines"][0]
    stranger = place(client, shop, h=shop.h_other, payment=CARD_OK)
    error(ask(client, shop.h, order["id"], (stranger["sub_orders"][0]["lines"][0]["id"], 1)), 404)
    error(
        ask(
            client,
            shop.h,
            order["id"],
            (line["id"], 1),
            sub_order_id=sub_of(order, shop.seller2.id)["id"],
        ),
        404,
    )
    err = error(ask(client, shop.h, order["id"], (line["id"], 0)), 422)
    assert "lines" in err["details"]
    error(ask(client, shop.h, order["id"], (line["id"], 1), amount="1.00"), 422)
    error(ask(client, shop.h, order["id"], (line["id"], 1), restock=True), 422)
    error(
        client.post(
            f"{API}/{order['id']}/refund/",
            headers=shop.h,
            json={"reason": "x", "include_shipping": True},
        ),
        422,
    )
    error(
        client.post(
            f"{API}/{order['id']}/refund/", headers=shop.h, json={"reason": "x", "lines": []}
        ),
        422,
    )
    error(
        client.post(
            f"{API}/{order['id']}/refund/",
            headers=shop.h_seller,
            json={
                "request_id": 1,
                "approve": True,
                "lines": [{"line_id": line["id"], "quantity": 1}],
            },
        ),
        422,
    )
    error(ask(client, shop.h, order["id"], (line["id"], 3)), 422)
    # the other seller's sub-order is paid, not shipped: its line can be asked for too
    response = ask(client, shop.h, order["id"], (line["id"], 1), (other_line["id"], 1))
    assert response.status_code == 200, response.get_json()
    assert [s["status"] for s in response.get_json()["sub_orders"]] == [
        "refund_requested",
        "refund_requested",
    ]
    assert len(requests_of(app, shop, order["id"])) == 2  # one request per sub-order
    pending = place(client, shop)
    error(
        ask(client, shop.h, pending["id"], (pending["sub_orders"][0]["lines"][0]["id"], 1)),
        409,
        "illegal_transition",
    )


def concurrently(app, n: int, call) -> list[int]:
    """`call(client)` from n threads released together; their status codes."""
    barrier = threading.Barrier(n)
    codes: list[int] = []

    def run():
        with app.test_client() as c:
            barrier.wait()
            codes.append(call(c).status_code)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


def test_concurrent_line_requests_never_exceed_the_units_or_the_capture(app, client, factory, shop):
    """Real threads on MariaDB: rounds of 6 concurrent requests for 2 units of a 5-unit line, each
    round's request approved by 2 concurrent approvals, until nothing more can be asked for."""
    item = factory.product(shop.seller, price="3.33", stock=10)
    order = delivered(client, shop, [(item.variant_id, 5)])
    sub = sub_of(order, shop.seller.id)
    line = sub["lines"][0]
    codes: list[int] = []
    for _ in range(4):
        codes += concurrently(app, 6, lambda c: ask(c, shop.h, order["id"], (line["id"], 2)))
        live = [r.id for r in requests_of(app, shop, order["id"]) if r.status == "requested"]
        assert len(live) <= 1
        if (
            live
        ):  # two concurrent approvals of the request: one wins, the other is told it was decided
            approvals = concurrently(
                app,
                2,
                lambda c, rid=live[0]: c.post(
                    f"{API}/{order['id']}/refund/",
                    headers=shop.h_seller,
                    json={"request_id": rid, "approve": True},
                ),
            )
            assert sorted(approvals) == [200, 409]
    assert codes.count(200) == 2, codes  # 2 + 2 units; the fifth cannot be asked for in twos
    assert set(codes) <= {200, 409, 422}
    requests = requests_of(app, shop, order["id"])
    units = sum(rl.quantity for r in requests for rl in r.lines)
    assert units == 4 <= line["quantity"]
    assert all(r.status == "completed" for r in requests)
    assert (
        sum(r.amount for r in requests)
        == share(Decimal(line["total"]), 4, 5)
        <= Decimal(sub["total"])
    )
    body = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert Decimal(body["refunded_total"]) == sum(r.amount for r in requests)
    from app.payments.models import Payment

    with app.app_context(), tenant_scope(shop.tenant.id):
        payment = db.session.scalar(select(Payment).where(Payment.order_id == order["id"]))
        assert payment.amount_refunded == sum(r.amount for r in requests) <= payment.amount_captured
