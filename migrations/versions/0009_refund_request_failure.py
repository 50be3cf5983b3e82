"""refund requests whose payment refund failed: their failure code

Revision ID: 0009
Revises: 0008b
Create Date: 2026-11-26 01:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008b"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("order_refund_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure_code", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("order_refund_requests", schema=None) as batch_op:
        batch_op.drop_column("failure_code")
