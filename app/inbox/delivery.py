"""Sending a notification's e-mail, SMS and push deliveries, after the commit that stored them.

`deliver` consumes `notification.created` (jobs/subscribers.py, queue "high"), once per event
through the outbox. It locks the notification's pending outbound deliveries (SELECT ... FOR UPDATE,
in id order), hands each to its channel's adapter (app.inbox.channels) and records the outcome:
`sent` with the provider's reference, or `failed` with the error. A provider's failure fails that
delivery only (its savepoint is rolled back), never the others nor the job: the job commits every
outcome with its processed-event row. A process killed while sending may leave deliveries pending;
the event's redelivery sends exactly those (the ones recorded sent are no longer pending).
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.core.types import utcnow
from app.extensions import db
from app.inbox.catalog import FAILED, OUTBOUND, PENDING, SENT
from app.inbox.channels import OutgoingMessage, adapter_for
from app.inbox.models import Notification, NotificationDelivery
from app.notifications import mail
from app.security.models import User

log = logging.getLogger(__name__)


def deliver(event) -> int:
    """Consumer of notification.created: send its pending e-mail, SMS and push deliveries.
    Returns how many were attempted."""
    notification_id = (event.payload or {}).get("notification_id")
    notification = db.session.get(Notification, int(notification_id)) if notification_id else None
    if notification is None:  # nothing stored to deliver (a malformed event is not retried forever)
        return 0
    return deliver_pending(notification)


def deliver_pending(notification: Notification) -> int:
    rows = db.session.scalars(
        select(NotificationDelivery)
        .where(
            NotificationDelivery.notification_id == notification.id,
            NotificationDelivery.status == PENDING,
            NotificationDelivery.channel.in_(OUTBOUND),
        )
        .order_by(NotificationDelivery.id)
        .with_for_update()
    ).all()
    if not rows:
        return 0
    names = dict(
        db.session.execute(
            select(User.id, User.first_name).where(User.id.in_({row.user_id for row in rows}))
        ).all()
    )
    link = _absolute(notification.link)
    for row in rows:
        _send(row, notification, link, names.get(row.user_id))
    db.session.flush()
    return len(rows)


def _absolute(link: str | None) -> str | None:
    """A path of the shop as a URL of its storefront (a mail or SMS is read outside it)."""
    if link and link.startswith("/"):
        return mail.frontend_link(link)
    return link


def _send(row: NotificationDelivery, notification: Notification, link, name) -> None:
    row.attempts = (row.attempts or 0) + 1
    row.attempted_at = utcnow()
    message = OutgoingMessage(
        channel=row.channel,
        to=row.address or "",
        title=notification.title,
        body=notification.body,
        link=link,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        delivery_id=row.id,
        name=name,
    )
    try:
        adapter = adapter_for(row.channel)
        row.provider = adapter.name
        with db.session.begin_nested():
            result = adapter.send(message)
    except Exception as exc:  # the provider refused or is unreachable: this delivery fails
        row.status = FAILED
        row.error = f"{type(exc).__name__}: {exc}"[:500]
        log.warning(
            "notification %s: %s delivery #%s failed (%s)",
            notification.id,
            row.channel,
            row.id,
            row.error,
        )
        return
    row.status = SENT
    row.provider_ref = (result.provider_ref or "")[:255] or None
    row.error = None
