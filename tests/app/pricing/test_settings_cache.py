"""The tenant's tax setting, tax rules, shipping methods and automatic promotions are cached
between requests (app.core.cache.remember; namespaces "tax_rules", "shipping_methods" and
"promotions"): a second pricing reads none of their tables, and every committed change to a rule,
a setting, a zone, a method, a bracket or a promotion (its redemption counter too) is priced by the
very next request, in this process and in any other (the versions live in Redis when it is
configured)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from sqlalchemy import event, select, update

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.pricing.engine import price
from app.promotions.models import Promotion
from app.shipping.models import ShippingMethod, ShippingRateBracket, ShippingZone
from app.tax.models import TaxRule, TaxSettings
from tests.builders.pricing import NOW, line, request_for

TABLES = (
    "tax_settings",
    "tax_rules",
    "shipping_zones",
    "shipping_methods",
    "shipping_rate_brackets",
    "promotions",
)


def _price(app, shop, quantity=1):
    """(tax total, shipping total, method ids, tables of TABLES read) of one pricing, as a request."""
    result, read = _run(app, shop, quantity)
    return result.tax_total, result.shipping_total, [q.method_id for q in result.shipping], read


def _run(app, shop, quantity=1):
    read = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        read.extend(t for t in TABLES if f"FROM {t}" in statement)

    with app.app_context(), tenant_scope(shop.tenant.id):
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            result = price(request_for(shop, line(shop.seller.id, "10.00", quantity)))
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
            db.session.remove()
    return result, sorted(set(read))


def _change(app, shop, model, row_id, **values):
    with app.app_context(), tenant_scope(shop.tenant.id):
        row = db.session.scalar(select(model).where(model.id == row_id))
        for name, value in values.items():
            setattr(row, name, value)
        db.session.commit()


def test_cached_tax_and_shipping_follow_every_committed_change(app, shop):
    b = shop.build
    rule = b.tax("0.2000")
    zone = b.zone("FR")
    flat = b.method(zone, name="Flat", flat_rate="4.90")
    # 10.00 at 20 % = 2.00, shipping 4.90 at 20 % = 0.98
    assert _price(app, shop) == (D("2.98"), D("4.90"), [flat], sorted(TABLES))
    assert _price(app, shop) == (D("2.98"), D("4.90"), [flat], [])  # cached: none of them read

    _change(app, shop, TaxRule, rule, rate=D("0.1000"))
    assert _price(app, shop)[:3] == (D("1.49"), D("4.90"), [flat])  # 1.00 + 0.49
    _change(app, shop, ShippingMethod, flat, flat_rate=D("3.00"))
    assert _price(app, shop)[:3] == (D("1.30"), D("3.00"), [flat])

    weight = b.method(
        zone, name="By price", rate_type="price", position=-1, brackets=(("0", None, "2.50"),)
    )
    assert _price(app, shop)[:3] == (D("1.25"), D("2.50"), [weight])  # the cheaper new method
    with app.app_context(), tenant_scope(shop.tenant.id):
        bracket = db.session.scalar(
            select(ShippingRateBracket.id).where(ShippingRateBracket.method_id == weight)
        )
    _change(app, shop, ShippingRateBracket, bracket, rate=D("6.00"))
    assert _price(app, shop)[:3] == (D("1.30"), D("3.00"), [flat])

    b.settings(True)  # prices now include tax: 10.00 holds 0.91 of 10 % VAT, 3.00 holds 0.27
    assert _price(app, shop)[:3] == (D("1.18"), D("3.00"), [flat])
    with app.app_context(), tenant_scope(shop.tenant.id):
        settings = db.session.scalar(select(TaxSettings.id))
    _change(app, shop, TaxSettings, settings, prices_include_tax=False)
    _change(app, shop, TaxRule, rule, is_active=False)
    assert _price(app, shop)[:3] == (D("0"), D("3.00"), [flat])

    _change(app, shop, ShippingZone, zone, is_active=False)
    assert _price(app, shop)[:3] == (D("0"), D("0"), [None])
    assert _price(app, shop)[3] == []  # and that answer is cached too


def test_cached_automatic_promotions_follow_every_committed_change(app, shop):
    day = dt.timedelta(days=1)
    promo = shop.build.promotion(
        "percentage", "10", starts_at=NOW - day, ends_at=NOW + day, usage_limit=2
    )

    def discount():
        result, read = _run(app, shop, quantity=3)  # 30.00
        return result.discount_total, [a.promotion_id for a in result.applied_promotions], read

    first = discount()
    assert first[:2] == (D("3.00"), [promo]) and "promotions" in first[2]
    assert discount() == (D("3.00"), [promo], [])  # cached

    _change(app, shop, Promotion, promo, value=D("25"))
    assert discount()[:2] == (D("7.50"), [promo])
    _change(app, shop, Promotion, promo, ends_at=NOW - dt.timedelta(seconds=1))
    assert discount()[:2] == (D("0.00"), [])
    _change(app, shop, Promotion, promo, ends_at=NOW + day)
    assert discount()[:2] == (D("7.50"), [promo])
    with (
        app.app_context(),
        tenant_scope(shop.tenant.id),
    ):  # two redemptions, as checkout counts them
        db.session.execute(
            update(Promotion)
            .where(Promotion.id == promo)
            .values(uses_count=Promotion.uses_count + 2)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    assert discount()[:2] == (D("0.00"), [])  # exhausted
    _change(app, shop, Promotion, promo, usage_limit=None)
    assert discount()[:2] == (D("7.50"), [promo])
    _change(app, shop, Promotion, promo, is_active=False)
    assert discount()[:2] == (D("0.00"), [])
    assert discount() == (D("0.00"), [], [])  # the empty list is cached too
