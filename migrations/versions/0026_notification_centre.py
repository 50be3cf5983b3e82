"""notification centre: notifications, per-user receipts, deliveries per channel, preferences, tenant
defaults, and the messages the `record` adapter would have sent

Revision ID: 0026
Revises: 0022
Create Date: 2026-12-07 05:00:00

A notification made from an outbox event is unique per (source_event_id, source_key), a receipt
per (notification, user), a delivery per (receipt, channel): a redelivered event stores nothing
twice. Receipts are never deleted by the API (dismissed_at), so a redelivery cannot revive one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0024"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table, column, target, ondelete=None):
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _tenant_index(table):
    op.create_index(op.f(f"ix_{table}_tenant_id"), table, ["tenant_id"], unique=False)


def upgrade():
    op.create_table(
        "notifications",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("source_event_id", ID, nullable=True),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=True),
        sa.Column("audience", sa.String(length=200), nullable=True),
        sa.Column("recipient_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("notifications", "tenant_id", "tenants"),
        _fk("notifications", "sender_id", "ab_user", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("source_event_id", "source_key", name="uq_notifications_source"),
    )
    _tenant_index("notifications")
    op.create_index(op.f("ix_notifications_type"), "notifications", ["type"], unique=False)
    op.create_index("ix_notifications_tenant_created", "notifications", ["tenant_id", "created_at"])

    op.create_table(
        "notification_receipts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("notification_id", ID, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("dismissed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("notification_receipts", "tenant_id", "tenants"),
        _fk("notification_receipts", "notification_id", "notifications", "CASCADE"),
        _fk("notification_receipts", "user_id", "ab_user", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_receipts")),
        sa.UniqueConstraint("notification_id", "user_id", name="uq_notification_receipts_user"),
    )
    _tenant_index("notification_receipts")
    op.create_index(
        "ix_notification_receipts_inbox",
        "notification_receipts",
        ["user_id", "dismissed_at", "read_at"],
    )

    op.create_table(
        "notification_deliveries",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("receipt_id", ID, nullable=False),
        sa.Column("notification_id", ID, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=True),
        sa.Column("provider_ref", sa.String(length=255), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(), nullable=True),
        _fk("notification_deliveries", "tenant_id", "tenants"),
        _fk("notification_deliveries", "receipt_id", "notification_receipts", "CASCADE"),
        _fk("notification_deliveries", "notification_id", "notifications", "CASCADE"),
        _fk("notification_deliveries", "user_id", "ab_user", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint("receipt_id", "channel", name="uq_notification_deliveries_channel"),
    )
    _tenant_index("notification_deliveries")
    op.create_index(
        op.f("ix_notification_deliveries_user_id"), "notification_deliveries", ["user_id"]
    )
    op.create_index(
        op.f("ix_notification_deliveries_status"), "notification_deliveries", ["status"]
    )
    op.create_index(
        "ix_notification_deliveries_pending",
        "notification_deliveries",
        ["notification_id", "status"],
    )

    op.create_table(
        "notification_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _fk("notification_preferences", "tenant_id", "tenants"),
        _fk("notification_preferences", "user_id", "ab_user", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint(
            "user_id", "event_type", "channel", name="uq_notification_preferences_choice"
        ),
    )
    _tenant_index("notification_preferences")

    op.create_table(
        "notification_defaults",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _fk("notification_defaults", "tenant_id", "tenants"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_defaults")),
        sa.UniqueConstraint(
            "tenant_id", "event_type", "channel", name="uq_notification_defaults_choice"
        ),
    )
    _tenant_index("notification_defaults")

    op.create_table(
        "notification_recorded_messages",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", ID, nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("to", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("notification_recorded_messages", "tenant_id", "tenants"),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["notification_deliveries.id"],
            # the conventional name would pass MariaDB's 64 characters
            name="fk_notification_recorded_messages_delivery_id",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_recorded_messages")),
    )
    _tenant_index("notification_recorded_messages")


def downgrade():
    # children first: MariaDB refuses to drop a table another one's foreign key points at
    for table in (
        "notification_recorded_messages",
        "notification_defaults",
        "notification_preferences",
        "notification_deliveries",
        "notification_receipts",
        "notifications",
    ):
        op.drop_table(table)
