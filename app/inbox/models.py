"""The notification centre's tables.

A `Notification` is what was said once (type, title, body, link, data, who sent it, from which
event); a `NotificationReceipt` is one user's copy of it (read, dismissed, shown in the app or
not), unique per notification and user; a `NotificationDelivery` is what one channel did with a
receipt (sent, failed, skipped, or pending until the delivery job ran). A notification made from
an outbox event is unique per (source event, source key): with the receipts' own uniqueness, a
redelivered event stores nothing twice. Dismissing (DELETE in the API) marks the receipt rather
than deleting it, so a redelivery cannot bring a dismissed notification back.

None of these rows is audited row by row (a broadcast to every seller would write one audit row
per receipt and delivery): a staff send records one audit action (app.inbox.services); the
preferences and tenant defaults are audited as every other model.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import UTCDateTime, utcnow
from app.inbox.catalog import PENDING
from app.security.models import User
from app.tenants.models import TenantScoped

_ID = BigInteger().with_variant(Integer, "sqlite")


class Notification(TenantScoped, Model):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("source_event_id", "source_key", name="uq_notifications_source"),
        Index("ix_notifications_tenant_created", "tenant_id", "created_at"),
    )
    __audit__ = False

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    type: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # where the object lives: a path of the storefront ("/orders/R-100") or an https URL
    link: Mapped[str | None] = mapped_column(String(500))
    data: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    # the outbox event it was made from (NULL: sent by hand) and which notice of that event it is
    # (one event may tell the customer one thing and each seller another)
    source_event_id: Mapped[int | None] = mapped_column(_ID)
    source_key: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    # staff who sent it by hand (NULL: the system)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    # to whom, in words ("role Seller", "sellers approved", "user ada@example.com")
    audience: Mapped[str | None] = mapped_column(String(200))
    recipient_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    sender: Mapped[User | None] = relationship(User, foreign_keys=[sender_id])

    def __repr__(self) -> str:
        return self.title


class NotificationReceipt(TenantScoped, Model):
    """One user's copy of a notification: what its inbox lists (when `in_app`)."""

    __tablename__ = "notification_receipts"
    __table_args__ = (
        UniqueConstraint("notification_id", "user_id", name="uq_notification_receipts_user"),
        Index("ix_notification_receipts_inbox", "user_id", "dismissed_at", "read_at"),
    )
    __audit__ = False

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False
    )
    # shown in the user's notification centre (its in-app preference was on)
    in_app: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    dismissed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    notification: Mapped[Notification] = relationship(Notification, lazy="joined")
    user: Mapped[User] = relationship(User, foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"{self.notification} -> {self.user}"


class NotificationDelivery(TenantScoped, Model):
    """What one channel did with one receipt."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("receipt_id", "channel", name="uq_notification_deliveries_channel"),
        Index("ix_notification_deliveries_pending", "notification_id", "status"),
    )
    __audit__ = False

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    receipt_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("notification_receipts.id", ondelete="CASCADE"), nullable=False
    )
    # copies of the receipt's, for the admin's filters
    notification_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, nullable=False, index=True)
    # where it went: an e-mail address, a phone number, "user:<id>" for push
    address: Mapped[str | None] = mapped_column(String(320))
    provider: Mapped[str | None] = mapped_column(String(64))
    provider_ref: Mapped[str | None] = mapped_column(String(255))
    # why it failed or was skipped
    error: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    attempted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    notification: Mapped[Notification] = relationship(Notification)
    user: Mapped[User] = relationship(User, foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"{self.channel} #{self.id}"


class NotificationPreference(TenantScoped, Model):
    """A user's choice for one type (or every type: "*") on one channel."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "event_type", "channel", name="uq_notification_preferences_choice"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False
    )
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )

    user: Mapped[User] = relationship(User)


class NotificationDefault(TenantScoped, Model):
    """The tenant's default for one type (or "*") on one channel, for users who chose nothing."""

    __tablename__ = "notification_defaults"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "event_type", "channel", name="uq_notification_defaults_choice"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )

    def __repr__(self) -> str:
        return f"{self.event_type} / {self.channel}"


class RecordedMessage(TenantScoped, Model):
    """What the built-in `record` adapter would have sent by SMS or push (no provider configured):
    development, demos and tests read it here; a real provider adapter writes nothing here."""

    __tablename__ = "notification_recorded_messages"
    __audit__ = False

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    delivery_id: Mapped[int | None] = mapped_column(
        _ID,
        ForeignKey(
            "notification_deliveries.id",
            ondelete="SET NULL",
            name="fk_notification_recorded_messages_delivery_id",
        ),
    )
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    to: Mapped[str] = mapped_column(String(320), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
