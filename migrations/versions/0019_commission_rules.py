"""commission rules (platform default, category, seller, seller + category; rate and/or fixed per line or order; valid from/until), frozen on order lines and sub-orders

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 01:50:00

`commission_rules`: the most specific rule valid at checkout wins (app.commissions.services).
Order lines freeze the rule's id (a plain id: the line keeps its figures if the rule is deleted),
its rate, its fixed part per line and the amount; sub-orders the per-order fixed parts. Existing
lines and sub-orders had no fixed part: 0, and no rule (their rate was the seller's).
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "commission_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("rate", sa.Numeric(precision=6, scale=4), nullable=True),
        sa.Column("fixed_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("fixed_per", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("valid_from", sa.DateTime(), nullable=True),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "rate IS NULL OR (rate >= 0 AND rate <= 1)", name=op.f("ck_commission_rules_rate_range")
        ),
        sa.CheckConstraint(
            "fixed_amount IS NULL OR fixed_amount >= 0",
            name=op.f("ck_commission_rules_fixed_not_negative"),
        ),
        sa.CheckConstraint(
            "rate IS NOT NULL OR fixed_amount IS NOT NULL",
            name=op.f("ck_commission_rules_rate_or_fixed"),
        ),
        sa.CheckConstraint(
            "fixed_per IN ('line', 'order')", name=op.f("ck_commission_rules_fixed_per_known")
        ),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_from IS NULL OR valid_until > valid_from",
            name=op.f("ck_commission_rules_valid_until_after_from"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["sellers.id"],
            name=op.f("fk_commission_rules_seller_id_sellers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_commission_rules_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commission_rules_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_rules")),
    )
    with op.batch_alter_table("commission_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commission_rules_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            "ix_commission_rules_scope", ["tenant_id", "seller_id", "category_id"], unique=False
        )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("commission_rule_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "commission_fixed",
                sa.Numeric(precision=12, scale=2),
                server_default="0",
                nullable=False,
            )
        )
    with op.batch_alter_table("sub_orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "commission_fixed",
                sa.Numeric(precision=12, scale=2),
                server_default="0",
                nullable=False,
            )
        )


def downgrade():
    with op.batch_alter_table("sub_orders", schema=None) as batch_op:
        batch_op.drop_column("commission_fixed")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_column("commission_fixed")
        batch_op.drop_column("commission_rule_id")
    op.drop_table("commission_rules")
