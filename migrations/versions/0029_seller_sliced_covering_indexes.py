"""seller-sliced covering indexes: a seller's statement and dashboard read only index pages of
their own rows

A statement export joins each of a seller's entries to its sub-order (number), order line (SKU)
and release (when available). MariaDB read the entries by scanning the whole table in id order
(the 0024 covering index lacked order_line_id and note) and fetched every sub-order, line and
release row by primary key: ~600,000 random page reads for the bench's biggest seller (205,436
entries), 12-16 s on a buffer pool smaller than those tables (bench/results/seller_ledger.md).
Here every table the statement and the dashboard join has an index that starts with
(tenant_id, seller_id) and holds the columns read, so a seller's lookups stay in a few
megabytes of its own index pages: the entries' covering index of 0024 is replaced by one that
also holds order_line_id and note; sub-orders by (seller, id) with their number, order lines by
(seller, id) with their SKU and by (seller, sub-order) with what the top products sum; releases
by (seller, sub-order) with their moment; orders by id with their currency (the dashboard's
per-currency figures); refund requests by status with their sub-order (the requests waiting for
a seller, counted without reading each request's row).

Revision ID: 0029
Revises: 0024
Create Date: 2026-12-07 05:50:00

"""

from alembic import op

revision = "0029"
down_revision = "0023"
branch_labels = None
depends_on = None

INDEXES = [
    (
        "ix_seller_ledger_seller_statement",
        "seller_ledger_entries",
        [
            "tenant_id",
            "seller_id",
            "id",
            "currency",
            "kind",
            "amount",
            "sub_order_id",
            "available_at",
            "created_at",
            "order_line_id",
            "note",
        ],
    ),
    ("ix_sub_orders_seller_number", "sub_orders", ["tenant_id", "seller_id", "id", "number"]),
    ("ix_order_lines_seller_sku", "order_lines", ["tenant_id", "seller_id", "id", "sku"]),
    (
        "ix_order_lines_seller_sales",
        "order_lines",
        ["tenant_id", "seller_id", "sub_order_id", "product_id", "quantity", "total", "title"],
    ),
    (
        "ix_seller_ledger_releases_seller",
        "seller_ledger_releases",
        ["tenant_id", "seller_id", "sub_order_id", "available_at"],
    ),
    ("ix_orders_tenant_currency", "orders", ["tenant_id", "id", "currency"]),
    (
        "ix_order_refund_requests_status_sub_order",
        "order_refund_requests",
        ["tenant_id", "status", "sub_order_id"],
    ),
]
# 0024's, superseded by ix_seller_ledger_seller_statement (the same columns and two more)
OLD_ENTRIES = [
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


# plain CREATE INDEX (no batch): on SQLite a batch could copy the table and lose its triggers
def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.drop_index("ix_seller_ledger_seller_covering", table_name="seller_ledger_entries")


def downgrade():
    op.create_index("ix_seller_ledger_seller_covering", "seller_ledger_entries", OLD_ENTRIES)
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
