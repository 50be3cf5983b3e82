"""The ledger's entries against hand-computed cases, through the real flows: a card payment
(payment.captured -> orders marks the sub-orders paid -> order.status_changed), refund requests
approved by an admin (refund.completed), fulfilment steps (order.delivered)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.core.types import utcnow
from app.payouts import statements
from tests.builders.ledger import Line, Sub

D = Decimal


def test_paid_sub_order_with_platform_and_seller_funded_discounts_and_shipping(ledger_shop):
    shop = ledger_shop
    seller = shop.sellers[0]
    order_id = shop.order(
        Sub(
            seller.id,
            (
                # the buyer pays 90.00: 100.00 less a 10.00 discount the platform funds
                Line("90.00", commission="10.00", discounts=(("10.00", "platform"),)),
                # 3 units for 45.00: 50.00 less a 5.00 discount the seller funds
                Line("45.00", commission="4.50", quantity=3, discounts=(("5.00", "seller"),)),
            ),
            shipping="7.50",
        )
    )
    shop.pay(order_id)
    (sub_id,) = shop.sub_ids(order_id)
    line1, line2 = shop.line_ids(sub_id)

    assert shop.entries(sub_id) == [
        ("sale", D("100.00"), line1),
        ("commission", D("-10.00"), line1),
        ("sale", D("50.00"), line2),
        ("seller_discount", D("-5.00"), line2),
        ("commission", D("-4.50"), line2),
        ("shipping", D("7.50"), None),
    ]
    # what the buyer paid (142.50) + the platform's discount (10.00) - commission (14.50)
    assert shop.net(sub_id) == D("138.00")

    # a partial refund: 1 of the 3 units of line 2 (15.00 back to the buyer), a third of its
    # commission goes back to the seller
    shop.refund(order_id, lines=[(line2, 1)])
    assert shop.entries(sub_id)[6:] == [
        ("refund", D("-15.00"), line2),
        ("commission_reversal", D("1.50"), line2),
    ]
    assert shop.net(sub_id) == D("124.50")

    # the rest: line 1 (its platform-funded 10.00 goes back too), 2 units of line 2, shipping
    shop.refund(order_id, lines=[(line1, 1), (line2, 2)])
    assert shop.entries(sub_id)[8:] == [
        ("refund", D("-100.00"), line1),
        ("commission_reversal", D("10.00"), line1),
        ("refund", D("-30.00"), line2),
        ("commission_reversal", D("3.00"), line2),
        ("refund", D("-7.50"), None),
    ]
    assert shop.net(sub_id) == D("0.00")


def test_zero_decimal_currency_and_a_partial_amount_refund(ledger_shop):
    shop = ledger_shop
    seller = shop.sellers[0]
    order_id = shop.order(
        Sub(
            seller.id,
            (Line("1000", commission="110", discounts=(("100", "platform"),)),),
            shipping="500",
        ),
        currency="JPY",
    )
    shop.pay(order_id)
    (sub_id,) = shop.sub_ids(order_id)
    (line,) = shop.line_ids(sub_id)
    assert shop.entries(sub_id) == [
        ("sale", D("1100"), line),
        ("commission", D("-110"), line),
        ("shipping", D("500"), None),
    ]
    # 333 of the sub-order's 1500 back: p = 0.222 of its worth to the seller (1500 + 100 the
    # platform funded = 1600 -> 355.2 -> 355 yen) and of its commission (24.42 -> 24 yen)
    shop.refund(order_id, sub_order_id=sub_id, amount="333")
    assert shop.entries(sub_id)[3:] == [
        ("refund", D("-355"), None),
        ("commission_reversal", D("24"), None),
    ]
    for _, amount, _ in shop.entries(sub_id):
        assert amount == amount.to_integral_value()  # whole yen, always
    assert shop.net(sub_id) == D("1490") - D("355") + D("24")


def test_two_sellers_each_get_their_own_sub_order_and_a_per_order_commission(ledger_shop):
    shop = ledger_shop
    a, b = shop.sellers
    order_id = shop.order(
        Sub(a.id, (Line("20.00", commission="2.00"),), shipping="5.00", extra_commission="0.30"),
        Sub(b.id, (Line("30.00", commission="4.50"),)),
    )
    shop.pay(order_id)
    sub_a, sub_b = shop.sub_ids(order_id)
    assert [e[:2] for e in shop.entries(seller_id=a.id)] == [
        ("sale", D("20.00")),
        ("commission", D("-2.00")),
        ("shipping", D("5.00")),
        ("commission", D("-0.30")),
    ]
    assert [e[:2] for e in shop.entries(seller_id=b.id)] == [
        ("sale", D("30.00")),
        ("commission", D("-4.50")),
    ]
    # refunding all of seller a's sub-order gives back the per-order part in proportion too
    shop.refund(order_id, sub_order_id=sub_a)
    assert shop.net(sub_a) == D("0.00")
    assert shop.net(sub_b) == D("25.50")


def test_rejected_refund_returns_to_paid_without_a_second_sale(ledger_shop):
    from sqlalchemy import select

    from app.extensions import db
    from app.orders import refunds as order_refunds
    from app.orders.inputs import RefundAsk
    from app.orders.models import RefundRequest

    shop = ledger_shop
    order_id = shop.order(Sub(shop.sellers[0].id, (Line("10.00", commission="1.00"),)))
    shop.pay(order_id)
    (sub_id,) = shop.sub_ids(order_id)
    shop.run(
        lambda: order_refunds.request_refund(
            shop.actor(shop.customer.user_id), order_id, RefundAsk(reason="no")
        )
    )
    request_id = shop.run(
        lambda: db.session.scalar(
            select(RefundRequest.id).where(RefundRequest.order_id == order_id)
        )
    )
    shop.run(
        lambda: order_refunds.decide_refund(
            shop.actor(shop.admin.id), order_id, request_id, approve=False
        )
    )
    assert [e[0] for e in shop.entries(sub_id)] == ["sale", "commission"]


def test_money_is_available_hold_days_after_delivery(ledger_shop):
    shop = ledger_shop
    seller = shop.sellers[0]
    shop.hold_days(7)
    order_id = shop.order(Sub(seller.id, (Line("40.00", commission="4.00"),), shipping="2.00"))
    shop.pay(order_id)
    (sub_id,) = shop.sub_ids(order_id)

    def balance(at):
        (row,) = shop.run(statements.balances, seller.id, at)
        return row.pending, row.available, row.paid

    now = utcnow()
    # paid, not delivered: everything is pending, whatever the date
    assert balance(now + dt.timedelta(days=400)) == (D("38.00"), D("0.00"), D("0.00"))
    shop.step(sub_id, "processing", "shipped", "delivered")
    assert balance(utcnow()) == (D("38.00"), D("0.00"), D("0.00"))
    assert balance(utcnow() + dt.timedelta(days=6, hours=23)) == (D("38.00"), D("0"), D("0"))
    assert balance(utcnow() + dt.timedelta(days=7, minutes=1)) == (D("0"), D("38.00"), D("0"))
