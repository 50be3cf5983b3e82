"""seller onboarding (rejected status, the reason the applicant reads, business type) and KYC
(requirements per business type, uploaded documents, their reviews)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 01:40:00

Existing sellers keep their status and become business type "individual". The documents' files
live under KYC_STORAGE_ROOT (not in the database); the downgrade drops the rows, not the files.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sellers") as batch:
        batch.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("status_changed_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column(
                "business_type", sa.String(length=32), nullable=False, server_default="individual"
            )
        )
    op.create_table(
        "kyc_requirements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("business_type", sa.String(length=32), nullable=False),
        sa.Column("document_type", sa.String(length=64), nullable=False),
        sa.Column("is_mandatory", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_kyc_requirements_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyc_requirements")),
        sa.UniqueConstraint(
            "tenant_id", "business_type", "document_type", name="uq_kyc_requirements_type"
        ),
    )
    op.create_index(
        op.f("ix_kyc_requirements_tenant_id"), "kyc_requirements", ["tenant_id"], unique=False
    )
    op.create_table(
        "kyc_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("document_type", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_name", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["sellers.id"],
            name=op.f("fk_kyc_documents_seller_id_sellers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_kyc_documents_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyc_documents")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_kyc_documents_storage_name")),
    )
    op.create_index(op.f("ix_kyc_documents_tenant_id"), "kyc_documents", ["tenant_id"])
    op.create_index(
        "ix_kyc_documents_tenant_seller", "kyc_documents", ["tenant_id", "seller_id", "id"]
    )
    op.create_table(
        "kyc_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["kyc_documents.id"],
            name=op.f("fk_kyc_reviews_document_id_kyc_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["ab_user.id"],
            name=op.f("fk_kyc_reviews_reviewer_id_ab_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_kyc_reviews_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyc_reviews")),
    )
    op.create_index(op.f("ix_kyc_reviews_tenant_id"), "kyc_reviews", ["tenant_id"])
    op.create_index(op.f("ix_kyc_reviews_document_id"), "kyc_reviews", ["document_id"])


def downgrade():
    op.drop_table("kyc_reviews")
    op.drop_table("kyc_documents")
    op.drop_table("kyc_requirements")
    with op.batch_alter_table("sellers") as batch:
        batch.drop_column("business_type")
        batch.drop_column("status_changed_at")
        batch.drop_column("status_reason")
