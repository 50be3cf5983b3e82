"""payouts: payouts per seller and currency, the ledger entries each pays, the job's skip notices

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 04:50:00

`payout_items.claimed_entry_id` carries the paid ledger entry's id while its payout is live and
NULL once the payout failed; its UNIQUE key makes paying one entry twice impossible in the
database (MariaDB and SQLite both allow many NULLs in a UNIQUE key), even when two payout jobs
or two staff actions run at once (app/payouts/batches.py). The job writes up to a row per ledger
entry at once: the other indexes are not unique (InnoDB buffers their changes) and the claim has
no foreign key of its own (a CHECK ties it to the item's ledger_entry_id, which has one).
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0028"
branch_labels = None
depends_on = None

STATUSES = ("created", "approved", "processing", "paid", "failed")
REASONS = ("no_bank_account", "below_minimum", "negative_balance", "seller_suspended")
MONEY = sa.Numeric(precision=12, scale=2)


def _fk(table: str, column: str, target: str, ondelete: str | None = "RESTRICT"):
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade():
    op.create_table(
        "payouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("bank_account_id", sa.Integer(), nullable=True),
        sa.Column("bank_account_masked", sa.String(length=32), nullable=False),
        sa.Column("adapter", sa.String(length=32), nullable=True),
        sa.Column("external_reference", sa.String(length=200), nullable=True),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("approved_by_user_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("paid_by_user_id", sa.Integer(), nullable=True),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.Column("failed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("failed_at", sa.DateTime(), nullable=True),
        sa.Column("payout_entry_id", sa.Integer(), nullable=True),
        sa.Column("reversal_entry_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(_in("status", STATUSES), name=op.f("ck_payouts_status_known")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payouts_amount_positive")),
        _fk("payouts", "seller_id", "sellers"),
        _fk("payouts", "bank_account_id", "seller_bank_accounts", "SET NULL"),
        _fk("payouts", "approved_by_user_id", "ab_user"),
        _fk("payouts", "paid_by_user_id", "ab_user"),
        _fk("payouts", "failed_by_user_id", "ab_user"),
        _fk("payouts", "payout_entry_id", "seller_ledger_entries"),
        _fk("payouts", "reversal_entry_id", "seller_ledger_entries"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_payouts_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
    )
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payouts_tenant_seller", ["tenant_id", "seller_id", "currency", "id"]
        )
        batch_op.create_index("ix_payouts_tenant_status", ["tenant_id", "status", "id"])
        batch_op.create_index(batch_op.f("ix_payouts_tenant_id"), ["tenant_id"])

    op.create_table(
        "payout_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payout_id", sa.Integer(), nullable=False),
        sa.Column("ledger_entry_id", sa.Integer(), nullable=False),
        sa.Column("claimed_entry_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        _fk("payout_items", "payout_id", "payouts"),
        _fk("payout_items", "ledger_entry_id", "seller_ledger_entries"),
        sa.CheckConstraint(
            "claimed_entry_id IS NULL OR claimed_entry_id = ledger_entry_id",
            name=op.f("ck_payout_items_claim_is_entry"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_payout_items_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_items")),
        sa.UniqueConstraint("claimed_entry_id", name="uq_payout_items_claimed_entry"),
    )
    with op.batch_alter_table("payout_items", schema=None) as batch_op:
        batch_op.create_index("ix_payout_items_payout", ["payout_id", "ledger_entry_id"])
        batch_op.create_index("ix_payout_items_entry", ["ledger_entry_id"])
        batch_op.create_index(batch_op.f("ix_payout_items_tenant_id"), ["tenant_id"])

    op.create_table(
        "payout_skips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("minimum", MONEY, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(_in("reason", REASONS), name=op.f("ck_payout_skips_reason_known")),
        _fk("payout_skips", "seller_id", "sellers"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_payout_skips_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_skips")),
    )
    with op.batch_alter_table("payout_skips", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payout_skips_tenant_seller", ["tenant_id", "seller_id", "currency", "id"]
        )
        batch_op.create_index(batch_op.f("ix_payout_skips_tenant_id"), ["tenant_id"])


def downgrade():
    op.drop_table("payout_skips")
    op.drop_table("payout_items")
    op.drop_table("payouts")
