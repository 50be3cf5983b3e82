"""guest order access tokens (stored hashed) and per-line refunds (units, amounts, restock)

Revision ID: 0008b
Revises: 0008a
Create Date: 2026-11-25 22:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0008b"
down_revision = "0008a"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("access_token_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("order_refund_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "shipping_amount",
                sa.Numeric(precision=12, scale=2),
                server_default="0",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("restock", sa.Boolean(), server_default="0", nullable=False))
    op.create_table(
        "order_refund_request_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_request_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("restocked_quantity", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "amount >= 0", name=op.f("ck_order_refund_request_lines_amount_not_negative")
        ),
        sa.CheckConstraint(
            "quantity >= 1", name=op.f("ck_order_refund_request_lines_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_order_refund_request_lines_order_line_id_order_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["refund_request_id"],
            ["order_refund_requests.id"],
            name=op.f("fk_order_refund_request_lines_refund_request_id_order_refund_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_order_refund_request_lines_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_refund_request_lines")),
    )
    with op.batch_alter_table("order_refund_request_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_refund_request_lines_refund_request_id"),
            ["refund_request_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_order_refund_request_lines_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            "ix_order_refund_request_lines_tenant_line",
            ["tenant_id", "order_line_id"],
            unique=False,
        )


def downgrade():
    op.drop_table("order_refund_request_lines")
    with op.batch_alter_table("order_refund_requests", schema=None) as batch_op:
        batch_op.drop_column("restock")
        batch_op.drop_column("shipping_amount")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("access_token_hash")
