"""seller ledger: append-only entries, the release of delivered sub-orders' money, payout settings

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 01:30:00

`seller_ledger_entries` and `seller_ledger_releases` are append-only. Besides the ORM's refusal
(app.payouts.guard), the database refuses any UPDATE or DELETE of their rows with BEFORE UPDATE /
BEFORE DELETE triggers: SIGNAL SQLSTATE '45000' on MariaDB/MySQL, RAISE(ABORT) on SQLite.
Creating a trigger needs the TRIGGER privilege (root has ALL PRIVILEGES here); with binary logging
on, a user without SUPER also needs log_bin_trust_function_creators=1 (this server runs with
log_bin OFF). A foreign key's ON DELETE action is never needed: every key to the ledger is
RESTRICT, so an order, sub-order, line, seller or user with entries cannot be deleted under them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

APPEND_ONLY = ("seller_ledger_entries", "seller_ledger_releases")
KINDS = (
    "sale",
    "commission",
    "seller_discount",
    "shipping",
    "refund",
    "commission_reversal",
    "adjustment",
    "payout",
    "payout_reversal",
)


def _fk(table: str, column: str, target: str, ondelete: str | None = "RESTRICT"):
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _triggers(action: str) -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        for event in ("UPDATE", "DELETE"):
            name = f"{table}_no_{event.lower()}"
            if action == "drop":
                op.execute(f"DROP TRIGGER IF EXISTS {name}")
                continue
            message = f"{table} is append-only: {event} refused"
            if dialect == "sqlite":
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
                )
            else:
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW "
                    f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{message}'"
                )


def upgrade():
    op.create_table(
        "seller_ledger_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("sub_order_id", sa.Integer(), nullable=True),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("source_event_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("available_at", sa.DateTime(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN (" + ", ".join(f"'{kind}'" for kind in KINDS) + ")",
            name=op.f("ck_seller_ledger_entries_kind_known"),
        ),
        _fk("seller_ledger_entries", "seller_id", "sellers"),
        _fk("seller_ledger_entries", "sub_order_id", "sub_orders"),
        _fk("seller_ledger_entries", "order_line_id", "order_lines"),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["ab_user.id"],
            name=op.f("fk_seller_ledger_entries_created_by_user_id_ab_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_seller_ledger_entries_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_ledger_entries")),
    )
    with op.batch_alter_table("seller_ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_seller_ledger_tenant_seller", ["tenant_id", "seller_id", "currency", "id"]
        )
        batch_op.create_index("ix_seller_ledger_tenant_sub_order", ["tenant_id", "sub_order_id"])
        batch_op.create_index("ix_seller_ledger_tenant_event", ["tenant_id", "source_event_id"])
        batch_op.create_index("ix_seller_ledger_tenant_created", ["tenant_id", "created_at"])
        batch_op.create_index(
            batch_op.f("ix_seller_ledger_entries_order_line_id"), ["order_line_id"]
        )
        batch_op.create_index(batch_op.f("ix_seller_ledger_entries_tenant_id"), ["tenant_id"])

    op.create_table(
        "seller_ledger_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sub_order_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=False),
        sa.Column("available_at", sa.DateTime(), nullable=False),
        sa.Column("source_event_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        _fk("seller_ledger_releases", "sub_order_id", "sub_orders"),
        _fk("seller_ledger_releases", "seller_id", "sellers"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_seller_ledger_releases_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_ledger_releases")),
        sa.UniqueConstraint(
            "tenant_id", "sub_order_id", name="uq_seller_ledger_releases_sub_order"
        ),
    )
    with op.batch_alter_table("seller_ledger_releases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seller_ledger_releases_tenant_id"), ["tenant_id"])

    op.create_table(
        "payout_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hold_days", sa.Integer(), nullable=False),
        sa.Column("minimum_payout", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "hold_days >= 0 AND hold_days <= 365", name=op.f("ck_payout_settings_hold_days_range")
        ),
        sa.CheckConstraint(
            "minimum_payout >= 0", name=op.f("ck_payout_settings_minimum_payout_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_payout_settings_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_settings")),
        sa.UniqueConstraint("tenant_id", name="uq_payout_settings_tenant"),
    )
    with op.batch_alter_table("payout_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_settings_tenant_id"), ["tenant_id"])

    _triggers("create")


def downgrade():
    _triggers("drop")
    op.drop_table("payout_settings")
    op.drop_table("seller_ledger_releases")
    op.drop_table("seller_ledger_entries")
