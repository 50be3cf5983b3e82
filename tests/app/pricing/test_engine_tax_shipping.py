"""price(): tax and shipping arithmetic against hand-computed figures (Decimal, half-up at the line)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from app.core.errors import ValidationError
from app.pricing.engine import price
from app.pricing_contract import Destination
from tests.builders.pricing import line, request_for


@pytest.mark.smoke
def test_basket_without_any_rule(ctx, shop):
    result = price(
        request_for(shop, line(shop.seller.id, "19.99", 2), line(shop.seller2.id, "5.00"))
    )
    assert (
        result.subtotal,
        result.discount_total,
        result.tax_total,
        result.shipping_total,
        result.total,
    ) == (D("44.98"), D("0"), D("0"), D("0"), D("44.98"))
    assert (
        result.prices_include_tax is False
        and result.applied_promotions == ()
        and result.rejected_coupons == {}
    )
    assert [(q.seller_id, q.method_id, q.cost) for q in result.shipping] == [
        (shop.seller.id, None, D("0")),
        (shop.seller2.id, None, D("0")),
    ]
    assert [pl.total for pl in result.lines] == [D("39.98"), D("5.00")]


@pytest.mark.smoke
def test_exclusive_tax_and_flat_shipping_taxed_at_the_standard_rate(ctx, shop):
    rule = shop.build.tax("0.2000")
    shop.build.method(shop.build.zone("FR, BE"), flat_rate="4.90")
    result = price(request_for(shop, line(shop.seller.id, "19.99", 3)))
    (pl,) = result.lines
    # 59.97 * 0.20 = 11.994 -> 11.99
    assert (pl.subtotal, pl.taxable_amount, pl.tax_total, pl.total) == (
        D("59.97"),
        D("59.97"),
        D("11.99"),
        D("71.96"),
    )
    assert (
        pl.tax[0].rule_id == rule
        and pl.tax[0].rate == D("0.2000")
        and pl.tax[0].amount == D("11.99")
    )
    (quote,) = result.shipping
    # shipping 4.90 * 0.20 = 0.98
    assert (quote.cost, quote.tax_total, quote.carrier) == (D("4.90"), D("0.98"), "manual")
    assert result.tax_total == D("12.97") and result.shipping_total == D("4.90")
    assert result.total == D("59.97") + D("11.99") + D("4.90") + D("0.98") == D("77.84")


def test_inclusive_tax_rounds_half_up_at_the_line(ctx, shop):
    shop.build.settings(prices_include_tax=True)
    shop.build.tax("0.2000")
    shop.build.method(shop.build.zone("FR"), flat_rate="6.00")
    result = price(request_for(shop, line(shop.seller.id, "19.99", 3)))
    (pl,) = result.lines
    # 59.97 - 59.97 / 1.2 = 59.97 - 49.975 = 9.995 -> 10.00 (half-up); the buyer pays 59.97
    assert (pl.tax_total, pl.taxable_amount, pl.total) == (D("10.00"), D("49.97"), D("59.97"))
    # shipping 6.00 includes 6.00 - 5.00 = 1.00 of tax
    assert (result.shipping[0].cost, result.shipping[0].tax_total) == (D("6.00"), D("1.00"))
    assert (
        result.prices_include_tax and result.total == D("65.97") and result.tax_total == D("11.00")
    )


def test_category_override_covers_descendants(ctx, shop):
    books = shop.build.category("Books")
    kids = shop.build.category("Kids", parent_id=books)
    toys = shop.build.category("Toys")
    shop.build.tax("0.2000", name="VAT FR 20%")
    shop.build.tax("0.0550", name="VAT FR books 5.5%", category_id=books)
    result = price(
        request_for(
            shop,
            line(shop.seller.id, "10.00", category_id=kids),
            line(shop.seller.id, "10.00", category_id=toys),
            line(shop.seller.id, "10.00"),
        )
    )
    assert [pl.tax_total for pl in result.lines] == [D("0.55"), D("2.00"), D("2.00")]
    assert result.lines[0].tax[0].name == "VAT FR books 5.5%"


def test_region_rules_add_up_or_replace_by_priority(ctx, shop):
    shop.build.tax("0.0500", country="CA", name="GST")
    shop.build.tax("0.0998", country="CA", region="QC", name="QST")
    basket = line(shop.seller.id, "100.00")
    qc = price(request_for(shop, basket, destination=Destination("CA", "QC")))
    assert [(c.name, c.amount) for c in qc.lines[0].tax] == [("GST", D("5.00")), ("QST", D("9.98"))]
    assert qc.lines[0].tax_total == D("14.98")
    on = price(request_for(shop, basket, destination=Destination("CA", "ON")))
    assert [(c.name, c.amount) for c in on.lines[0].tax] == [("GST", D("5.00"))]
    shop.build.tax("0.1300", country="CA", region="ON", name="HST", priority=1)
    on = price(request_for(shop, basket, destination=Destination("CA", "ON")))
    assert [(c.name, c.amount) for c in on.lines[0].tax] == [("HST", D("13.00"))]


def test_inclusive_components_add_up_to_the_line_tax(ctx, shop):
    shop.build.settings(prices_include_tax=True)
    shop.build.tax("0.0500", country="CA", name="GST")
    shop.build.tax("0.0998", country="CA", region="QC", name="QST")
    result = price(
        request_for(shop, line(shop.seller.id, "10.00"), destination=Destination("CA", "QC"))
    )
    (pl,) = result.lines
    # 10.00 - 10.00 / 1.1498 = 1.3028... -> 1.30; GST 10 * .05 / 1.1498 = 0.4348 -> 0.43; QST the rest 0.87
    assert pl.tax_total == D("1.30") and [c.amount for c in pl.tax] == [D("0.43"), D("0.87")]
    assert pl.taxable_amount == D("8.70") and pl.total == D("10.00")


def test_three_line_rounding_at_the_line_differs_from_rounding_the_total(ctx, shop):
    shop.build.tax("0.1000")
    result = price(request_for(shop, *(line(shop.seller.id, "1.25") for _ in range(3))))
    # each line 1.25 * 0.10 = 0.125 -> 0.13; the basket total would give 3.75 * 0.10 = 0.375 -> 0.38
    assert [pl.tax_total for pl in result.lines] == [D("0.13")] * 3
    assert result.tax_total == D("0.39") and result.total == D("4.14")


def test_free_over_threshold(ctx, shop):
    shop.build.method(shop.build.zone("FR"), flat_rate="4.90", free_over="50.00")
    under = price(request_for(shop, line(shop.seller.id, "49.99")))
    at = price(request_for(shop, line(shop.seller.id, "25.00", 2)))
    assert under.shipping[0].cost == D("4.90") and under.total == D("54.89")
    assert at.shipping[0].cost == D("0") and at.total == D("50.00")


def test_weight_brackets(ctx, shop):
    method = shop.build.method(
        shop.build.zone("FR"),
        rate_type="weight",
        brackets=(("0", "1", "3.00"), ("1", "5", "7.50"), ("5", None, "15.00")),
    )

    def cost(weight, qty):
        return price(request_for(shop, line(shop.seller.id, "10.00", qty, weight=weight))).shipping[
            0
        ]

    assert cost("0.400", 2).cost == D("3.00")  # 0.8 kg
    assert cost("0.500", 2).cost == D("7.50")  # 1.0 kg: the upper bound is exclusive
    assert cost("2.500", 3).cost == D("15.00")  # 7.5 kg: open-ended bracket
    assert cost("0.400", 2).method_id == method


def test_price_brackets_and_uncovered_parcels(ctx, shop):
    zone = shop.build.zone("FR")
    shop.build.method(
        zone,
        name="By value",
        rate_type="price",
        brackets=(("0", "20", "5.00"), ("20", "100", "3.00")),
    )
    assert price(request_for(shop, line(shop.seller.id, "19.99"))).shipping[0].cost == D("5.00")
    assert price(request_for(shop, line(shop.seller.id, "20.00"))).shipping[0].cost == D("3.00")
    # 100.00 is outside every bracket: the method is not offered, and no other serves FR
    assert price(request_for(shop, line(shop.seller.id, "100.00"))).shipping[0].method_id is None


def test_one_quote_per_seller_seller_methods_and_choice(ctx, shop):
    zone = shop.build.zone("FR, US-CA")
    platform = shop.build.method(zone, name="Platform", flat_rate="5.00")
    express = shop.build.method(
        zone, name="Platform express", flat_rate="12.00", carrier_code="manual"
    )
    own = shop.build.method(zone, name="Seller 2 own", flat_rate="2.00", seller_id=shop.seller2.id)
    basket = (line(shop.seller.id, "10.00"), line(shop.seller2.id, "10.00"))
    result = price(request_for(shop, *basket))
    assert [(q.seller_id, q.method_id, q.cost) for q in result.shipping] == [
        (shop.seller.id, platform, D("5.00")),
        (shop.seller2.id, own, D("2.00")),
    ]
    chosen = price(
        request_for(
            shop, *basket, shipping_method_ids={shop.seller.id: express, shop.seller2.id: platform}
        )
    )
    # seller 2 has its own method here, so the platform one is not offered to it: the default stays
    assert [q.method_id for q in chosen.shipping] == [express, own] and chosen.shipping_total == D(
        "14.00"
    )
    assert price(
        request_for(shop, *basket, destination=Destination("US", "CA"))
    ).shipping_total == D("7.00")
    assert price(
        request_for(shop, *basket, destination=Destination("US", "NY"))
    ).shipping_total == D("0")


def test_tenants_do_not_see_each_others_rules(ctx, shop, factory, app):
    from tests.builders.pricing import Builder

    other = factory.tenant()
    Builder(app, other.id).tax("0.2000")
    result = price(request_for(shop, line(shop.seller.id, "10.00")))
    assert result.tax_total == D("0")


def test_bad_lines_are_refused(ctx, shop):
    with pytest.raises(ValidationError) as err:
        price(
            request_for(
                shop,
                line(shop.seller.id, "10.00", 0),
                line(shop.seller.id, "-1.00", key="x"),
                line(shop.seller.id, "1.00", key="x"),
            )
        )
    assert set(err.value.details) == {"lines.0.quantity", "lines.1.unit_price", "lines.2.key"}
