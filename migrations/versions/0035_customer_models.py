"""customer models' predictions: segments, churn probabilities (with reasons) and lifetime values,
one row per customer and model version

Revision ID: 0035
Revises: 0037
Create Date: 2026-12-07 14:00:00

Keyed by analytics_model_versions.id: the API reads the active version's rows; a retired version's
rows are deleted (analytics.registry), and a version's rows go with it (ON DELETE CASCADE).
"""

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0037"
branch_labels = None
depends_on = None


def _keys(table: str) -> list:
    """id, the customer, the version and the tenant, as every prediction table has them."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_user_id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_user_id"],
            ["ab_user.id"],
            name=op.f(f"fk_{table}_customer_user_id_ab_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["analytics_model_versions.id"],
            name=op.f(f"fk_{table}_model_version_id_analytics_model_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade():
    op.create_table(
        "analytics_customer_segments",
        *_keys("analytics_customer_segments"),
        sa.Column("segment", sa.String(length=32), nullable=False),
        sa.Column("cluster", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("recency_days", sa.Float(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("tenure_days", sa.Float(), nullable=False),
        sa.Column("avg_order_value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("refund_rate", sa.Float(), nullable=False),
        sa.Column("days_between_orders", sa.Float(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("cart_adds", sa.Integer(), nullable=False),
        sa.Column("wishlist_adds", sa.Integer(), nullable=False),
        sa.Column("searches", sa.Integer(), nullable=False),
    )
    op.create_table(
        "analytics_churn_predictions",
        *_keys("analytics_churn_predictions"),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("recency_days", sa.Float(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
    )
    op.create_table(
        "analytics_lifetime_values",
        *_keys("analytics_lifetime_values"),
        sa.Column("predicted_value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("past_value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
    )
    for table, columns in (
        ("analytics_customer_segments", ["model_version_id", "segment", "monetary"]),
        ("analytics_churn_predictions", ["model_version_id", "probability"]),
        ("analytics_lifetime_values", ["model_version_id", "predicted_value"]),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_tenant_id"), ["tenant_id"], unique=False)
            batch_op.create_index(f"ix_{table}_version", columns, unique=False)


def downgrade():
    # their indexes go with them
    op.drop_table("analytics_lifetime_values")
    op.drop_table("analytics_churn_predictions")
    op.drop_table("analytics_customer_segments")
