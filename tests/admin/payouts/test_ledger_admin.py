"""/admin/seller-ledger: a seller lists, opens and downloads only its own entries; staff see all,
download any seller's statement and add adjustments; nobody edits or deletes an entry."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.payouts.models import SellerLedgerEntry
from tests.builders.admin import login, scope
from tests.builders.ledger import Line, Sub

D = Decimal
PAGE = "/admin/seller-ledger"


@pytest.fixture
def ledger_rows(app, ledger_shop):
    shop = ledger_shop
    a, b = shop.sellers
    order_id = shop.order(
        Sub(a.id, (Line("25.00", commission="2.50"),)),
        Sub(b.id, (Line("77.70", commission="7.77"),)),
    )
    shop.pay(order_id)
    with scope(app, shop.tenant_id):
        shop.ids = {
            seller.id: list(
                db.session.scalars(
                    select(SellerLedgerEntry.id).where(SellerLedgerEntry.seller_id == seller.id)
                )
            )
            for seller in (a, b)
        }
    shop.as_a, _ = login(app, shop.tenant.slug, a.user.username)
    shop.as_admin, _ = login(app, shop.tenant.slug, shop.admin.username)
    return shop


def test_a_seller_sees_only_its_entries_and_balances(ledger_rows):
    shop = ledger_rows
    a, b = shop.sellers
    page = shop.as_a.get(f"{PAGE}/list/").get_data(as_text=True)
    assert "Your balances" in page
    assert "25.00" in page and "22.50" in page  # its sale, its pending balance
    assert "77.70" not in page and b.store_name not in page
    # another seller's entry is not found, whatever the URL says
    response = shop.as_a.get(f"{PAGE}/show/{shop.ids[b.id][0]}")
    assert response.status_code in (302, 404)
    assert "77.70" not in shop.as_a.get(
        f"{PAGE}/show/{shop.ids[b.id][0]}", follow_redirects=True
    ).get_data(as_text=True)
    assert shop.as_a.get(f"{PAGE}/show/{shop.ids[a.id][0]}").status_code == 200
    # filtering by the other seller's id finds nothing either
    page = shop.as_a.get(f"{PAGE}/list/?_flt_0_seller={b.id}").get_data(as_text=True)
    assert "77.70" not in page


def test_a_sellers_downloads_are_its_own_whatever_seller_it_names(ledger_rows):
    shop = ledger_rows
    a, b = shop.sellers
    response = shop.as_a.get(f"{PAGE}/statement/csv?seller_id={b.id}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert [(r[2], r[7], r[8]) for r in rows[1:]] == [
        ("sale", "25.00", "25.00"),
        ("commission", "-2.50", "22.50"),
    ]
    response = shop.as_a.get(f"{PAGE}/statement/xlsx?seller_id={b.id}")
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    assert [r[2] for r in list(sheet.iter_rows(values_only=True))[1:]] == ["sale", "commission"]


def test_staff_see_everyone_and_download_any_sellers_statement(ledger_rows):
    shop = ledger_rows
    a, b = shop.sellers
    page = shop.as_admin.get(f"{PAGE}/list/").get_data(as_text=True)
    assert "25.00" in page and "77.70" in page
    response = shop.as_admin.get(f"{PAGE}/statement/csv?seller_id={b.id}")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert [(r[2], r[7]) for r in rows[1:]] == [("sale", "77.70"), ("commission", "-7.77")]
    # a seller of no shop of this tenant's is refused, not downloaded
    response = shop.as_admin.get(f"{PAGE}/statement/csv?seller_id=999999")
    assert response.status_code == 302


def test_adjustments_are_for_admins_with_a_reason(app, ledger_rows):
    shop = ledger_rows
    a, _ = shop.sellers
    # a seller may not adjust
    response = shop.as_a.post(
        f"{PAGE}/adjust",
        data={"seller_id": a.id, "currency": "USD", "amount": "100", "reason": "me"},
    )
    assert response.status_code in (302, 403)
    # no reason: refused, nothing written
    response = shop.as_admin.post(
        f"{PAGE}/adjust",
        data={"seller_id": a.id, "currency": "USD", "amount": "-3.25", "reason": ""},
    )
    assert response.status_code == 200
    # too many decimals for the currency: refused with the field named
    response = shop.as_admin.post(
        f"{PAGE}/adjust",
        data={"seller_id": a.id, "currency": "JPY", "amount": "10.5", "reason": "fix"},
    )
    assert "amount" in response.get_data(as_text=True)
    with scope(app, shop.tenant_id):
        assert (
            db.session.scalar(
                select(SellerLedgerEntry).where(SellerLedgerEntry.kind == "adjustment")
            )
            is None
        )
    response = shop.as_admin.post(
        f"{PAGE}/adjust",
        data={"seller_id": a.id, "currency": "usd", "amount": "-3.25", "reason": "damaged parcel"},
    )
    assert response.status_code == 302
    with scope(app, shop.tenant_id):
        row = db.session.scalar(
            select(SellerLedgerEntry).where(SellerLedgerEntry.kind == "adjustment")
        )
        assert (row.seller_id, row.currency, row.amount, row.note, row.created_by_user_id) == (
            a.id,
            "USD",
            D("-3.25"),
            "damaged parcel",
            shop.admin.id,
        )


def test_nobody_edits_or_deletes_an_entry(ledger_rows):
    shop = ledger_rows
    entry_id = shop.ids[shop.sellers[0].id][0]
    for client in (shop.as_a, shop.as_admin):
        assert client.get(f"{PAGE}/edit/{entry_id}").status_code in (302, 403, 404)
        assert client.post(f"{PAGE}/delete/{entry_id}").status_code in (302, 403, 404, 405)
    assert "25.00" in shop.as_admin.get(f"{PAGE}/show/{entry_id}").get_data(as_text=True)
