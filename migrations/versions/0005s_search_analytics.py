"""search analytics: logged searches and clicks on results

Revision ID: 0005s
Revises: 0007
Create Date: 2026-11-25 20:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0005s"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "search_queries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("normalized", sa.String(length=200), nullable=False),
        sa.Column("endpoint", sa.String(length=32), nullable=False),
        sa.Column("result_count", sa.Integer(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("sort", sa.String(length=16), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("source_event_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_search_queries_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["ab_user.id"],
            name="fk_search_queries_user_id_ab_user",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_search_queries"),
        sa.UniqueConstraint("source_event_id", name="uq_search_queries_source_event"),
    )
    with op.batch_alter_table("search_queries", schema=None) as batch_op:
        batch_op.create_index("ix_search_queries_tenant_id", ["tenant_id"], unique=False)
        batch_op.create_index(
            "ix_search_queries_tenant_created", ["tenant_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_search_queries_tenant_zero",
            ["tenant_id", "result_count", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_search_queries_tenant_normalized", ["tenant_id", "normalized"], unique=False
        )

    op.create_table(
        "search_clicks",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("source_event_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_search_clicks_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name="fk_search_clicks_product_id_products",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["ab_user.id"],
            name="fk_search_clicks_user_id_ab_user",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_search_clicks"),
        sa.UniqueConstraint("source_event_id", name="uq_search_clicks_source_event"),
    )
    with op.batch_alter_table("search_clicks", schema=None) as batch_op:
        batch_op.create_index("ix_search_clicks_tenant_id", ["tenant_id"], unique=False)
        batch_op.create_index(
            "ix_search_clicks_tenant_created", ["tenant_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_search_clicks_tenant_product", ["tenant_id", "product_id"], unique=False
        )


def downgrade():
    op.drop_table("search_clicks")
    op.drop_table("search_queries")
