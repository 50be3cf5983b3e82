"""A statement's sub-order numbers, SKUs and available moments, read through the seller-sliced
covering indexes of migration 0029 (the joins name the entry's seller): the columns each entry
shows are its own sub-order's, line's and release's, another seller's sub-order in the same order
changes nothing; on MariaDB, the statement's plan reads only index pages (no table row of
entries, sub-orders, lines or releases) and the dashboard's order currency comes from its index."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.orders.models import OrderLine, SubOrder
from app.payouts import statements
from app.payouts.models import SellerLedgerRelease
from tests.builders.ledger import Line, Sub

D = Decimal


@pytest.fixture
def delivered_and_paid(ledger_shop):
    """Seller a: a delivered sub-order of two lines (released) and a paid one of one line; seller
    b: a sub-order in the same order as a's first."""
    shop = ledger_shop
    a, b = shop.sellers
    first = shop.order(
        Sub(a.id, (Line("20.00", commission="2.00"), Line("10.00", commission="1.00"))),
        Sub(b.id, (Line("50.00", commission="5.00"),)),
    )
    shop.pay(first)
    second = shop.order(Sub(a.id, (Line("7.00", commission="0.70"),), shipping="3.00"))
    shop.pay(second)
    delivered, b_sub = shop.sub_ids(first)
    (paid,) = shop.sub_ids(second)
    shop.step(delivered, "processing", "shipped", "delivered")
    return shop, a, delivered, paid, b_sub


def _facts(shop, sub_id):
    """(number, {line id: sku}, release moment or None) of a sub-order, read by hand."""

    def read():
        number = db.session.scalar(select(SubOrder.number).where(SubOrder.id == sub_id))
        skus = dict(
            db.session.execute(
                select(OrderLine.id, OrderLine.sku).where(OrderLine.sub_order_id == sub_id)
            ).all()
        )
        release = db.session.scalar(
            select(SellerLedgerRelease.available_at).where(
                SellerLedgerRelease.sub_order_id == sub_id
            )
        )
        return number, skus, release

    return shop.run(read)


def test_each_entry_shows_its_own_sub_order_line_and_release(delivered_and_paid):
    shop, a, delivered, paid, _ = delivered_and_paid
    number_d, skus_d, release_d = _facts(shop, delivered)
    number_p, skus_p, release_p = _facts(shop, paid)
    assert release_d is not None and release_p is None
    rows = shop.run(lambda: list(statements.statement_lines(a.id, statements.Period())))
    page = shop.run(lambda: statements.entries_page(a.id, 1, 50))

    by_sub = {number_d: [], number_p: []}
    for row in rows:
        by_sub[row[3]].append(row)
    assert {r[2] for r in by_sub[number_d]} == {"sale", "commission"}
    assert {r[2] for r in by_sub[number_p]} == {"sale", "commission", "shipping"}
    assert len(rows) == len(by_sub[number_d]) + len(by_sub[number_p])
    # the delivered sub-order's entries are available from its release, the other's not yet
    assert {r[9] for r in by_sub[number_d]} == {str(release_d.replace(tzinfo=None))[:19]}
    assert {r[9] for r in by_sub[number_p]} == {""}
    # a line's entries carry its SKU; the sub-order's own (shipping) none
    assert {r[4] for r in by_sub[number_d] if r[2] == "sale"} == set(skus_d.values())
    assert {r[4] for r in by_sub[number_p] if r[2] == "shipping"} == {""}

    # the ledger page reads the same joins
    assert [(e.sub_order_number, e.sku) for e in page.items] == [(r[3], r[4] or None) for r in rows]
    released = {e.available_at for e in page.items if e.sub_order_id == delivered}
    assert {v.replace(tzinfo=None) for v in released} == {release_d.replace(tzinfo=None)}


def test_balances_follow_the_release_through_the_seller_join(delivered_and_paid):
    shop, a, delivered, paid, _ = delivered_and_paid
    _, _, release_d = _facts(shop, delivered)
    aware = release_d if release_d.tzinfo else release_d.replace(tzinfo=dt.timezone.utc)
    before = shop.run(lambda: statements.balances(a.id, aware - dt.timedelta(seconds=1)))
    after = shop.run(lambda: statements.balances(a.id, aware))
    # delivered: 30.00 - 3.00 commission; paid: 7.00 + 3.00 shipping - 0.70
    assert [(b.pending, b.available) for b in before] == [(D("36.30"), D("0.00"))]
    assert [(b.pending, b.available) for b in after] == [(D("9.30"), D("27.00"))]


def test_mariadb_reads_the_statement_from_index_pages_only(app, delivered_and_paid):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("mysql"):
        pytest.skip("the plan is MariaDB's")
    shop, a, *_ = delivered_and_paid

    captured = []

    def statement_sql():
        from sqlalchemy import event

        def grab(conn, cursor, statement, parameters, context, executemany):
            if "sub_orders" in statement and "order_lines" in statement:
                captured.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", grab)
        try:
            list(statements.statement_lines(a.id, statements.Period()))
        finally:
            event.remove(db.engine, "before_cursor_execute", grab)

    shop.run(statement_sql)
    assert len(captured) == 1
    sql, parameters = captured[0]

    def explain():
        result = db.session.connection().exec_driver_sql(f"EXPLAIN {sql}", parameters)
        return {row.table: row for row in result}

    plan = shop.run(explain)
    expected = {
        "seller_ledger_entries": "ix_seller_ledger_seller_statement",
        "seller_ledger_releases": "ix_seller_ledger_releases_seller",
        "sub_orders": "ix_sub_orders_seller_number",
        "order_lines": "ix_order_lines_seller_sku",
    }
    assert {table: plan[table].key for table in expected} == expected
    for table in expected:
        assert "Using index" in (plan[table].Extra or ""), (table, plan[table].Extra)
