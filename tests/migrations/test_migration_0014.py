"""Migration 0014 on a database that already has data (SQLite file; the full chain on MariaDB runs in
test_platform): a Super Admin's audit rows written before it leave the tenant they were put in."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.builders.migrations import old_rows

pytestmark = pytest.mark.smoke


@pytest.fixture
def before_0014(tmp_path):
    """An app on a new SQLite file migrated to the revision just before 0014."""
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
        previous = ScriptDirectory.from_config(config).get_revision("0014").down_revision
        upgrade(revision=previous)
        yield application, upgrade


def _sql(conn, statement: str, **params):
    return conn.execute(text(statement), params)


def test_super_admin_rows_leave_the_tenant_they_were_put_in(before_0014):
    from app.extensions import db

    app, upgrade = before_0014
    with db.engine.begin() as conn:
        _sql(
            conn,
            "INSERT INTO tenants (id, name, slug, status, plan, default_currency, default_language, languages,"
            " created_at, updated_at) VALUES (1, 'Shop', 'shop', 'active', 'free', 'USD', 'en', '[\"en\"]',"
            " '2026-01-01', '2026-01-01')",
        )
        for user_id, tenant_id in ((1, None), (2, 1)):
            _sql(
                conn,
                "INSERT INTO ab_user (id, first_name, last_name, username, email, active, tenant_id)"
                " VALUES (:id, 'A', 'B', :name, :name, 1, :tenant)",
                id=user_id,
                name=f"user{user_id}",
                tenant=tenant_id,
            )
        _sql(
            conn,
            "INSERT INTO auth_sessions (id, tenant_id, user_id, family_id, refresh_token_jti, created_at,"
            " last_seen_at, expires_at) VALUES (7, NULL, 1, 'f', 'j', '2026-01-01', '2026-01-01', '2026-02-01')",
        )
        rows = [  # (id, actor_id, actor, action, entity, entity_id): all put in tenant 1
            (1, None, "anonymous", "update", "MarketUser", "1"),  # the Super Admin's login
            (
                2,
                1,
                "user1",
                "update",
                "Product",
                "5",
            ),  # a change the Super Admin made at the tenant's host
            (3, None, "anonymous", "create", "AuthSession", "7"),  # the Super Admin's API session
            (4, None, "anonymous", "update", "MarketUser", "2"),  # the tenant user's login: stays
            (5, 2, "user2", "update", "Product", "5"),  # the tenant user's change: stays
        ]
        for row_id, actor_id, actor, action, entity, entity_id in rows:
            _sql(
                conn,
                "INSERT INTO audit_log (id, tenant_id, actor_id, actor, action, entity, entity_id, created_at)"
                " VALUES (:id, 1, :actor_id, :actor, :action, :entity, :entity_id, '2026-01-01')",
                id=row_id,
                actor_id=actor_id,
                actor=actor,
                action=action,
                entity=entity,
                entity_id=entity_id,
            )
    upgrade(revision="0014")
    with db.engine.connect() as conn:
        tenants = dict(_sql(conn, "SELECT id, tenant_id FROM audit_log").all())
    assert tenants == {1: None, 2: None, 3: None, 4: 1, 5: 1}


def test_refund_transactions_are_linked_to_their_refund(before_0014):
    """By the gateway's reference, within the same payment; what cannot be matched stays unlinked
    (then a seller is not shown it: app.orders.shares)."""
    from app.extensions import db

    app, upgrade = before_0014
    with old_rows(db.engine) as conn:
        for refund_id, payment_id, reference in (
            (1, 10, "re_a"),
            (2, 10, "re_b"),
            (3, 11, "re_a"),
            (4, 10, None),
        ):
            _sql(
                conn,
                "INSERT INTO refunds (id, tenant_id, payment_id, order_id, amount, currency, status,"
                " gateway_reference, created_at, updated_at) VALUES (:id, 1, :payment, 1, 5, 'USD',"
                " 'completed', :ref, '2026-01-01', '2026-01-01')",
                id=refund_id,
                payment=payment_id,
                ref=reference,
            )
        rows = [  # (id, payment, kind, reference)
            (1, 10, "refund", "re_b"),
            (2, 11, "refund", "re_a"),
            (3, 10, "refund", None),
            (4, 10, "capture", "pi_1"),
            (5, 10, "refund", "re_unknown"),
        ]
        for row_id, payment_id, kind, reference in rows:
            _sql(
                conn,
                "INSERT INTO payment_transactions (id, tenant_id, payment_id, order_id, kind, status, amount,"
                " currency, gateway, gateway_reference, raw_response, created_at) VALUES (:id, 1, :payment, 1,"
                " :kind, 'succeeded', 5, 'USD', 'test', :ref, '{}', '2026-01-01')",
                id=row_id,
                payment=payment_id,
                kind=kind,
                ref=reference,
            )
    upgrade(revision="0014")
    with db.engine.connect() as conn:
        links = dict(_sql(conn, "SELECT id, refund_id FROM payment_transactions").all())
    assert links == {1: 2, 2: 3, 3: None, 4: None, 5: None}
