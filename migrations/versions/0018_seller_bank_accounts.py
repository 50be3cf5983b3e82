"""sellers' bank accounts: holder, the number encrypted (last 4 and a keyed hash kept), currency, country, verification, default

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 01:40:00

`seller_bank_accounts`: an IBAN or a local account number with its routing number, encrypted at
rest (Fernet, app.core.crypto); its last 4 characters for display and an HMAC-SHA256 of it (keyed
with the application's key) so a seller cannot register the same account twice
(uq_seller_bank_accounts_number). Verification (unverified, verified, rejected) is set by staff.
One default per seller and currency is kept by app.sellers.banking.services under the seller's
row lock.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "seller_bank_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("account_number", sa.Text(), nullable=False),
        sa.Column("account_number_hash", sa.String(length=64), nullable=False),
        sa.Column("number_last4", sa.String(length=4), nullable=False),
        sa.Column("routing_number", sa.String(length=20), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("verification_status", sa.String(length=16), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("verified_by_user_id", sa.Integer(), nullable=True),
        sa.Column("rejection_reason", sa.String(length=500), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "verification_status IN ('unverified', 'verified', 'rejected')",
            name=op.f("ck_seller_bank_accounts_verification_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["sellers.id"],
            name=op.f("fk_seller_bank_accounts_seller_id_sellers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_seller_bank_accounts_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_bank_accounts")),
        sa.UniqueConstraint(
            "tenant_id", "seller_id", "account_number_hash", name="uq_seller_bank_accounts_number"
        ),
    )
    with op.batch_alter_table("seller_bank_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_seller_bank_accounts_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            "ix_seller_bank_accounts_seller", ["tenant_id", "seller_id", "currency"], unique=False
        )


def downgrade():
    op.drop_table("seller_bank_accounts")
