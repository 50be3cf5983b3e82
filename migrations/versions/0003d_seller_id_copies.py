"""seller_id copied onto variants, stock levels, stock movements and low-stock alerts

A seller's rows become one indexed lookup instead of a join through products (the admin's
seller lists took 300-500 ms at 100k products). Existing rows are filled from their product.

Revision ID: 0003d
Revises: 0002
Create Date: 2026-11-25 17:55:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0003d"
down_revision = "0002"
branch_labels = None
depends_on = None

# table -> the statement that fills seller_id from the row it hangs off (run in this order)
BACKFILL = (
    (
        "product_variants",
        "UPDATE product_variants SET seller_id = "
        "(SELECT products.seller_id FROM products WHERE products.id = product_variants.product_id)",
    ),
    (
        "stock_levels",
        "UPDATE stock_levels SET seller_id = "
        "(SELECT product_variants.seller_id FROM product_variants WHERE product_variants.id = stock_levels.variant_id)",
    ),
    (
        "stock_movements",
        "UPDATE stock_movements SET seller_id = "
        "(SELECT stock_levels.seller_id FROM stock_levels WHERE stock_levels.id = stock_movements.stock_level_id)",
    ),
    (
        "low_stock_alerts",
        "UPDATE low_stock_alerts SET seller_id = "
        "(SELECT stock_levels.seller_id FROM stock_levels WHERE stock_levels.id = low_stock_alerts.stock_level_id)",
    ),
)


def upgrade():
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(
            "ix_products_tenant_seller", ["tenant_id", "seller_id", "id"], unique=False
        )
    for table, backfill in BACKFILL:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("seller_id", sa.Integer(), nullable=True))
        op.execute(backfill)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("seller_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(
                f"fk_{table}_seller_id_sellers", "sellers", ["seller_id"], ["id"]
            )
            # tenant first: every ORM query carries tenant_id, and the count of a seller's rows is
            # then a covering range (2.7 ms for 21k movements, against 65 ms with (seller_id, id))
            batch_op.create_index(
                f"ix_{table}_tenant_seller", ["tenant_id", "seller_id", "id"], unique=False
            )


def downgrade():
    for table, _ in reversed(BACKFILL):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_seller_id_sellers", type_="foreignkey")
            batch_op.drop_index(f"ix_{table}_tenant_seller")
            batch_op.drop_column("seller_id")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_tenant_seller")
