"""foreign keys between domains built in parallel: a sub-order's shipping method, a refund
request's payment refund

Not yet: payments.order_id, refunds.order_id, payment_transactions.order_id and
promotion_redemptions.order_id stay plain indexed integers until their tests stop using
synthetic order ids (see the closing note of this change).

Revision ID: 0007
Revises: 0005o
Create Date: 2026-11-25 20:35:00

"""

from alembic import op

revision = "0007"
down_revision = "0005o"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sub_orders", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_sub_orders_shipping_method_id",
            "shipping_methods",
            ["shipping_method_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("order_refund_requests", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_order_refund_requests_payment_refund_id",
            "refunds",
            ["payment_refund_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("order_refund_requests", schema=None) as batch_op:
        batch_op.drop_constraint("fk_order_refund_requests_payment_refund_id", type_="foreignkey")
    with op.batch_alter_table("sub_orders", schema=None) as batch_op:
        batch_op.drop_constraint("fk_sub_orders_shipping_method_id", type_="foreignkey")
