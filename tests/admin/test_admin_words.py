"""Enumerations read as words everywhere in the admin ("Refund requested", not refund_requested):
list cells and show pages (a state as a coloured badge, one colour per state on every page), the
list filters' selects, and the order and sub-order pages through the `words` and `badge` filters."""

from __future__ import annotations

import re

from admin import formatting
from app.extensions import db
from app.orders.models import Order
from app.security import roles
from tests.builders.admin import login, scope
from tests.builders.order_rows import order_row


def _text(html) -> str:
    return re.sub(r"<[^>]+>", "", str(html))


def _row(page: str, text: str) -> str:
    """The list's <tr> holding `text` (not the search form, which repeats what was searched)."""
    return next(row for row in re.findall(r"<tr.*?</tr>", page, re.S) if text in _text(row))


def test_a_code_reads_as_words_and_a_state_as_a_badge():
    assert formatting.words("refund_requested") == "Refund requested"
    assert formatting.words("label_created") == "Label created"
    assert formatting.words(None) == ""
    badge = formatting.badge("refund_requested")
    assert _text(badge) == "Refund requested" and "label-warning" in badge
    assert "label-success" in formatting.badge("delivered")
    assert "label-danger" in formatting.badge("cancelled")
    assert "label-default" in formatting.badge("something_new")  # unknown: neutral, still words
    assert formatting.badge(None) == "" and formatting.badge("") == ""
    hostile = formatting.badge("<b>x</b>")
    assert "<b>" not in hostile and "&lt;b&gt;" in hostile


def test_lists_show_pages_and_filters_say_statuses_in_words(app, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    seller = factory.seller(tenant)
    with scope(app, tenant.id):
        order_id = order_row(seller_ids=(seller.id,), status="refund_requested")
        number = db.session.get(Order, order_id).number
    client, _ = login(app, tenant.slug, admin.username)
    listed = client.get(f"/admin/orders/list/?_flt_0_number={number}").get_data(as_text=True)
    row = _row(listed, number)
    assert "Refund requested" in _text(row) and "refund_requested" not in _text(row)
    assert 'class="label label-warning state-badge"' in row
    assert "Unpaid" in _text(row)  # its payment status, a badge too
    # the search form's status filter is a select of words (the value stays the code); FAB
    # writes the filters' inputs into the page as JSON-escaped HTML
    assert r"value=\"refund_requested\"\u003eRefund requested\u003c/option" in listed
    filtered = client.get("/admin/orders/list/?_flt_0_status=refund_requested").get_data(
        as_text=True
    )
    assert number in filtered
    subs = client.get("/admin/sub-orders/list/").get_data(as_text=True)
    assert f"{number}-1" in subs and "Refund requested" in subs
    # the order page: the same badge
    desk = client.get(f"/admin/orders/show/{order_id}").get_data(as_text=True)
    assert 'class="label label-warning state-badge" data-state="refund_requested"' in desk
    assert ">refund_requested<" not in desk and "Refund requested" in desk
