"""tenants: per-line and per-order quantity limits (units of one item in a cart or order, units in all)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 17:00:00

One guest's unpaid order of 10,000 units held a variant's whole stock for the reservation time.
Each tenant now caps the units of one cart line (default 100) and of one cart or order in all
(default 500); the cart and the checkout enforce them (app.cart.services.check_quantity_limits).
Existing tenants get the defaults.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("max_line_quantity", sa.Integer(), server_default="100", nullable=False)
        )
        batch_op.add_column(
            sa.Column("max_order_units", sa.Integer(), server_default="500", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("max_order_units")
        batch_op.drop_column("max_line_quantity")
