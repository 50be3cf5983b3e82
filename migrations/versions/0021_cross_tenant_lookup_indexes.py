"""order number and SKU indexes for the cross-tenant searches, a seller's titles in order, orders by date

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 01:50:00

A Super Admin reads across tenants: its queries carry no tenant_id, so the (tenant_id, number)
and (tenant_id, sku) unique indexes cannot serve its order-number and SKU prefix searches (the
navbar's search box, app/lookup.py, and the order list's number filter): each read every order or
every variant (0.6 s for 100,000 orders / 200,000 variants in bench/admin_list_bench.py). An index
led by the number, and one by the SKU, serve the prefix as a range for every reader.

A seller's title search (a word anywhere in its titles, in title order, the first 8) walked the
tenant's title index and read each product's row to check its seller: 100,000 row reads for a
word no title holds. (tenant_id, seller_id, title) holds what the query needs: only the seller's
own titles are read, in order.

The order list sorted by date (newest first) sorted every order of the tenant to show 25 (0.29 s
at 100,000 orders); (tenant_id, created_at) gives them in order (under 1 ms).
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_number", ["number"], unique=False)
        batch_op.create_index("ix_orders_tenant_created", ["tenant_id", "created_at"], unique=False)
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.create_index("ix_product_variants_sku", ["sku"], unique=False)
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(
            "ix_products_tenant_seller_title", ["tenant_id", "seller_id", "title"], unique=False
        )


def downgrade():
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_tenant_seller_title")
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.drop_index("ix_product_variants_sku")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_tenant_created")
        batch_op.drop_index("ix_orders_number")
