"""What the cheaper checkout must still do: a paid checkout keeps every fact (both payment
transaction rows and events, every event dispatched, an audit row per created or changed
business row), audit rows are written in one INSERT per commit and dropped with a rolled-back
savepoint, and a checkout's own work is three commits (order + payment, outcome, dispatch)."""

from __future__ import annotations

import re
from contextlib import contextmanager

from sqlalchemy import event, select

from app.core.tenancy import tenant_scope
from app.events.models import OutboxEvent
from app.extensions import db
from app.orders.models import Order
from app.payments.models import Payment, PaymentTransaction
from app.security.audit import AuditActor, audit_as
from app.security.models import AuditLog
from tests.builders.orders import ADDRESS, checkout, fill

CARD_OK = {"method": "test_card", "details": {"card_number": "4242424242424242"}}


@contextmanager
def sql_log(app):
    """Statements and commits on the app's engine while the block runs (this thread's only)."""
    import threading

    me = threading.get_ident()
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == me:
            seen.append(statement)

    def on_commit(conn):
        if threading.get_ident() == me:
            seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)


def test_a_paid_checkout_keeps_every_fact(app, client, shop):
    h = fill(client, shop.h, (shop.product.variant_id, 2), (shop.product2.variant_id, 1))
    response = checkout(client, h, {"shipping_address": ADDRESS, "payment": CARD_OK})
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["payment"]["status"] == "captured"
    with app.app_context(), tenant_scope(shop.tenant.id):
        payment = db.session.scalars(select(Payment).where(Payment.order_id == order["id"])).one()
        assert (payment.status, payment.amount_captured, payment.processing_until) == (
            "captured",
            payment.amount,
            None,
        )
        assert payment.card_last4 == "4242" and payment.gateway_reference
        # authorize and capture were both asked of the gateway, and both are in the ledger
        kinds = db.session.execute(
            select(PaymentTransaction.kind, PaymentTransaction.status)
            .where(PaymentTransaction.payment_id == payment.id)
            .order_by(PaymentTransaction.id)
        ).all()
        assert [tuple(k) for k in kinds] == [("authorize", "succeeded"), ("capture", "succeeded")]
        events = db.session.execute(
            select(OutboxEvent.name, OutboxEvent.dispatched_at).where(
                OutboxEvent.tenant_id == shop.tenant.id,
                (
                    (OutboxEvent.aggregate == "order")
                    & (OutboxEvent.aggregate_id == str(order["id"]))
                )
                | (
                    (OutboxEvent.aggregate == "payment")
                    & (OutboxEvent.aggregate_id == str(payment.id))
                )
                | (
                    (OutboxEvent.name == "inventory.stock_changed")
                    & OutboxEvent.aggregate_id.in_(
                        [str(shop.product.stock_level_id), str(shop.product2.stock_level_id)]
                    )
                ),
            )
        ).all()
        names = sorted(e.name for e in events)
        assert names.count("order.created") == 1 and names.count("payment.authorized") == 1
        assert names.count("payment.captured") == 1 and names.count("inventory.stock_changed") >= 2
        assert all(
            e.dispatched_at is not None for e in events
        )  # handed over at the end of the request
        # the consumer of payment.captured ran (embedded runner): the order is paid
        assert db.session.get(Order, order["id"]).status == "paid"
        audited = db.session.execute(
            select(AuditLog.entity, AuditLog.action, AuditLog.after).where(
                AuditLog.tenant_id == shop.tenant.id,
                AuditLog.entity.in_(
                    ["Order", "SubOrder", "OrderLine", "StockReservation", "Payment"]
                ),
            )
        ).all()
        by_kind = {}
        for row in audited:
            by_kind.setdefault((row.entity, row.action), []).append(row.after)
        assert (
            len(by_kind[("Order", "create")]) == 1
            and by_kind[("Order", "create")][0]["total"] == order["total"]
        )
        assert (
            len(by_kind[("SubOrder", "create")]) == 2 and len(by_kind[("OrderLine", "create")]) == 2
        )
        assert (
            len(by_kind[("StockReservation", "create")]) == 2
            and len(by_kind[("Payment", "create")]) == 1
        )
        assert any(after.get("status") == "captured" for after in by_kind[("Payment", "update")])


