"""Exactly once per event (the outbox's consume-once: the same event delivered again writes
nothing), and append-only (the ORM refuses, and the database's triggers refuse raw SQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from app.core.errors import Conflict
from app.core.tenancy import tenant_scope, unscoped
from app.events.models import OutboxEvent, ProcessedEvent
from app.extensions import db
from app.payouts.models import SellerLedgerEntry, SellerLedgerRelease
from jobs import tasks
from tests.builders.ledger import Line, Sub


def _events(app, name: str, aggregate_id: int) -> list[int]:
    with app.app_context(), unscoped():
        return list(
            db.session.scalars(
                select(OutboxEvent.id)
                .where(OutboxEvent.name == name, OutboxEvent.aggregate_id == str(aggregate_id))
                .order_by(OutboxEvent.id)
            )
        )


def _consumed(app, event_id: int, consumer: str) -> bool:
    with app.app_context(), unscoped():
        return db.session.get(ProcessedEvent, (event_id, consumer)) is not None


def test_each_event_is_applied_once_even_when_delivered_twice(app, ledger_shop):
    shop = ledger_shop
    order_id = shop.order(Sub(shop.sellers[0].id, (Line("30.00", commission="3.00", quantity=2),)))
    shop.pay(order_id)
    (sub_id,) = shop.sub_ids(order_id)
    shop.step(sub_id, "processing", "shipped", "delivered")
    (line,) = shop.line_ids(sub_id)
    shop.refund(order_id, lines=[(line, 1)])
    before = shop.entries(sub_id)
    assert [kind for kind, _, _ in before] == [
        "sale",
        "commission",
        "refund",
        "commission_reversal",
    ]

    delivered = []
    for name, consumer in (
        ("order.status_changed", "payouts.ledger_sale"),
        ("order.delivered", "payouts.ledger_release"),
    ):
        for event_id in _events(app, name, order_id):
            assert _consumed(app, event_id, consumer)  # the inline runner applied it once
            with app.app_context():
                # delivered again (a redelivery, a duplicate RQ job): nothing is applied
                assert tasks.handle_event(event_id, consumer) is False
            delivered.append(event_id)
    (refund_event,) = [
        e
        for e in _events_by_name(app, "refund.completed")
        if _consumed(app, e, "payouts.ledger_refund") and _order_of(app, e) == order_id
    ]
    with app.app_context():
        assert tasks.handle_event(refund_event, "payouts.ledger_refund") is False
    assert len(delivered) >= 5  # paid, processing, shipped, delivered... and the delivery
    assert shop.entries(sub_id) == before
    with app.app_context(), tenant_scope(shop.tenant_id):
        assert (
            db.session.scalar(
                select(db.func.count(SellerLedgerRelease.id)).where(
                    SellerLedgerRelease.sub_order_id == sub_id
                )
            )
            == 1
        )


def test_consumer_twice_without_the_outbox_record_still_writes_one_sale(app, ledger_shop):
    """A sale is also keyed by its sub-order: should the same paid status arrive as another event
    (a sub-order back to paid after a rejected request), no second sale is written."""
    from app.payouts import ledger

    shop = ledger_shop
    order_id = shop.order(Sub(shop.sellers[0].id, (Line("12.00", commission="1.20"),)))
    shop.pay(order_id)
    (sub_id,) = shop.sub_ids(order_id)
    (event_id,) = [e for e in _events(app, "order.status_changed", order_id)]
    with app.app_context(), tenant_scope(shop.tenant_id):
        event = db.session.get(OutboxEvent, event_id)
        ledger.on_sub_order_status_changed(event)
        db.session.commit()
    assert [kind for kind, _, _ in shop.entries(sub_id)] == ["sale", "commission"]


def _events_by_name(app, name):
    with app.app_context(), unscoped():
        return list(db.session.scalars(select(OutboxEvent.id).where(OutboxEvent.name == name)))


def _order_of(app, event_id):
    with app.app_context(), unscoped():
        return int(db.session.get(OutboxEvent, event_id).payload["order_id"])


@pytest.fixture
def entry(app, ledger_shop):
    shop = ledger_shop
    order_id = shop.order(Sub(shop.sellers[0].id, (Line("50.00", commission="5.00"),)))
    shop.pay(order_id)
    (sub_id,) = shop.sub_ids(order_id)
    shop.step(sub_id, "processing", "shipped", "delivered")
    with app.app_context(), tenant_scope(shop.tenant_id):
        entry_id = db.session.scalar(
            select(SellerLedgerEntry.id).where(SellerLedgerEntry.sub_order_id == sub_id)
        )
        release_id = db.session.scalar(
            select(SellerLedgerRelease.id).where(SellerLedgerRelease.sub_order_id == sub_id)
        )
    return shop, entry_id, release_id


def _amount(app, shop, entry_id):
    with app.app_context(), tenant_scope(shop.tenant_id):
        return db.session.scalar(
            select(SellerLedgerEntry.amount).where(SellerLedgerEntry.id == entry_id)
        )


def test_the_orm_refuses_changes_and_removals(app, entry):
    shop, entry_id, release_id = entry
    attempts = (
        lambda: setattr(db.session.get(SellerLedgerEntry, entry_id), "amount", Decimal("1.00")),
        lambda: db.session.delete(db.session.get(SellerLedgerEntry, entry_id)),
        lambda: setattr(db.session.get(SellerLedgerRelease, release_id), "available_at", None),
        lambda: db.session.execute(update(SellerLedgerEntry).values(amount=0)),
    )
    for attempt in attempts:
        with app.app_context(), tenant_scope(shop.tenant_id):
            with pytest.raises(Conflict) as refused:
                attempt()
                db.session.commit()
            assert refused.value.code == "ledger_append_only"
            db.session.rollback()
    assert _amount(app, shop, entry_id) == Decimal("50.00")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE seller_ledger_entries SET amount = 0 WHERE id = :id",
        "DELETE FROM seller_ledger_entries WHERE id = :id",
        "UPDATE seller_ledger_releases SET available_at = NULL WHERE id = :release",
        "DELETE FROM seller_ledger_releases WHERE id = :release",
    ],
)
def test_the_database_refuses_raw_updates_and_deletes(app, entry, sql):
    shop, entry_id, release_id = entry
    with app.app_context():
        with db.engine.connect() as conn:
            with pytest.raises(DBAPIError) as refused:
                conn.execute(text(sql), {"id": entry_id, "release": release_id})
            assert "append-only" in str(refused.value)
            conn.rollback()
    assert _amount(app, shop, entry_id) == Decimal("50.00")
    with app.app_context(), tenant_scope(shop.tenant_id):
        assert db.session.get(SellerLedgerRelease, release_id) is not None
