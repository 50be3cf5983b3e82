"""one idempotency_keys table for checkout and payments (order_ and payment_idempotency_keys merged)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 20:00:00

Checkout (POST /orders/) and payments (charges, payment retries, refunds) kept their
Idempotency-Keys in two tables with their own columns; app.events.idempotency is now the one
mechanism, over `idempotency_keys`: (tenant, domain, scope, key) is unique, `domain` keeps the
two apart as the two tables did ("checkout", "payments": the same key may be used once in each),
`operation` is the request kind ("order" for a checkout; payments' own), and `result` names what
the first request made as JSON ids ({"order_id": ...}; {"payment_id": ..., "refund_id": ...}).

Every existing row is copied (under a new id), so a key used before the upgrade still
replays its first result (and still refuses another body). The downgrade copies them back (a
checkout key whose order is gone is dropped, as the old foreign key's cascade did).
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BATCH = 1000

_new = sa.table(
    "idempotency_keys",
    sa.column("tenant_id", sa.Integer),
    sa.column("domain", sa.String),
    sa.column("scope", sa.String),
    sa.column("key", sa.String),
    sa.column("operation", sa.String),
    sa.column("request_hash", sa.String),
    sa.column("result", sa.JSON),
    sa.column("created_at", sa.DateTime),
)
_orders = sa.table(
    "order_idempotency_keys",
    sa.column("id", sa.Integer),
    sa.column("tenant_id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("scope", sa.String),
    sa.column("request_hash", sa.String),
    sa.column("order_id", sa.Integer),
    sa.column("created_at", sa.DateTime),
)
_payments = sa.table(
    "payment_idempotency_keys",
    sa.column("id", sa.Integer),
    sa.column("tenant_id", sa.Integer),
    sa.column("scope", sa.String),
    sa.column("key", sa.String),
    sa.column("operation", sa.String),
    sa.column("request_hash", sa.String),
    sa.column("payment_id", sa.Integer),
    sa.column("refund_id", sa.Integer),
    sa.column("created_at", sa.DateTime),
)


def _copy(conn, query, table, convert) -> None:
    """Insert convert(row) into `table` for every row of `query`, BATCH rows per INSERT."""
    rows = []
    for row in conn.execute(query):
        value = convert(row)
        if value is not None:
            rows.append(value)
        if len(rows) == BATCH:
            conn.execute(sa.insert(table), rows)
            rows = []
    if rows:
        conn.execute(sa.insert(table), rows)


def _ids(**ids):
    return {name: value for name, value in ids.items() if value is not None}


def upgrade():
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("operation", sa.String(length=16), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_idempotency_keys_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint(
            "tenant_id", "domain", "scope", "key", name="uq_idempotency_keys_domain_scope_key"
        ),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_keys_tenant_id"), ["tenant_id"], unique=False
        )

    conn = op.get_bind()
    _copy(
        conn,
        sa.select(_orders).order_by(_orders.c.id),
        _new,
        lambda r: {
            "tenant_id": r.tenant_id,
            "domain": "checkout",
            "scope": r.scope,
            "key": r.key,
            "operation": "order",
            "request_hash": r.request_hash,
            "result": _ids(order_id=r.order_id),
            "created_at": r.created_at,
        },
    )
    _copy(
        conn,
        sa.select(_payments).order_by(_payments.c.id),
        _new,
        lambda r: {
            "tenant_id": r.tenant_id,
            "domain": "payments",
            "scope": r.scope,
            "key": r.key,
            "operation": r.operation,
            "request_hash": r.request_hash,
            "result": _ids(payment_id=r.payment_id, refund_id=r.refund_id),
            "created_at": r.created_at,
        },
    )
    op.drop_table("order_idempotency_keys")
    op.drop_table("payment_idempotency_keys")


def _result(row) -> dict:
    value = row.result
    if isinstance(value, str):  # a driver that hands JSON back as text
        value = json.loads(value)
    return value or {}


def downgrade():
    op.create_table(
        "payment_idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("operation", sa.String(length=16), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_payment_idempotency_keys_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_idempotency_keys")),
        sa.UniqueConstraint(
            "tenant_id", "scope", "key", name="uq_payment_idempotency_keys_scope_key"
        ),
    )
    with op.batch_alter_table("payment_idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_idempotency_keys_tenant_id"), ["tenant_id"], unique=False
        )
    op.create_table(
        "order_idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_idempotency_keys_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_order_idempotency_keys_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_idempotency_keys")),
        sa.UniqueConstraint(
            "tenant_id", "key", "scope", name="uq_order_idempotency_keys_tenant_key"
        ),
    )
    with op.batch_alter_table("order_idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_idempotency_keys_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_order_idempotency_keys_tenant_id"), ["tenant_id"], unique=False
        )

    conn = op.get_bind()
    keys = sa.table(
        "idempotency_keys",
        sa.column("id", sa.Integer),
        *(sa.column(c.name, c.type) for c in _new.c),
    )
    orders = set(conn.execute(sa.text("SELECT id FROM orders")).scalars())

    def checkout(r):
        order_id = _result(r).get("order_id")
        if order_id is not None and order_id not in orders:
            return None
        return {
            "tenant_id": r.tenant_id,
            "key": r.key,
            "scope": r.scope,
            "request_hash": r.request_hash,
            "order_id": order_id,
            "created_at": r.created_at,
        }

    def payments(r):
        result = _result(r)
        return {
            "tenant_id": r.tenant_id,
            "scope": r.scope,
            "key": r.key,
            "operation": r.operation,
            "request_hash": r.request_hash,
            "payment_id": result.get("payment_id"),
            "refund_id": result.get("refund_id"),
            "created_at": r.created_at,
        }

    ordered = sa.select(keys).order_by(keys.c.id)
    _copy(conn, ordered.where(keys.c.domain == "checkout"), _orders, checkout)
    _copy(conn, ordered.where(keys.c.domain == "payments"), _payments, payments)
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_tenant_id"))
    op.drop_table("idempotency_keys")
