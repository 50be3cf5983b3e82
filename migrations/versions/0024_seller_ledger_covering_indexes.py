"""covering indexes for a seller's ledger: balances, deep ledger pages and the opening balance
read from the index alone

A seller's balances sum every entry it has (one grouped SUM, app.payouts.statements), joined to
its sub-orders' releases for when each becomes available; a ledger page's opening balance sums
the entries before it, and a deep page skips the ones before it. With only (tenant_id, seller_id,
currency, id) each of these read every entry row (and its release row) one by one: 1.6-2.9 s for
a deep page of a seller with 150,000 entries (bench/results/ledger_statement.md). These two
indexes hold the columns those queries read (a period filters on created_at), in id order per
seller.

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-07 05:00:00

"""

from alembic import op

revision = "0024"
down_revision = "0027"
branch_labels = None
depends_on = None

ENTRIES_BY_SELLER = [
    "tenant_id",
    "seller_id",
    "id",
    "currency",
    "kind",
    "amount",
    "sub_order_id",
    "available_at",
    "created_at",
]
RELEASES_BY_SUB_ORDER = ["tenant_id", "sub_order_id", "available_at"]


# plain CREATE INDEX (no batch): on SQLite a batch could copy the table and lose its triggers
def upgrade():
    op.create_index("ix_seller_ledger_seller_covering", "seller_ledger_entries", ENTRIES_BY_SELLER)
    op.create_index(
        "ix_seller_ledger_releases_available", "seller_ledger_releases", RELEASES_BY_SUB_ORDER
    )


def downgrade():
    op.drop_index("ix_seller_ledger_releases_available", table_name="seller_ledger_releases")
    op.drop_index("ix_seller_ledger_seller_covering", table_name="seller_ledger_entries")
