"""analytics model registry: every trained model version per tenant and kind, with its window,
features, metrics against a naive baseline, training time and status (active, previous, retired,
failed)

Revision ID: 0033
Revises: 0030
Create Date: 2026-12-07 13:10:00

The API serves the active version's predictions (each model's prediction tables are keyed by the
version's id); the previous version is kept for rollback.
"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "analytics_model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("algorithm", sa.String(length=200), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=True),
        sa.Column("window_end", sa.DateTime(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("baseline", sa.JSON(), nullable=False),
        sa.Column("training_seconds", sa.Float(), nullable=False),
        sa.Column("trained_at", sa.DateTime(), nullable=False),
        sa.Column("activated_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_analytics_model_versions_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_model_versions")),
    )
    with op.batch_alter_table("analytics_model_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_model_versions_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            "ix_analytics_model_versions_kind", ["tenant_id", "kind", "version"], unique=False
        )


def downgrade():
    op.drop_table("analytics_model_versions")
