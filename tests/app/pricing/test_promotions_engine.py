"""Promotions in price(): kinds, stacking order, conditions and coupons, hand-computed (Decimal)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from app.pricing.engine import price
from app.security import roles
from tests.builders.pricing import NOW, line, request_for


def _discounts(result):
    return [pl.discount_total for pl in result.lines]


@pytest.mark.smoke
def test_percentage_then_fixed_amount_stack_on_what_is_left(ctx, shop):
    shop.build.tax("0.2000")
    pct = shop.build.promotion("percentage", "10")
    fixed = shop.build.promotion("fixed_amount", "15.00", code="FIFTEEN")
    result = price(
        request_for(
            shop,
            line(shop.seller.id, "40.00"),
            line(shop.seller.id, "20.00"),
            coupon_codes=("fifteen",),
        )
    )
    # 10 %: 4.00 + 2.00; then 15.00 split over what is left (36.00, 18.00) in proportion: 10.00 + 5.00
    assert [[(d.promotion_id, d.amount) for d in pl.discounts] for pl in result.lines] == [
        [(pct, D("4.00")), (fixed, D("10.00"))],
        [(pct, D("2.00")), (fixed, D("5.00"))],
    ]
    assert _discounts(result) == [D("14.00"), D("7.00")] and result.discount_total == D("21.00")
    # tax on the discounted amounts: 26.00 * 0.2 = 5.20, 13.00 * 0.2 = 2.60
    assert [pl.tax_total for pl in result.lines] == [D("5.20"), D("2.60")]
    assert result.total == D("46.80")
    assert [(a.promotion_id, a.code, a.discount_total) for a in result.applied_promotions] == [
        (pct, None, D("6.00")),
        (fixed, "FIFTEEN", D("15.00")),
    ]
    assert result.lines[0].discounts[0].funded_by == "platform"


def test_fixed_amount_split_adds_up_to_the_cent(ctx, shop):
    shop.build.promotion("percentage", "10")
    shop.build.promotion("fixed_amount", "10.00")
    result = price(request_for(shop, line(shop.seller.id, "40.00"), line(shop.seller.id, "20.00")))
    # 10.00 over 36 : 18 = 6.666.. + 3.333..: floors 6.66 + 3.33, the last cent to the larger remainder
    assert [pl.discounts[1].amount for pl in result.lines] == [D("6.67"), D("3.33")]


def test_buy_x_get_y_discounts_the_cheapest_units(ctx, shop):
    shop.build.promotion("buy_x_get_y", "100", buy_quantity=2, get_quantity=1)
    result = price(
        request_for(shop, line(shop.seller.id, "10.00", 2), line(shop.seller.id, "4.00", 2))
    )
    # 4 units (10, 10, 4, 4): one full group of 3, its cheapest unit free
    assert _discounts(result) == [D("0"), D("4.00")] and result.total == D("24.00")


def test_buy_one_get_one_half_price(ctx, shop):
    shop.build.promotion("buy_x_get_y", "50", buy_quantity=1, get_quantity=1)
    result = price(
        request_for(shop, line(shop.seller.id, "10.00", 2), line(shop.seller.id, "4.99", 3))
    )
    # units 10, 10, 4.99, 4.99, 4.99: two groups of 2, the two cheapest half price: 2 * 4.99 * 0.5 = 4.99
    assert _discounts(result) == [D("0"), D("4.99")]


def test_discounts_never_take_a_line_below_zero(ctx, shop):
    shop.build.tax("0.2000")
    shop.build.promotion("percentage", "50")
    shop.build.promotion("fixed_amount", "100.00")
    result = price(request_for(shop, line(shop.seller.id, "30.00"), line(shop.seller.id, "0.99")))
    assert [pl.total for pl in result.lines] == [D("0"), D("0")] and result.tax_total == D("0")
    assert result.discount_total == result.subtotal == D("30.99")


def test_seller_funded_promotion_discounts_only_that_sellers_lines(ctx, shop):
    promo = shop.build.promotion("percentage", "50", funded_by="seller", seller_id=shop.seller2.id)
    result = price(request_for(shop, line(shop.seller.id, "10.00"), line(shop.seller2.id, "10.00")))
    assert _discounts(result) == [D("0"), D("5.00")]
    assert (
        result.lines[1].discounts[0].funded_by == "seller"
        and result.lines[1].discounts[0].promotion_id == promo
    )


def test_free_shipping_coupon_and_free_over(ctx, shop):
    shop.build.tax("0.2000")
    shop.build.method(shop.build.zone("FR"), flat_rate="4.90")
    promo = shop.build.promotion("free_shipping", code="SHIPFREE", seller_ids=[shop.seller.id])
    result = price(
        request_for(
            shop,
            line(shop.seller.id, "10.00"),
            line(shop.seller2.id, "10.00"),
            coupon_codes=("ShipFree",),
        )
    )
    assert [(q.cost, q.free_shipping_promotion_id, q.tax_total) for q in result.shipping] == [
        (D("0"), promo, D("0")),
        (D("4.90"), None, D("0.98")),
    ]
    assert result.applied_promotions[0].discount_total == D("4.90") and result.discount_total == D(
        "0"
    )
    assert result.total == D("12.00") + D("12.00") + D("4.90") + D("0.98")


def test_conditions_products_categories_and_min_subtotal(ctx, shop):
    books = shop.build.category("Books")
    kids = shop.build.category("Kids", parent_id=books)
    shop.build.promotion("percentage", "10", category_ids=[books])
    shop.build.promotion("fixed_amount", "1.00", product_ids=[777001])
    shop.build.promotion("fixed_amount", "5.00", min_subtotal="100.00")
    result = price(
        request_for(
            shop,
            line(shop.seller.id, "20.00", category_id=kids),
            line(shop.seller.id, "20.00", product_id=777001),
            line(shop.seller.id, "20.00"),
        )
    )
    assert _discounts(result) == [D("2.00"), D("1.00"), D("0")]  # 60.00 < 100.00: no 5.00 off


def test_coupon_reasons(ctx, shop):
    b = shop.build
    b.promotion("percentage", "10", code="EXPIRED", ends_at=NOW - dt.timedelta(days=1))
    b.promotion("percentage", "10", code="LATER", starts_at=NOW + dt.timedelta(days=1))
    b.promotion("percentage", "10", code="USEDUP", usage_limit=3, uses_count=3)
    b.promotion("percentage", "10", code="PREMIUM", customer_role=roles.PREMIUM_CUSTOMER)
    b.promotion("percentage", "10", code="WELCOME", first_order_only=True)
    b.promotion("percentage", "10", code="BIGBASKET", min_subtotal="50.00")
    b.promotion("percentage", "10", code="OFF", is_active=False)
    b.promotion("percentage", "10", code="ONCE", usage_limit_per_customer=1)
    codes = ("expired", "later", "usedup", "premium", "welcome", "bigbasket", "off", "once", "nope")
    guest = price(request_for(shop, line(shop.seller.id, "20.00"), coupon_codes=codes))
    assert guest.rejected_coupons == {
        "EXPIRED": "expired",
        "LATER": "not_started",
        "USEDUP": "exhausted",
        "PREMIUM": "customer_role",
        "WELCOME": "first_order",
        "BIGBASKET": "min_subtotal",
        "OFF": "inactive",
        "ONCE": "login_required",
        "NOPE": "unknown",
    }
    assert guest.applied_promotions == ()
    premium = price(
        request_for(
            shop,
            line(shop.seller.id, "20.00"),
            coupon_codes=("premium", "welcome", "once"),
            customer_user_id=shop.seller.user.id,
            is_first_order=True,
            customer_roles=frozenset({roles.PREMIUM_CUSTOMER}),
        )
    )
    assert premium.rejected_coupons == {} and len(premium.applied_promotions) == 3
    # 10 % three times, each on what is left: 2.00, 1.80, 1.62
    assert premium.lines[0].discount_total == D("5.42")


def test_non_stackable_promotions(ctx, shop):
    b = shop.build
    b.promotion("percentage", "20", stackable=False, priority=10, name="Big sale")
    b.promotion("fixed_amount", "2.00", code="TWO")
    result = price(request_for(shop, line(shop.seller.id, "10.00"), coupon_codes=("TWO",)))
    assert _discounts(result) == [D("2.00")] and result.rejected_coupons == {
        "TWO": "not_combinable"
    }
    # a non-stackable coupon after an automatic promotion did apply is refused
    b.promotion("fixed_amount", "3.00", code="SOLO", stackable=False, priority=-1)
    result = price(request_for(shop, line(shop.seller.id, "10.00"), coupon_codes=("SOLO",)))
    assert result.rejected_coupons == {"SOLO": "not_combinable"}


def test_priority_orders_application(ctx, shop):
    b = shop.build
    fixed = b.promotion("fixed_amount", "5.00", priority=5)
    pct = b.promotion("percentage", "10", priority=1)
    result = price(request_for(shop, line(shop.seller.id, "20.00")))
    # fixed first (higher priority): 20 - 5 = 15, then 10 % of 15 = 1.50
    assert [(d.promotion_id, d.amount) for d in result.lines[0].discounts] == [
        (fixed, D("5.00")),
        (pct, D("1.50")),
    ]
