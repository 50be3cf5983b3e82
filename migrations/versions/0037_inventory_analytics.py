"""inventory analytics: daily stock snapshots per warehouse and variant, units sold per variant and
day, and the demand model's predictions (reorder point and quantity per variant and version)

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-08 10:00:00

Days are the tenant's local days. The snapshot values stock at the variant's price (the catalog
has no cost price), per currency. See analytics/inventory.py and analytics/ml/demand.py.
"""

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def _tenant(table):
    return (
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants")
        ),
    )


def _fk(table, column, target, ondelete=None):
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade():
    t = "inventory_daily_stock"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("reorder_point", sa.Integer(), nullable=False),
        sa.Column("unit_value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("value", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("captured_at", sa.DateTime(), nullable=False),
        *_tenant(t),
        _fk(t, "warehouse_id", "warehouses", "CASCADE"),
        _fk(t, "variant_id", "product_variants", "CASCADE"),
        _fk(t, "seller_id", "sellers"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint(
            "tenant_id", "day", "warehouse_id", "variant_id", name="uq_inventory_daily_stock_day"
        ),
    )
    with op.batch_alter_table(t, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{t}_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f(f"ix_{t}_variant_id"), ["variant_id"], unique=False)
        batch_op.create_index(
            "ix_inventory_daily_stock_seller", ["tenant_id", "seller_id", "day"], unique=False
        )

    t = "inventory_daily_sales"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        *_tenant(t),
        _fk(t, "variant_id", "product_variants", "CASCADE"),
        _fk(t, "seller_id", "sellers"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("tenant_id", "day", "variant_id", name="uq_inventory_daily_sales_day"),
    )
    with op.batch_alter_table(t, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{t}_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "ix_inventory_daily_sales_variant", ["tenant_id", "variant_id", "day"], unique=False
        )
        batch_op.create_index(
            "ix_inventory_daily_sales_seller", ["tenant_id", "seller_id", "day"], unique=False
        )

    t = "demand_predictions"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("expected_daily_demand", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("error_std", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("service_level", sa.Numeric(precision=4, scale=3), nullable=False),
        sa.Column("safety_stock", sa.Integer(), nullable=False),
        sa.Column("reorder_point", sa.Integer(), nullable=False),
        sa.Column("reorder_quantity", sa.Integer(), nullable=False),
        *_tenant(t),
        _fk(t, "model_version_id", "analytics_model_versions", "CASCADE"),
        _fk(t, "variant_id", "product_variants", "CASCADE"),
        _fk(t, "seller_id", "sellers"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("model_version_id", "variant_id", name="uq_demand_predictions_variant"),
    )
    with op.batch_alter_table(t, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{t}_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f(f"ix_{t}_variant_id"), ["variant_id"], unique=False)


def downgrade():
    # the tables' indexes go with them (MariaDB refuses to drop first one a foreign key uses)
    op.drop_table("demand_predictions")
    op.drop_table("inventory_daily_sales")
    op.drop_table("inventory_daily_stock")
