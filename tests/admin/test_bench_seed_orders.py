"""bench/seed_orders.py (seed_bench.py --orders N): the orders it writes with Core inserts add up
as the services' would (line, sub-order and order totals, commission, the house number format),
each has its payment, shipped ones their shipment, refunded ones their refund; a tenant of its
own (unique slug), so other tests' rows are never counted."""

from __future__ import annotations

import importlib.util
import random
import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from admin.demo.seed import seed
from app.core.tenancy import tenant_scope
from app.core.types import quantize_money
from app.extensions import db
from app.orders.models import Order, OrderEvent, OrderLine, SubOrder
from app.payments.models import Payment, Refund
from app.shipments.models import Shipment
from tests.conftest import unique

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "seed_orders.py"
_spec = importlib.util.spec_from_file_location("bench_seed_orders", SCRIPT)
seed_orders = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(seed_orders)

N_ORDERS = 80


@pytest.fixture(scope="module")
def written(app):
    slug = unique("bench-orders-")
    with app.app_context():
        report = seed(24, sellers=3, customers=6, tenant=slug, second_tenant=None, seed=3)
        made = seed_orders.seed_orders(
            N_ORDERS, tenant_slug=slug, rng=random.Random(5), big=2, chunk=30, log=lambda _: None
        )
        tid = next(t.tenant_id for t in report.tenants if t.slug == slug)
        with tenant_scope(tid):
            rows = {
                "orders": db.session.scalars(select(Order)).all(),
                "subs": db.session.scalars(select(SubOrder)).all(),
                "lines": db.session.scalars(select(OrderLine)).all(),
                "events": db.session.scalars(select(OrderEvent).order_by(OrderEvent.id)).all(),
                "payments": db.session.scalars(select(Payment)).all(),
                "refunds": db.session.scalars(select(Refund)).all(),
                "shipments": db.session.scalars(select(Shipment)).all(),
            }
            values = {
                name: [{c: getattr(r, c) for c in r.__table__.columns.keys()} for r in items]
                for name, items in rows.items()
            }
        db.session.remove()
    return made, values


def test_counts_and_states(written):
    made, rows = written
    assert made["orders"] == len(rows["orders"]) == N_ORDERS
    assert made["order_lines"] == len(rows["lines"])
    states = Counter(o["status"] for o in rows["orders"])
    assert set(states) <= set(seed_orders.FATES)
    assert len(states) >= 5  # mixed: delivered, completed, shipped, cancelled, refunded, ...
    # a sub-order is in its order's status (the order's fate), guests have no customer
    status_of = {o["id"]: o["status"] for o in rows["orders"]}
    assert all(s["status"] == status_of[s["order_id"]] for s in rows["subs"])


def test_totals_add_up_as_checkout_writes_them(written):
    _, rows = written
    lines_of, subs_of = {}, {}
    for line in rows["lines"]:
        lines_of.setdefault(line["sub_order_id"], []).append(line)
        assert line["subtotal"] == line["unit_price"] * line["quantity"]
        assert line["total"] == line["subtotal"] - line["discount_total"] + line["tax_total"]
        taxable = line["subtotal"] - line["discount_total"]
        expected = quantize_money(line["commission_rate"] * taxable)  # checkout's rounding
        assert line["commission_amount"] == expected
    for sub in rows["subs"]:
        subs_of.setdefault(sub["order_id"], []).append(sub)
        lines = lines_of[sub["id"]]
        assert all(line["seller_id"] == sub["seller_id"] for line in lines)
        assert sub["subtotal"] == sum(line["subtotal"] for line in lines)
        assert sub["tax_total"] == sum(line["tax_total"] for line in lines)
        assert sub["total"] == sum(line["total"] for line in lines) + sub["shipping_total"]
        assert sub["commission_amount"] == sum(line["commission_amount"] for line in lines)
    for order in rows["orders"]:
        subs = subs_of[order["id"]]
        assert order["total"] == sum(s["total"] for s in subs)
        assert order["shipping_total"] == sum(s["shipping_total"] for s in subs)
        assert len({s["seller_id"] for s in subs}) == len(subs)  # one sub-order per seller
    # the big orders: every seller that sold anything, in one order
    sellers = {s["seller_id"] for s in rows["subs"]}
    assert len(sellers) >= 2
    assert max(len(subs) for subs in subs_of.values()) == len(sellers)


def test_numbers_in_the_house_format(written):
    _, rows = written
    numbers = [o["number"] for o in rows["orders"]]
    assert len(set(numbers)) == len(numbers)
    for order in rows["orders"]:
        assert re.fullmatch(r"\d{6}-[0-9A-F]{10}", order["number"])
        assert order["number"][:6] == f"{order['created_at']:%y%m%d}"
    number_of = {o["id"]: o["number"] for o in rows["orders"]}
    for sub in rows["subs"]:
        assert re.fullmatch(re.escape(number_of[sub["order_id"]]) + r"-\d+", sub["number"])


def test_payments_shipments_refunds_and_timeline(written):
    _, rows = written
    pay = {p["order_id"]: p for p in rows["payments"]}
    assert len(pay) == len(rows["payments"]) == N_ORDERS
    refunds = {r["order_id"]: r for r in rows["refunds"]}
    for order in rows["orders"]:
        payment = pay[order["id"]]
        assert payment["amount"] == order["total"]
        if order["status"] in ("pending", "cancelled"):
            assert payment["amount_captured"] == 0 and order["paid_at"] is None
        else:
            assert payment["amount_captured"] == order["total"] and order["paid_at"] is not None
        if order["status"] == "refunded":
            assert order["refunded_total"] == order["total"] == refunds[order["id"]]["amount"]
            assert payment["status"] == "refunded"
        else:
            assert order["id"] not in refunds and order["refunded_total"] == 0
    shipped = {
        s["id"] for s in rows["subs"] if s["status"] in ("shipped", "delivered", "completed")
    }
    assert {s["sub_order_id"] for s in rows["shipments"]} == shipped
    assert len(rows["shipments"]) == len(shipped)
    first = {}
    for event in rows["events"]:
        first.setdefault(event["order_id"], event)
    assert all(e["to_status"] == "pending" and e["note"] == "order placed" for e in first.values())
    assert len(first) == N_ORDERS
