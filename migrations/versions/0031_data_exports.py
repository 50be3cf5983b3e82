"""data exports: files made in the background for one user (large list exports, tenant backups)

Revision ID: 0031
Revises: 0032
Create Date: 2026-12-07 10:00:00

A row per file asked for: who asked, what (an admin list's name and its query arguments, an API
entity, a tenant backup), the format, its status (queued, running, done, failed), the rows written
and the file's name under DATA_EXPORT_DIR. Downloads go through signed links that expire.
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "data_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["ab_user.id"],
            name=op.f("fk_data_exports_user_id_ab_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_data_exports_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
    )
    with op.batch_alter_table("data_exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_exports_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "ix_data_exports_tenant_user", ["tenant_id", "user_id", "id"], unique=False
        )


def downgrade():
    # the table's indexes go with it (MariaDB refuses to drop first the one its foreign key uses)
    op.drop_table("data_exports")
