"""purchasing: suppliers, purchase orders with lines, and their receipts

Revision ID: 0028
Revises: 0022
Create Date: 2026-12-07 05:00:00

A supplier belongs to the tenant (seller_id NULL: the platform's) or to one seller. A purchase
order (draft, sent, partly_received, received, cancelled) orders variants into one warehouse; a
receipt records one delivery, its key unique per order (the same key never receives twice).
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0026"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str | None = "RESTRICT"):
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _tenant(table: str):
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants")
    )


def upgrade():
    op.create_table(
        "suppliers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("contact_name", sa.String(length=120), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _fk("suppliers", "seller_id", "sellers"),
        _tenant("suppliers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppliers")),
    )
    with op.batch_alter_table("suppliers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suppliers_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "ix_suppliers_tenant_seller", ["tenant_id", "seller_id", "name"], unique=False
        )

    op.create_table(
        "purchase_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=True),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expected_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'sent', 'partly_received', 'received', 'cancelled')",
            name=op.f("ck_purchase_orders_status_known"),
        ),
        _fk("purchase_orders", "supplier_id", "suppliers"),
        _fk("purchase_orders", "seller_id", "sellers"),
        _fk("purchase_orders", "warehouse_id", "warehouses"),
        _fk("purchase_orders", "created_by_user_id", "ab_user", "SET NULL"),
        _tenant("purchase_orders"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_orders")),
        sa.UniqueConstraint("tenant_id", "number", name="uq_purchase_orders_tenant_number"),
    )
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purchase_orders_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_purchase_orders_supplier_id"), ["supplier_id"], unique=False
        )
        batch_op.create_index(
            "ix_purchase_orders_tenant_seller", ["tenant_id", "seller_id", "id"], unique=False
        )

    op.create_table(
        "purchase_order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purchase_order_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("quantity_ordered", sa.Integer(), nullable=False),
        sa.Column("quantity_received", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "quantity_ordered > 0", name=op.f("ck_purchase_order_lines_ordered_positive")
        ),
        sa.CheckConstraint(
            "quantity_received >= 0", name=op.f("ck_purchase_order_lines_received_not_negative")
        ),
        sa.CheckConstraint(
            "unit_cost >= 0", name=op.f("ck_purchase_order_lines_unit_cost_not_negative")
        ),
        _fk("purchase_order_lines", "purchase_order_id", "purchase_orders", "CASCADE"),
        _fk("purchase_order_lines", "variant_id", "product_variants"),
        _tenant("purchase_order_lines"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_order_lines")),
        sa.UniqueConstraint(
            "purchase_order_id", "variant_id", name="uq_purchase_order_lines_variant"
        ),
    )
    with op.batch_alter_table("purchase_order_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purchase_order_lines_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_purchase_order_lines_purchase_order_id"),
            ["purchase_order_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_purchase_order_lines_variant_id"), ["variant_id"], unique=False
        )

    op.create_table(
        "purchase_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purchase_order_id", sa.Integer(), nullable=False),
        sa.Column("receipt_key", sa.String(length=100), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("over_receipt", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("purchase_receipts", "purchase_order_id", "purchase_orders", "CASCADE"),
        _fk("purchase_receipts", "actor_id", "ab_user", "SET NULL"),
        _tenant("purchase_receipts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_receipts")),
        sa.UniqueConstraint("purchase_order_id", "receipt_key", name="uq_purchase_receipts_key"),
    )
    with op.batch_alter_table("purchase_receipts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purchase_receipts_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_purchase_receipts_purchase_order_id"),
            ["purchase_order_id"],
            unique=False,
        )


def downgrade():
    op.drop_table("purchase_receipts")
    op.drop_table("purchase_order_lines")
    op.drop_table("purchase_orders")
    op.drop_table("suppliers")
