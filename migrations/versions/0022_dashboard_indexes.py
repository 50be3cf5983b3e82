"""indexes for the dashboards: sub-orders by placing time and by status, refund requests by status

The seller dashboard's period figures read a seller's sub-orders placed in a period, the admin's
the shop's (both indexes cover the columns those figures read); the work waiting (to process, to
ship) counts a seller's sub-orders by status; the refund requests waiting are counted by status. Without these indexes each was a scan of every
sub-order of the seller (or of the shop).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 01:40:00

"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


# covering: a period's figures read these columns of sub_orders from the index alone (measured on
# 200,000 sub-orders, bench/dashboard_bench.py: a seller's dashboard 4.4 s -> 0.9 s cold, the
# sub-order rows no longer fetched one by one)
COVERED = ["status", "total", "commission_amount", "order_id"]
SELLER_PERIOD = ["tenant_id", "seller_id", "created_at", *COVERED]
SHOP_PERIOD = ["tenant_id", "created_at", *COVERED, "seller_id"]


def upgrade():
    with op.batch_alter_table("sub_orders", schema=None) as batch_op:
        batch_op.create_index("ix_sub_orders_tenant_seller_created", SELLER_PERIOD)
        batch_op.create_index("ix_sub_orders_tenant_created", SHOP_PERIOD)
        batch_op.create_index(
            "ix_sub_orders_tenant_seller_status", ["tenant_id", "seller_id", "status"]
        )
    with op.batch_alter_table("order_refund_requests", schema=None) as batch_op:
        batch_op.create_index("ix_order_refund_requests_tenant_status", ["tenant_id", "status"])


def downgrade():
    with op.batch_alter_table("order_refund_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_order_refund_requests_tenant_status")
    with op.batch_alter_table("sub_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_sub_orders_tenant_seller_status")
        batch_op.drop_index("ix_sub_orders_tenant_created")
        batch_op.drop_index("ix_sub_orders_tenant_seller_created")
