"""The admin reads like a shop (admin.formatting, applied by MarketModelView to every list and show
page): money with its currency in the tenant's locale, rates as percentages, times in the display
time zone to the minute with the exact value on hover, booleans as icons, None and [] blank, names
and links instead of ids, and for a Super Admin the tenant of every row."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from markupsafe import Markup

from admin import formatting
from app.extensions import db
from app.orders.models import Order, SubOrder
from app.payments.models import Payment
from app.sellers.models import SellerProfile
from app.tax.models import TaxRule
from tests.builders.admin import login, scope

EN = formatting.shop("en", "USD", "UTC")


# --- one value ------------------------------------------------------------------------------------


def test_money_has_its_currency_symbol_in_the_tenants_locale():
    assert _text(formatting.money(Decimal("1234.5"), "USD", EN)) == "$1,234.50"
    assert _text(formatting.money(Decimal("1234.5"), None, EN)) == "$1,234.50"  # tenant's currency
    assert _text(formatting.money(Decimal("1200.00"), "JPY", EN)) == "¥1,200"  # no minor unit
    assert _text(formatting.money(Decimal("0"), "EUR", EN)) == "€0.00"
    french = formatting.shop("fr", "EUR")
    assert _text(formatting.money(Decimal("1234.5"), None, french)) == "1\u202f234,50\xa0€"
    assert formatting.money(None, "USD", EN) == ""


def test_rates_stored_as_fractions_read_as_percentages():
    assert _text(formatting.percent(Decimal("0.0950"), EN)) == "9.5%"
    assert _text(formatting.percent(Decimal("0.1000"), EN)) == "10%"
    assert _text(formatting.percent(Decimal("0.1250"), formatting.shop("de"))) == "12,5%"
    assert formatting.percent(None, EN) == ""


def test_times_to_the_minute_in_the_display_zone_with_the_exact_value_on_hover():
    stored = dt.datetime(2026, 3, 4, 22, 5, 59, 123456, tzinfo=dt.UTC)
    html = formatting.when(stored, EN)
    assert _text(html) == "Mar 4, 2026 10:05\u202fPM"
    assert 'title="2026-03-04 22:05:59.123456 UTC (shown in UTC)"' in html
    paris = formatting.when(stored, formatting.shop("fr", "EUR", "Europe/Paris"))
    assert _text(paris) == "4 mars 2026 23:05"  # UTC+1 in March, the French way
    assert _text(formatting.when(dt.date(2026, 3, 4), EN)) == "Mar 4, 2026"
    assert formatting.when(None, EN) == ""
    # an unknown zone or language falls back to UTC and English rather than failing a page
    odd = formatting.shop("xx-nope", None, "Mars/Olympus")
    assert _text(formatting.when(stored, odd)) == "Mar 4, 2026 10:05\u202fPM"


def test_booleans_are_icons_with_a_word_for_screen_readers():
    yes, no = formatting.flag(True), formatting.flag(False)
    assert "fa-check" in yes and '<span class="sr-only">Yes</span>' in yes and "True" not in yes
    assert "fa-times" in no and '<span class="sr-only">No</span>' in no and "False" not in no
    assert formatting.flag(None) == ""
    assert formatting.plain(True, EN) == yes


def test_none_and_empty_lists_are_blank_and_text_is_escaped():
    assert formatting.plain(None, EN) == "" and "None" not in formatting.plain(None, EN)
    assert formatting.plain([], EN) == "" and formatting.plain((), EN) == ""
    assert formatting.plain(["a", None, "b"], EN) == "a, b"
    hostile = formatting.plain("<script>alert(1)</script>", EN)
    assert "<script>" not in hostile and "&lt;script&gt;" in hostile
    assert formatting.plain(["<b>x</b>"], EN) == "&lt;b&gt;x&lt;/b&gt;"
    assert isinstance(formatting.link("<i>x</i>", "/a?b=1&c=2"), Markup)
    assert formatting.link("<i>x</i>", "/a?b=1&c=2") == (
        '<a href="/a?b=1&amp;c=2">&lt;i&gt;x&lt;/i&gt;</a>'
    )


def test_json_objects_read_one_key_a_line():
    shown = formatting.plain({"status": "paid", "note": None, "lines": [1, 2], "x": "<b>"}, EN)
    assert shown == "status: paid\nnote: \nlines: [1, 2]\nx: &lt;b&gt;"
    assert formatting.plain({}, EN) == ""


def test_column_kinds_come_from_the_column_types():
    assert formatting.column_kind(Order, "total") == formatting.MONEY_KIND
    assert formatting.column_kind(Payment, "amount_refunded") == formatting.MONEY_KIND
    assert formatting.column_kind(SellerProfile, "commission_rate") == formatting.RATE_KIND
    assert formatting.column_kind(TaxRule, "rate") == formatting.RATE_KIND  # a RATE column
    assert formatting.column_kind(SubOrder, "order.total") == formatting.MONEY_KIND  # dotted
    assert formatting.column_kind(Order, "number") is None
    assert formatting.column_kind(Order, "created_at") is None  # by its value's type instead
    assert formatting.column_kind(Order, "no_such_rate") == formatting.RATE_KIND  # by its name


def test_display_formats_by_kind_and_leaves_other_decimals_alone():
    assert _text(formatting.display(Decimal("5"), formatting.MONEY_KIND, EN, "EUR")) == "€5.00"
    assert _text(formatting.display(Decimal("0.2"), formatting.RATE_KIND, EN)) == "20%"
    assert formatting.display(Decimal("4.50"), None, EN) == "4.50"  # a rating stays a number
    assert formatting.display(None, formatting.MONEY_KIND, EN) == ""


# --- pages ------------------------------------------------------------------------------------------


def test_booleans_and_rates_on_a_list(app, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, "Admin")
    seller = factory.seller(tenant)
    factory.product(seller)  # and its brand, active
    client, _ = login(app, tenant.slug, admin.username)
    page = client.get("/admin/sellers/list/").get_data(as_text=True)
    row = _row_of(page, f"/admin/sellers/show/{seller.id}")
    assert "10%" in row and "0.1000" not in row  # the factory's commission rate of 0.1000
    with scope(app):
        assert db.session.get(SellerProfile, seller.id).commission_rate == Decimal("0.1000")
    brands = client.get("/admin/brands/list/").get_data(as_text=True)
    assert "fa-check" in brands and ">True<" not in brands and ">False<" not in brands


def _text(html) -> str:
    return re.sub(r"<[^>]+>", "", str(html))


def _row_of(page: str, href: str) -> str:
    """The <tr> of the list row whose buttons link to `href`."""
    at = page.index(href)
    return page[page.rindex("<tr", 0, at) : page.index("</tr>", at)]
