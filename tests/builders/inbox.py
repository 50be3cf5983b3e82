"""Builders for the notification centre's tests: reading what was stored and sent."""

from __future__ import annotations

from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.events.models import OutboxEvent
from app.extensions import db
from app.inbox.models import (
    Notification,
    NotificationDelivery,
    NotificationReceipt,
    RecordedMessage,
)


def deliveries(app, tenant_id: int, notification_id: int) -> dict[tuple[int, str], tuple]:
    """(user id, channel) -> (status, address, provider, provider_ref, error)."""
    with app.app_context(), tenant_scope(tenant_id):
        rows = db.session.scalars(
            select(NotificationDelivery).where(
                NotificationDelivery.notification_id == notification_id
            )
        ).all()
        return {
            (r.user_id, r.channel): (r.status, r.address, r.provider, r.provider_ref, r.error)
            for r in rows
        }


def receipts(app, tenant_id: int, notification_id: int) -> list[int]:
    with app.app_context(), tenant_scope(tenant_id):
        return sorted(
            db.session.scalars(
                select(NotificationReceipt.user_id).where(
                    NotificationReceipt.notification_id == notification_id
                )
            )
        )


def notifications_of_event(app, tenant_id: int, event_id: int) -> list[int]:
    with app.app_context(), tenant_scope(tenant_id):
        return list(
            db.session.scalars(
                select(Notification.id).where(Notification.source_event_id == event_id)
            )
        )


def recorded(app, tenant_id: int, channel: str | None = None) -> list[RecordedMessage]:
    with app.app_context(), tenant_scope(tenant_id):
        stmt = select(RecordedMessage).order_by(RecordedMessage.id)
        if channel:
            stmt = stmt.where(RecordedMessage.channel == channel)
        rows = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return rows


def created_events(app, notification_id: int) -> list[dict]:
    """The payloads of the notification.created events published for a notification."""
    with app.app_context():
        rows = db.session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.name == "notification.created",
                OutboxEvent.aggregate == "notification",
                OutboxEvent.aggregate_id == str(notification_id),
            )
        ).all()
        return [r.payload for r in rows]


def add_inbox_rows(user_id: int) -> int:
    """One row of every notification-centre table in the current tenant (the tenancy test's):
    a preference and a shop default turning SMS on, and a notification to `user_id` (its receipt,
    deliveries and, once the inline delivery job ran, the `record` adapter's SMS)."""
    from app.inbox import services
    from app.inbox.inputs import Message
    from app.inbox.models import NotificationDefault, NotificationPreference
    from app.security.models import User

    db.session.get(User, user_id).phone = "+15550100"
    db.session.add(
        NotificationPreference(user_id=user_id, event_type="*", channel="sms", enabled=True)
    )
    db.session.add(NotificationDefault(event_type="*", channel="push", enabled=True))
    done = services.notify([user_id], Message(type="announcement", title="Tenancy"))
    db.session.commit()
    return done.notification_id
