"""The seller dashboard's plans on MariaDB (migration 0029): each sale's order currency read from
the (tenant_id, id, currency) index, not the order's row; the top products' lines from the
seller's covering index; the period's sub-orders from the seller's covering index of 0022. The
figures themselves are tested in test_dashboards.py; this checks they stay index-only lookups."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event

from app import dashboards
from app.extensions import db
from tests.builders.ledger import Line, Sub, ledger_shop  # noqa: F401 (the fixture)


def _plans(shop, compute):
    """{statement text: {table: EXPLAIN row}} of every statement compute() runs."""
    captured = []

    def run():
        def grab(conn, cursor, statement, parameters, context, executemany):
            captured.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", grab)
        try:
            compute()
        finally:
            event.remove(db.engine, "before_cursor_execute", grab)
        plans = {}
        for sql, parameters in captured:
            result = db.session.connection().exec_driver_sql(f"EXPLAIN {sql}", parameters)
            plans[sql] = {row.table: row for row in result}
        return plans

    return shop.run(run)


def test_sales_and_top_products_read_indexes_only(app, ledger_shop):  # noqa: F811
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("mysql"):
        pytest.skip("the plan is MariaDB's")
    shop = ledger_shop
    a, b = shop.sellers
    order_id = shop.order(
        Sub(a.id, (Line("20.00", commission="2.00"), Line("5.00", commission="0.50"))),
        Sub(b.id, (Line("9.00", commission="0.90"),)),
    )
    shop.pay(order_id)
    period = dashboards.Period.last(30)

    def compute():
        dashboards._sales(period, a.id)
        dashboards._sales_by_day(period, a.id)
        dashboards._top(period, a.id, by_units=False)

    plans = _plans(shop, compute)
    assert len(plans) == 3
    for sql, plan in plans.items():
        # a few rows' tables get this plan unasked; the bench's (400,000 orders) only with the hint
        assert "FORCE INDEX (ix_orders_tenant_currency)" in sql
        assert plan["orders"].key == "ix_orders_tenant_currency", sql
        assert "Using index" in plan["orders"].Extra, sql
        if "order_lines" in plan:
            assert "FORCE INDEX (ix_order_lines_seller_sales)" in sql
            assert plan["order_lines"].key == "ix_order_lines_seller_sales", sql
            assert "Using index" in plan["order_lines"].Extra, sql

    # and the figures are the seller's own
    sales = shop.run(lambda: dashboards._sales(period, a.id))
    assert [(s.currency, str(s.gross), s.orders) for s in sales.values()] == [("USD", "25.00", 1)]
    top = shop.run(lambda: dashboards._top(period, a.id, by_units=False))
    assert sum(p.revenue for p in top) == Decimal("25.00")
