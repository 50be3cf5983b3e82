"""price() rounds at the line to the basket currency's unit: whole yen for JPY (CLDR's exponent
through babel), cents for EUR; the same basket priced in both shows the difference."""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D

from app.pricing.engine import price
from tests.builders.pricing import line, request_for


def _jpy(request):
    return dataclasses.replace(request, currency="JPY")


def test_a_yen_basket_is_rounded_to_whole_yen_at_every_line(ctx, shop):
    shop.build.tax("0.0800")
    shop.build.method(shop.build.zone("FR"), flat_rate="505")
    shop.build.promotion("percentage", "15")
    basket = (line(shop.seller.id, "333", 1), line(shop.seller2.id, "1001", 1))
    yen = price(_jpy(request_for(shop, *basket)))
    # 333 * 15 % = 49.95 -> 50; taxable 283 * 8 % = 22.64 -> 23
    # 1001 * 15 % = 150.15 -> 150; taxable 851 * 8 % = 68.08 -> 68
    assert [(pl.discount_total, pl.taxable_amount, pl.tax_total, pl.total) for pl in yen.lines] == [
        (D("50"), D("283"), D("23"), D("306")),
        (D("150"), D("851"), D("68"), D("919")),
    ]
    # shipping 505 per seller, its tax 505 * 8 % = 40.4 -> 40
    assert [(q.cost, q.tax_total) for q in yen.shipping] == [
        (D("505"), D("40")),
        (D("505"), D("40")),
    ]
    # 306 + 919 + 2 * (505 + 40)
    assert (yen.discount_total, yen.tax_total, yen.total) == (D("200"), D("171"), D("2315"))
    figures = [yen.subtotal, yen.discount_total, yen.tax_total, yen.shipping_total, yen.total]
    figures += [pl.total for pl in yen.lines] + [t.amount for pl in yen.lines for t in pl.tax]
    assert all(f == f.to_integral_value() for f in figures), figures
    # the same basket in euros keeps its cents
    euro = price(request_for(shop, *basket))
    assert [(pl.discount_total, pl.tax_total) for pl in euro.lines] == [
        (D("49.95"), D("22.64")),
        (D("150.15"), D("68.07")),
    ]


def test_a_fixed_discount_is_spread_over_lines_in_whole_yen(ctx, shop):
    shop.build.promotion("fixed_amount", "100")
    yen = price(
        _jpy(
            request_for(
                shop,
                line(shop.seller.id, "333", 1),
                line(shop.seller.id, "334", 1),
                line(shop.seller2.id, "335", 1),
            )
        )
    )
    parts = [pl.discount_total for pl in yen.lines]
    assert sum(parts) == D("100") and all(p == p.to_integral_value() for p in parts), parts
