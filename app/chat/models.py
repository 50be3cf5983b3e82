"""Chat: conversations between a customer and a seller about a product or an order, their
participants (each with a last-read marker) and their messages.

A conversation has two sides: the customer (one user) and the seller (its seller profile: every
user of that seller takes part; app.chat.services.seller_user_ids is the one home of who they are).
One open conversation per customer, seller and subject: `open_key` ("product:12", "order:34")
is set while it is open and cleared when it is closed, and a unique constraint over it holds
(NULLs are distinct on MariaDB and SQLite, so closed conversations never collide).

Messages are never edited: a message row is itself the record of who said what when, so it is
not audited (`__audit__ = False`), nor are the read markers (they move on every read); opening
and closing conversations is."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Product
from app.core.types import TimestampMixin, UTCDateTime, utcnow
from app.orders.models import Order, SubOrder
from app.security.models import User
from app.sellers.models import SellerProfile
from app.tenants.models import TenantScoped


class Subject(StrEnum):
    PRODUCT = "product"
    ORDER = "order"


class Side(StrEnum):
    CUSTOMER = "customer"
    SELLER = "seller"


class ConversationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


SUBJECTS: tuple[str, ...] = tuple(s.value for s in Subject)
SIDES: tuple[str, ...] = tuple(s.value for s in Side)
CONVERSATION_STATUSES: tuple[str, ...] = tuple(s.value for s in ConversationStatus)


def _known(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class Conversation(TenantScoped, TimestampMixin, Model):
    __tablename__ = "chat_conversations"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "customer_user_id",
            "seller_id",
            "open_key",
            name="uq_chat_conversations_open",
        ),
        Index("ix_chat_conversations_customer", "tenant_id", "customer_user_id", "last_message_id"),
        Index("ix_chat_conversations_seller", "tenant_id", "seller_id", "last_message_id"),
        CheckConstraint(_known("subject_type", SUBJECTS), name="subject_type_known"),
        CheckConstraint(_known("status", CONVERSATION_STATUSES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_user_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False
    )
    seller_id: Mapped[int] = mapped_column(
        ForeignKey("sellers.id", ondelete="CASCADE"), nullable=False
    )
    subject_type: Mapped[str] = mapped_column(String(16), nullable=False)
    # the subject (kept NULL if its row is deleted; subject_title keeps what it was)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    sub_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("sub_orders.id", ondelete="SET NULL")
    )
    # the product's title or "Order <number>" when the conversation started
    subject_title: Mapped[str] = mapped_column(String(255), nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=ConversationStatus.OPEN, nullable=False)
    # "<subject_type>:<id>" while open, NULL once closed: one open conversation per subject
    open_key: Mapped[str | None] = mapped_column(String(64))
    last_message_id: Mapped[int | None] = mapped_column(Integer)
    last_message_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[User] = relationship(User, foreign_keys=[customer_user_id])
    seller: Mapped[SellerProfile] = relationship(SellerProfile)
    product: Mapped[Product | None] = relationship(Product)
    order: Mapped[Order | None] = relationship(Order)
    sub_order: Mapped[SubOrder | None] = relationship(SubOrder)

    def __repr__(self) -> str:
        return f"#{self.id} {self.subject_title}"


class ChatParticipant(TenantScoped, Model):
    """A user taking part in a conversation, on one side, with how far it has read."""

    __tablename__ = "chat_participants"
    __table_args__ = (
        UniqueConstraint("conversation_id", "user_id", name="uq_chat_participants_user"),
        Index("ix_chat_participants_user", "tenant_id", "user_id"),
        CheckConstraint(_known("side", SIDES), name="side_known"),
    )
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chat_conversations.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False
    )
    side: Mapped[str] = mapped_column(String(16), nullable=False)
    # the id of the newest message it has read (0: none); unread = the other side's messages above
    last_read_message_id: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    user: Mapped[User] = relationship(User)


class ChatMessage(TenantScoped, Model):
    __tablename__ = "chat_messages"
    __table_args__ = (
        Index("ix_chat_messages_conversation", "conversation_id", "id"),
        CheckConstraint(_known("sender_side", SIDES), name="sender_side_known"),
    )
    __audit__ = False  # the message is its own record (who, when, what); never edited

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chat_conversations.id", ondelete="CASCADE"), nullable=False
    )
    # NULL once the sender's account is deleted (the message stays, on its side)
    sender_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"), index=True
    )
    sender_side: Mapped[str] = mapped_column(String(16), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    sender: Mapped[User | None] = relationship(User)

    def __repr__(self) -> str:
        return self.body[:60]
