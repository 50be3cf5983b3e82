"""money records reference their order: payments, payment_transactions, refunds and
promotion_redemptions get a foreign key order_id -> orders.id (ON DELETE RESTRICT: an order that
has payments, refunds or booked discounts is never deleted; its money records outlive nothing)

An existing database with rows whose order_id names no order (synthetic ids of old tests) cannot
take the keys: the upgrade stops with the tables and counts to clean up first.

Revision ID: 0008a
Revises: 0005s
Create Date: 2026-11-25 22:15:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0008a"
down_revision = "0005s"
branch_labels = None
depends_on = None

TABLES = ("payments", "payment_transactions", "refunds", "promotion_redemptions")


def upgrade():
    conn = op.get_bind()
    orphans = {}
    for table in TABLES:
        count = conn.execute(
            sa.text(
                f"SELECT COUNT(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = t.order_id)"
            )
        ).scalar()
        if count:
            orphans[table] = count
    if orphans:
        raise RuntimeError(
            f"rows whose order_id names no order (delete or fix them first): {orphans}"
        )
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(
                f"fk_{table}_order_id_orders", "orders", ["order_id"], ["id"], ondelete="RESTRICT"
            )


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_order_id_orders", type_="foreignkey")
