"""Migration 0015 on a database that already has Idempotency-Keys (SQLite file; the full chain on
MariaDB runs in test_platform): the keys of checkout's and payments' old tables still replay their
first result, and still refuse another request, through app.events.idempotency."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import text

from tests.builders.migrations import old_rows

pytestmark = pytest.mark.smoke


def _old_hash(data: dict) -> str:
    """How both old tables fingerprinted a request (checkout's and payments' own hashers)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


ORDER_BODY = {"shipping_address": {"country": "GB"}, "email": "a@example.com"}
PROCESS_BODY = {"payment_id": 3, "confirm": False, "details": {}}
REFUND_BODY = {"payment_id": 3, "amount": "5.00", "reason": ""}


@pytest.fixture
def before_0015(tmp_path):
    """An app on a new SQLite file migrated to the revision just before 0015."""
    from alembic.script import ScriptDirectory
    from flask_migrate import upgrade

    from app import create_app

    application = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'm.db'}",
        SEARCH_INDEX_DIR=str(tmp_path / "search"),
    )
    with application.app_context():
        config = application.extensions["migrate"].migrate.get_config()
        previous = ScriptDirectory.from_config(config).get_revision("0015").down_revision
        upgrade(revision=previous)
        yield application, upgrade


def _sql(conn, statement: str, **params):
    return conn.execute(text(statement), params)


def test_keys_of_both_old_tables_replay_after_the_upgrade(before_0015):
    from app.core.tenancy import tenant_scope
    from app.events import idempotency
    from app.events.idempotency import IdempotencyKey, IdempotencyKeyReused
    from app.extensions import db
    from app.payments.idempotency import claim_key

    app, upgrade = before_0015
    with old_rows(db.engine) as conn:
        _sql(
            conn,
            "INSERT INTO tenants (id, name, slug, status, plan, default_currency, default_language, languages,"
            " created_at, updated_at) VALUES (1, 'Shop', 'shop', 'active', 'free', 'USD', 'en', '[\"en\"]',"
            " '2026-01-01', '2026-01-01')",
        )
        _sql(
            conn,
            "INSERT INTO order_idempotency_keys (id, tenant_id, key, scope, request_hash, order_id, created_at)"
            " VALUES (1, 1, 'k1', 'user:5', :hash, 7, '2026-01-01')",
            hash=_old_hash(ORDER_BODY),
        )
        for row_id, scope, key, operation, body, payment_id, refund_id in (
            (1, "user:5", "k1", "process", PROCESS_BODY, 3, None),  # the same key as the checkout's
            (2, "system", "retry-refund-2", "refund", REFUND_BODY, 3, 9),
        ):
            _sql(
                conn,
                "INSERT INTO payment_idempotency_keys (id, tenant_id, scope, key, operation, request_hash,"
                " payment_id, refund_id, created_at) VALUES (:id, 1, :scope, :key, :operation, :hash,"
                " :payment, :refund, '2026-01-01')",
                id=row_id,
                scope=scope,
                key=key,
                operation=operation,
                hash=_old_hash(body),
                payment=payment_id,
                refund=refund_id,
            )
    upgrade(revision="0015")

    with tenant_scope(1):
        # checkout: the same key and body answer the first order; another body is a 409
        row, replay = idempotency.claim(
            "checkout", "user:5", "k1", "order", idempotency.request_hash(ORDER_BODY)
        )
        assert replay and row.result_id("order_id") == 7
        with pytest.raises(IdempotencyKeyReused):
            idempotency.claim(
                "checkout", "user:5", "k1", "order", idempotency.request_hash({"other": 1})
            )
        # payments: the same key and body answer the first payment and refund
        earlier = claim_key("user:5", "k1", "process", idempotency.request_hash(PROCESS_BODY))
        assert earlier is not None and earlier.result_id("payment_id") == 3
        earlier = claim_key(
            "system", "retry-refund-2", "refund", idempotency.request_hash(REFUND_BODY)
        )
        assert earlier is not None
        assert (earlier.result_id("payment_id"), earlier.result_id("refund_id")) == (3, 9)
        with pytest.raises(IdempotencyKeyReused):  # another operation with a payments key
            claim_key("user:5", "k1", "refund", idempotency.request_hash(PROCESS_BODY))
        # a key never used is claimed afresh
        assert claim_key("user:5", "k2", "process", idempotency.request_hash(PROCESS_BODY)) is None
        db.session.rollback()
        rows = {
            (r.domain, r.scope, r.key): (r.operation, r.result)
            for r in db.session.scalars(db.select(IdempotencyKey))
        }
    assert rows == {
        ("checkout", "user:5", "k1"): ("order", {"order_id": 7}),
        ("payments", "user:5", "k1"): ("process", {"payment_id": 3}),
        ("payments", "system", "retry-refund-2"): ("refund", {"payment_id": 3, "refund_id": 9}),
    }


def test_the_downgrade_puts_the_keys_back(before_0015):
    from app.extensions import db

    app, upgrade = before_0015
    from flask_migrate import downgrade

    with db.engine.begin() as conn:
        _sql(
            conn,
            "INSERT INTO tenants (id, name, slug, status, plan, default_currency, default_language, languages,"
            " created_at, updated_at) VALUES (1, 'Shop', 'shop', 'active', 'free', 'USD', 'en', '[\"en\"]',"
            " '2026-01-01', '2026-01-01')",
        )
        _sql(
            conn,
            "INSERT INTO payment_idempotency_keys (id, tenant_id, scope, key, operation, request_hash,"
            " payment_id, refund_id, created_at) VALUES (1, 1, 'system', 'r', 'refund', :hash, 3, 9,"
            " '2026-01-01')",
            hash="0" * 64,
        )
    upgrade(revision="0015")
    downgrade(revision="0014")
    with db.engine.connect() as conn:
        rows = _sql(
            conn,
            "SELECT scope, key, operation, request_hash, payment_id, refund_id"
            " FROM payment_idempotency_keys",
        ).all()
    assert [tuple(r) for r in rows] == [("system", "r", "refund", "0" * 64, 3, 9)]
