"""product models' predictions: recommendations (bought together, similar items, the popular
fallback) and the daily sales forecast, each row keyed by the model version that wrote it

Revision ID: 0036
Revises: 0033
Create Date: 2026-12-07 15:00:00

Written by the trainers of analytics/ml/recommendations.py and analytics/ml/forecast.py; the API
reads the tenant's active version's rows only. A retired version's rows are deleted by the
registry; a deleted product takes its rows with it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "analytics_recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("list_kind", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("recommended_product_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["analytics_model_versions.id"],
            name="fk_analytics_recs_version",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name="fk_analytics_recs_product",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recommended_product_id"],
            ["products.id"],
            name="fk_analytics_recs_recommended",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_analytics_recommendations_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_recommendations")),
    )
    with op.batch_alter_table("analytics_recommendations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_recommendations_tenant_id"),
            ["tenant_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_analytics_recommendations_serve",
            ["tenant_id", "model_version_id", "product_id", "list_kind", "rank"],
            unique=False,
        )
    op.create_table(
        "analytics_forecasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("predicted", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("lower", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("upper", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["analytics_model_versions.id"],
            name="fk_analytics_forecasts_version",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["sellers.id"],
            name="fk_analytics_forecasts_seller",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_analytics_forecasts_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_forecasts")),
    )
    with op.batch_alter_table("analytics_forecasts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_forecasts_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            "ix_analytics_forecasts_serve",
            ["tenant_id", "model_version_id", "seller_id", "day"],
            unique=False,
        )


def downgrade():
    # the tables' indexes go with them (MariaDB refuses to drop first the one a foreign key uses)
    op.drop_table("analytics_forecasts")
    op.drop_table("analytics_recommendations")
