"""Reading a big ledger cheaply without changing what it says: ledger pages (found on the covering
index, deep ones from the end) against the running balances summed by hand, for every page size
and page; the XLSX statement (written as XML into the zip, not through openpyxl) read back by
openpyxl with its numbers, its text (markup characters, a control character XML refuses) and its
empty cells."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.payouts import statements
from app.payouts.models import SellerLedgerEntry

D = Decimal
AMOUNTS = [D("10.00"), D("-1.50"), D("4.90"), D("-3.00"), D("0.25")]


@pytest.fixture(scope="module")
def seller_with_entries(app):
    """23 entries of one seller (USD, and every fifth EUR) and 2 of another, oldest first."""
    from tests.builders.factories import Factory

    factory = Factory(app)
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with app.app_context(), tenant_scope(tenant.id):
        for n in range(23):
            db.session.add(
                SellerLedgerEntry(
                    seller_id=seller.id,
                    currency="EUR" if n % 5 == 4 else "USD",
                    amount=AMOUNTS[n % 5],
                    kind="adjustment",
                    note=f"entry {n}",
                    created_at=start + dt.timedelta(days=n),
                    available_at=start,
                )
            )
            if n in (3, 17):
                db.session.add(
                    SellerLedgerEntry(
                        seller_id=other.id,
                        currency="USD",
                        amount=D("99.00"),
                        kind="adjustment",
                        note="not the seller's",
                        available_at=start,
                    )
                )
        db.session.commit()
    return tenant, seller


def _expected(app, tenant, seller_id, currency=None):
    """Every entry of the seller (id, currency, running balance of its currency), by hand."""
    with app.app_context(), tenant_scope(tenant.id):
        rows = db.session.execute(
            db.select(SellerLedgerEntry.id, SellerLedgerEntry.currency, SellerLedgerEntry.amount)
            .where(SellerLedgerEntry.seller_id == seller_id)
            .order_by(SellerLedgerEntry.id)
        ).all()
    running, out = {}, []
    for entry_id, cur, amount in rows:
        running[cur] = running.get(cur, D(0)) + amount
        if currency in (None, cur):
            out.append((entry_id, cur, running[cur]))
    return out


@pytest.mark.parametrize("currency", [None, "USD", "EUR"])
@pytest.mark.parametrize("page_size", [1, 4, 5, 7, 23, 50])
def test_every_page_holds_the_entries_and_running_balances_of_an_offset_read(
    app, seller_with_entries, page_size, currency
):
    tenant, seller = seller_with_entries
    expected = _expected(app, tenant, seller.id, currency)
    pages = -(-len(expected) // page_size)
    with app.app_context(), tenant_scope(tenant.id):
        for page in range(1, pages + 2):  # one past the last: empty
            got = statements.entries_page(seller.id, page, page_size, statements.Period(), currency)
            assert got.total == len(expected)
            want = expected[(page - 1) * page_size : page * page_size]
            assert [(e.id, e.currency, e.balance) for e in got.items] == want, (page, page_size)


def test_a_page_of_a_period(app, seller_with_entries):
    tenant, seller = seller_with_entries
    period = statements.Period(dt.date(2026, 1, 3), dt.date(2026, 1, 12))  # entries 2..11
    expected = _expected(app, tenant, seller.id)[2:12]
    with app.app_context(), tenant_scope(tenant.id):
        first = statements.entries_page(seller.id, 1, 6, period)
        last = statements.entries_page(seller.id, 2, 6, period)
    assert first.total == last.total == 10
    got = [(e.id, e.currency, e.balance) for e in [*first.items, *last.items]]
    assert got == expected  # running balances count the entries before the period


def test_the_xlsx_statement_reads_back_as_written():
    rows = [
        (
            1,
            "2026-01-01 10:00:00",
            "sale",
            "A-1",
            "SKU<&>",
            'say "hi"',
            "USD",
            D("12.30"),
            D("12.30"),
            "",
        ),
        (
            2,
            "2026-01-02 10:00:00",
            "adjustment",
            "",
            "",
            "bell\x07 and tab\there",
            "JPY",
            D("-1000"),
            D("-1000"),
            "2026-01-03 00:00:00",
        ),
    ]
    out = statements.xlsx_file(iter(rows), title="Statement: 2026/01")
    data = out.read()
    for read_only in (True, False):
        book = load_workbook(io.BytesIO(data), read_only=read_only)
        assert book.sheetnames == ["Statement  2026 01"]
        got = list(book.active.iter_rows(values_only=True))
        assert got[0] == statements.HEADER
        assert got[1] == (
            1,
            "2026-01-01 10:00:00",
            "sale",
            "A-1",
            "SKU<&>",
            'say "hi"',
            "USD",
            12.3,
            12.3,
            None,
        )
        assert got[2] == (
            2,
            "2026-01-02 10:00:00",
            "adjustment",
            None,
            None,
            "bell and tab\there",
            "JPY",
            -1000,
            -1000,
            "2026-01-03 00:00:00",
        )


def test_an_empty_statement_is_a_workbook_with_its_header():
    book = load_workbook(statements.xlsx_file(iter(())), read_only=True)
    assert list(book.active.iter_rows(values_only=True)) == [statements.HEADER]
