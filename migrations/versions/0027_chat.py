"""live chat: conversations between a customer and a seller about a product or an order, participants with read markers, messages

Revision ID: 0027
Revises: 0022
Create Date: 2026-12-07 04:40:00

`chat_conversations`: one per customer, seller and subject while open (uq_chat_conversations_open
over `open_key`, which is NULL once closed: NULLs never collide on MariaDB or SQLite), the subject's
title kept, the newest message's id and time for the lists' order. `chat_participants`: each user
of either side with its last-read message id (unread counts). `chat_messages`: plain text, never
edited, read newest first by (conversation_id, id).
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "chat_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_user_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("sub_order_id", sa.Integer(), nullable=True),
        sa.Column("subject_title", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_key", sa.String(length=64), nullable=True),
        sa.Column("last_message_id", sa.Integer(), nullable=True),
        sa.Column("last_message_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "subject_type IN ('product', 'order')",
            name=op.f("ck_chat_conversations_subject_type_known"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'closed')", name=op.f("ck_chat_conversations_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["customer_user_id"],
            ["ab_user.id"],
            name=op.f("fk_chat_conversations_customer_user_id_ab_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["sellers.id"],
            name=op.f("fk_chat_conversations_seller_id_sellers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_chat_conversations_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_chat_conversations_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sub_order_id"],
            ["sub_orders.id"],
            name=op.f("fk_chat_conversations_sub_order_id_sub_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_chat_conversations_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_conversations")),
        sa.UniqueConstraint(
            "tenant_id",
            "customer_user_id",
            "seller_id",
            "open_key",
            name="uq_chat_conversations_open",
        ),
    )
    with op.batch_alter_table("chat_conversations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chat_conversations_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_chat_conversations_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_chat_conversations_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            "ix_chat_conversations_customer",
            ["tenant_id", "customer_user_id", "last_message_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_chat_conversations_seller",
            ["tenant_id", "seller_id", "last_message_id"],
            unique=False,
        )

    op.create_table(
        "chat_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("last_read_message_id", sa.Integer(), nullable=False),
        sa.Column("last_read_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "side IN ('customer', 'seller')", name=op.f("ck_chat_participants_side_known")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversations.id"],
            name=op.f("fk_chat_participants_conversation_id_chat_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["ab_user.id"],
            name=op.f("fk_chat_participants_user_id_ab_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_chat_participants_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_participants")),
        sa.UniqueConstraint("conversation_id", "user_id", name="uq_chat_participants_user"),
    )
    with op.batch_alter_table("chat_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chat_participants_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index("ix_chat_participants_user", ["tenant_id", "user_id"], unique=False)

    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("sender_user_id", sa.Integer(), nullable=True),
        sa.Column("sender_side", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "sender_side IN ('customer', 'seller')",
            name=op.f("ck_chat_messages_sender_side_known"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversations.id"],
            name=op.f("fk_chat_messages_conversation_id_chat_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_user_id"],
            ["ab_user.id"],
            name=op.f("fk_chat_messages_sender_user_id_ab_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_chat_messages_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
    )
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_messages_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_chat_messages_sender_user_id"), ["sender_user_id"], unique=False
        )
        batch_op.create_index(
            "ix_chat_messages_conversation", ["conversation_id", "id"], unique=False
        )


def downgrade():
    op.drop_table("chat_messages")
    op.drop_table("chat_participants")
    op.drop_table("chat_conversations")