def test_a_checkout_is_three_commits_of_its_own(app, client, shop):
    h = fill(client, shop.h, (shop.product.variant_id, 1), (shop.product2.variant_id, 1))
    with sql_log(app) as seen:
        response = checkout(client, h, {"shipping_address": ADDRESS, "payment": CARD_OK})
    assert response.status_code == 201, response.get_json()
    # own work: up to the commit of the payment's outcome (after it the dispatch, where the
    # embedded runner applies the events in-process, in transactions of their own)
    recorded = next(
        i for i, s in enumerate(seen) if s.startswith("INSERT INTO payment_transactions")
    )
    own = seen[: seen.index("COMMIT", recorded) + 1]
    assert own.count("COMMIT") == 2  # the order with its pending payment; the payment's outcome
    assert sum(s.startswith("INSERT INTO audit_log") for s in own) == 2  # one per commit
    assert len(own) <= 45, own
    # then ONE UPDATE marks the 5 events of both commits dispatched (order.created, 2 x
    # inventory.stock_changed, payment.authorized, payment.captured); later ones are those the
    # in-process consumers published (order.status_changed ...), dispatched from inside ours
    marks = [s for s in seen[len(own) :] if s.startswith("UPDATE outbox_events SET dispatched_at")]
    assert [_in_list_size(s, "outbox_events.id") for s in marks].count(5) == 1, marks


def _in_list_size(statement: str, column: str) -> int:
    """How many values the statement's `column IN (...)` holds, whatever the driver's paramstyle
    (mysqlclient: %s; PyMySQL: %(id_1_1)s)."""
    found = re.search(re.escape(column) + r" IN \((.*?)\)(?: |$)", statement)
    return len(re.findall(r"%(?:\(\w+\))?s", found.group(1))) if found else 0


def test_audit_rows_are_one_insert_per_commit_and_leave_with_a_rolled_back_savepoint(app, factory):
    from app.catalog.models import Brand

    tenant = factory.tenant()
    actor = AuditActor(actor_id=None, actor="tester", source="cli")
    with app.app_context(), tenant_scope(tenant.id), audit_as(actor), sql_log(app) as seen:
        kept = Brand(name="kept-1", slug=f"kept-1-{tenant.id}")
        db.session.add(kept)
        db.session.flush()
        second = Brand(name="kept-2", slug=f"kept-2-{tenant.id}")
        db.session.add(second)
        db.session.flush()
        try:
            with db.session.begin_nested():
                db.session.add(Brand(name="undone", slug=f"undone-{tenant.id}"))
                db.session.flush()
                raise RuntimeError("roll the savepoint back")
        except RuntimeError:
            pass
        kept.name = "kept-1 renamed"
        db.session.commit()
        ids = (kept.id, second.id)
    assert sum(s.startswith("INSERT INTO audit_log") for s in seen) == 1
    with app.app_context(), tenant_scope(tenant.id):
        rows = db.session.execute(
            select(AuditLog.action, AuditLog.entity_id, AuditLog.after, AuditLog.actor)
            .where(AuditLog.tenant_id == tenant.id, AuditLog.entity == "Brand")
            .order_by(AuditLog.id)
        ).all()
    assert [(r.action, r.entity_id) for r in rows] == [
        ("create", str(ids[0])),
        ("create", str(ids[1])),
        ("update", str(ids[0])),
    ]
    assert rows[2].after == {"name": "kept-1 renamed"} and {r.actor for r in rows} == {"tester"}
    assert all("undone" not in str(r.after) for r in rows)
