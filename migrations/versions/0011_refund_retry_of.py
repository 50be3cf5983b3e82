"""refunds: which failed refund a refund retries (the admin's "Retry refund"), once each

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 03:40:00

`retry_of_refund_id` is unique: a failed refund has at most one retry (a retry that fails too is
retried in its turn). No foreign key: both rows belong to the same payment and are deleted with it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_of_refund_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_refunds_retry_of_refund_id"), ["retry_of_refund_id"]
        )


def downgrade():
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_refunds_retry_of_refund_id"), type_="unique")
        batch_op.drop_column("retry_of_refund_id")
