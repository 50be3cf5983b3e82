"""data imports: one row per uploaded file (who, entity, format, mode, status, progress, the
upload's stored name) and its failed rows (the row as uploaded and its errors by column), from
which the error file is made

Revision ID: 0030
Revises: 0031
Create Date: 2026-12-07 09:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0031"
branch_labels = None
depends_on = None


def _utc():
    return sa.DateTime()


def upgrade():
    op.create_table(
        "data_imports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("seller_id", sa.Integer(), sa.ForeignKey("sellers.id"), nullable=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("ab_user.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("storage_name", sa.String(64), nullable=True),
        sa.Column("file_bytes", sa.BigInteger(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_failed", sa.Integer(), nullable=False),
        sa.Column("rows_created", sa.Integer(), nullable=False),
        sa.Column("rows_updated", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(500), nullable=True),
        sa.Column("run_token", sa.String(32), nullable=True),
        sa.Column("heartbeat_at", _utc(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("started_at", _utc(), nullable=True),
        sa.Column("finished_at", _utc(), nullable=True),
    )
    op.create_index("ix_data_imports_tenant_id", "data_imports", ["tenant_id"])
    op.create_index("ix_data_imports_seller_id", "data_imports", ["seller_id"])
    op.create_index("ix_data_imports_tenant_created", "data_imports", ["tenant_id", "created_at"])
    op.create_table(
        "data_import_errors",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column(
            "import_id",
            sa.Integer(),
            sa.ForeignKey("data_imports.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.UniqueConstraint("import_id", "row_number", name="uq_data_import_errors_row"),
    )
    op.create_index("ix_data_import_errors_tenant_id", "data_import_errors", ["tenant_id"])


def downgrade():
    op.drop_table("data_import_errors")
    op.drop_table("data_imports")
