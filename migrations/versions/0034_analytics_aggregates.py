"""analytics aggregates: daily sales, category and product figures, product activity, customers

Revision ID: 0034
Revises: 0035
Create Date: 2026-12-07 13:00:00

Daily aggregates per tenant in its local days (analytics.aggregates): sales by seller, channel
and currency; the same by category; products' sales and their views and cart adds; customers'
first and last sale, orders, and orders and spend per day and currency; and each sub-order's
current contribution (the facts the event consumers apply differences against).
"""

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0035"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=12, scale=2)


def _money(name):
    return sa.Column(name, MONEY, server_default="0", nullable=False)


def _count(name):
    return sa.Column(name, sa.Integer(), server_default="0", nullable=False)


def _table(name, columns, unique, index):
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        *columns,
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{name}_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("tenant_id", *unique, name=f"uq_{name}"),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{name}_tenant_id"), ["tenant_id"], unique=False)
        if index:
            index_name, columns = index
            batch_op.create_index(index_name, ["tenant_id", *columns], unique=False)


def upgrade():
    day = sa.Column("day", sa.Date(), nullable=False)
    _table(
        "analytics_sales_daily",
        [
            day,
            sa.Column("seller_id", sa.Integer(), nullable=False),
            sa.Column("channel", sa.String(length=16), nullable=False),
            sa.Column("currency", sa.String(length=3), nullable=False),
            _count("orders"),
            _count("shop_orders"),
            _count("units"),
            _money("gross"),
            _money("refunded"),
            _money("commission"),
            _money("net"),
        ],
        ("day", "seller_id", "channel", "currency"),
        ("ix_analytics_sales_daily_seller", ("seller_id", "day")),
    )
    _table(
        "analytics_category_sales_daily",
        [
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("seller_id", sa.Integer(), nullable=False),
            sa.Column("category_id", sa.Integer(), nullable=False),
            sa.Column("channel", sa.String(length=16), nullable=False),
            sa.Column("currency", sa.String(length=3), nullable=False),
            _count("orders"),
            _count("units"),
            _money("gross"),
            _money("refunded"),
            _money("commission"),
            _money("net"),
        ],
        ("day", "seller_id", "category_id", "channel", "currency"),
        ("ix_analytics_category_sales_daily_seller", ("seller_id", "day")),
    )
    _table(
        "analytics_product_daily",
        [
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("product_id", sa.Integer(), nullable=False),
            sa.Column("seller_id", sa.Integer(), nullable=False),
            sa.Column("currency", sa.String(length=3), nullable=False),
            _count("orders"),
            _count("units"),
            _money("revenue"),
            _count("units_refunded"),
        ],
        ("day", "product_id", "currency"),
        ("ix_analytics_product_daily_seller", ("seller_id", "day")),
    )
    _table(
        "analytics_product_activity_daily",
        [
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("product_id", sa.Integer(), nullable=False),
            sa.Column("seller_id", sa.Integer(), nullable=False),
            _count("views"),
            _count("cart_adds"),
        ],
        ("day", "product_id"),
        ("ix_analytics_product_activity_seller", ("seller_id", "day")),
    )
    _table(
        "analytics_customers",
        [
            sa.Column("seller_id", sa.Integer(), nullable=False),
            sa.Column("customer_user_id", sa.Integer(), nullable=False),
            sa.Column("first_order_at", sa.DateTime(), nullable=True),
            sa.Column("last_order_at", sa.DateTime(), nullable=True),
            sa.Column("first_order_day", sa.Date(), nullable=True),
            _count("orders"),
        ],
        ("seller_id", "customer_user_id"),
        ("ix_analytics_customers_first", ("seller_id", "first_order_day")),
    )
    _table(
        "analytics_customer_days",
        [
            sa.Column("seller_id", sa.Integer(), nullable=False),
            sa.Column("customer_user_id", sa.Integer(), nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("currency", sa.String(length=3), nullable=False),
            _count("orders"),
            _money("spend"),
        ],
        ("seller_id", "customer_user_id", "day", "currency"),
        ("ix_analytics_customer_days_day", ("seller_id", "day")),
    )
    _table(
        "analytics_sub_order_facts",
        [
            sa.Column("sub_order_id", sa.Integer(), nullable=False),
            sa.Column("contributions", sa.JSON(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
        ],
        ("sub_order_id",),
        None,
    )


def downgrade():
    for name in (
        "analytics_sub_order_facts",
        "analytics_customer_days",
        "analytics_customers",
        "analytics_product_activity_daily",
        "analytics_product_daily",
        "analytics_category_sales_daily",
        "analytics_sales_daily",
    ):
        op.drop_table(name)
