"""Notify users, and a user's own notification centre.

`notify()` is what every producer calls (a consumer of a domain event, a staff send): it stores
the notification once, one receipt per user (exactly once per notification and user), and one
delivery per receipt and channel as the user's preferences say (app.inbox.preferences): in-app is
the receipt itself (shown or not), e-mail, SMS and push are `pending` until the delivery job sends
them after the commit (app.inbox.delivery), or `skipped` with the reason. It then publishes
`notification.created` (payload: notification_id, recipient_user_ids, type, title, link), which
the delivery job and the real-time service consume.

Exactly once: a notification made from an outbox event carries (source_event_id, source_key),
unique in the database. The first caller inserts it; a concurrent twin (a redelivered event
running at the same time) waits on that unique key, then finds the row, locks it, and adds only
the receipts that are missing (none, for the same recipients), so nothing is stored or sent twice.
`notify()` joins the caller's transaction (a consumer's, which commits with its processed-event
row); `send()` is a staff use case with its own.

Who may: anyone reads, marks and dismisses only its own receipts (another user's notification
answers 404); only staff (Admin, Super Admin) send by hand, to users of the current tenant only.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.core.db import transaction
from app.core.errors import NotFound, PermissionDenied, TenantError, ValidationError
from app.core.paging import Page, paginate
from app.core.tenancy import current_tenant_id, tenant_scope
from app.core.types import utcnow
from app.events.bus import publish
from app.extensions import db
from app.inbox import preferences
from app.inbox.catalog import (
    CHANNELS,
    EMAIL,
    IN_APP,
    PENDING,
    PUSH,
    SENT,
    SKIPPED,
    SMS,
    STAFF_TYPES,
    TYPES,
)
from app.inbox.inputs import Audience, Message
from app.inbox.models import Notification, NotificationDelivery, NotificationReceipt
from app.security import roles
from app.security.actor import Actor
from app.security.audit import record_action
from app.security.models import User
from app.sellers.models import SELLER_STATUSES, SellerProfile

EVENT = "notification.created"
TITLE_MAX, BODY_MAX, LINK_MAX, DATA_MAX = 200, 5000, 500, 4000
# roles staff may address (Guest is nobody; Super Admins belong to no tenant)
ROLE_AUDIENCES = (roles.CUSTOMER, roles.PREMIUM_CUSTOMER, roles.SELLER, roles.ADMIN)
_LINK = re.compile(r"^(/(?!/)|https?://)[^\s<>\"']*$")
_BATCH = 500


def _now():
    """Now to the second, as DATETIME columns keep it: an answer shows what a re-read shows."""
    return utcnow().replace(microsecond=0)


@dataclass(frozen=True)
class Notified:
    notification_id: int
    created: bool  # False: the source event's notification existed already
    new_recipient_ids: tuple[int, ...]  # users given a receipt by this call


@dataclass(frozen=True)
class InboxItem:
    id: int  # the notification's id: what PUT <id>/read/ and DELETE <id>/ take
    type: str
    title: str
    body: str
    link: str | None
    data: dict
    created_at: dt.datetime
    read_at: dt.datetime | None

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


@dataclass(frozen=True)
class SentNotification:
    id: int
    type: str
    title: str
    audience: str
    recipient_count: int
    created_at: dt.datetime


# --- checks ------------------------------------------------------------------------------------


def check_message(message: Message) -> Message:
    """The message as stored (title and body trimmed), or one 422 naming every bad field."""
    errors: dict[str, list[str]] = {}
    title = (message.title or "").strip()
    body = (message.body or "").strip()
    if message.type not in TYPES:
        errors["type"] = [f"one of {', '.join(TYPES)}"]
    if not title:
        errors["title"] = ["say something"]
    elif len(title) > TITLE_MAX:
        errors["title"] = [f"at most {TITLE_MAX} characters"]
    if len(body) > BODY_MAX:
        errors["body"] = [f"at most {BODY_MAX} characters"]
    link = (message.link or "").strip() or None
    if link is not None and (len(link) > LINK_MAX or not _LINK.match(link)):
        errors["link"] = [
            f"a path of the shop (/orders/R-100) or an http(s) URL, at most {LINK_MAX} characters"
        ]
    data = message.data if message.data is not None else {}
    try:
        if not isinstance(data, dict) or len(json.dumps(data)) > DATA_MAX:
            errors["data"] = [f"a JSON object of at most {DATA_MAX} characters"]
    except (TypeError, ValueError):
        errors["data"] = ["a JSON object"]
    channels = message.channels
    if channels is not None:
        unknown = [c for c in channels if c not in CHANNELS]
        if unknown or not channels:
            errors["channels"] = [f"one or more of {', '.join(CHANNELS)}"]
    if errors:
        raise ValidationError("the notification is invalid", details=errors)
    return Message(
        type=message.type,
        title=title,
        body=body,
        link=link,
        data=data,
        channels=tuple(dict.fromkeys(channels)) if channels is not None else None,
    )


def _tenant() -> int:
    tenant_id = current_tenant_id()
    if tenant_id is None:
        raise TenantError("notifications are sent within a storefront: no tenant in context")
    return tenant_id


# --- notify ------------------------------------------------------------------------------------


def notify(
    recipients: Iterable[int],
    message: Message,
    *,
    source_event_id: int | None = None,
    source_key: str = "",
    sender_id: int | None = None,
    audience: str | None = None,
) -> Notified:
    """Store `message` for the active users among `recipients` of the current tenant (others are
    ignored), once per (source event, key) and user, and publish `notification.created` when
    anyone new got it. Joins the caller's transaction (flushes, never commits)."""
    message = check_message(message)
    tenant_id = _tenant()
    with tenant_scope(tenant_id):  # a Super Admin's request is unscoped: never cross tenants
        users = _active_users(tenant_id, recipients)
        notification, created = _notification(tenant_id, message, source_event_id, source_key)
        if created:
            notification.sender_id = sender_id
            notification.audience = audience
        have = set(
            db.session.scalars(
                select(NotificationReceipt.user_id).where(
                    NotificationReceipt.notification_id == notification.id
                )
            )
        )
        new = [user for user in users if user[0] not in have]
        shown = _store_receipts(tenant_id, notification, message, new)
        if new:
            notification.recipient_count = (notification.recipient_count or 0) + len(new)
            publish(
                EVENT,
                {
                    "notification_id": notification.id,
                    "recipient_user_ids": shown,
                    "type": notification.type,
                    "title": notification.title,
                    "link": notification.link,
                },
                aggregate="notification",
                aggregate_id=notification.id,
                tenant_id=tenant_id,
            )
        db.session.flush()
        return Notified(notification.id, created, tuple(user[0] for user in new))


def _active_users(tenant_id: int, ids: Iterable[int]) -> list[tuple[int, str | None, str | None]]:
    """(id, email, phone) of the tenant's active users among `ids`, by id."""
    wanted = sorted({int(i) for i in ids})
    found = []
    for start in range(0, len(wanted), _BATCH):
        found += db.session.execute(
            select(User.id, User.email, User.phone)
            .where(
                User.id.in_(wanted[start : start + _BATCH]),
                User.tenant_id == tenant_id,
                User.active.is_(True),
            )
            .order_by(User.id)
        ).all()
    return [tuple(row) for row in found]


def _notification(
    tenant_id: int, message: Message, source_event_id: int | None, source_key: str
) -> tuple[Notification, bool]:
    """The notification of (source_event_id, source_key), locked, or a new one."""

    def existing() -> Notification | None:
        return db.session.scalars(
            select(Notification)
            .where(
                Notification.source_event_id == source_event_id,
                Notification.source_key == source_key,
            )
            .with_for_update()
        ).first()

    if source_event_id is not None:
        found = existing()
        if found is not None:
            return found, False
    row = Notification(
        tenant_id=tenant_id,
        type=message.type,
        title=message.title,
        body=message.body,
        link=message.link,
        data=message.data,
        source_event_id=source_event_id,
        source_key=source_key,
        recipient_count=0,
        created_at=_now(),
    )
    if source_event_id is None:
        db.session.add(row)
        db.session.flush()
        return row, True
    try:
        with db.session.begin_nested():  # a twin holding the key makes this wait, then fail
            db.session.add(row)
    except IntegrityError:
        found = existing()
        if found is None:
            raise
        return found, False
    return row, True


def _store_receipts(tenant_id: int, notification: Notification, message: Message, users) -> list:
    """Receipts and deliveries for `users` (none of whom has one yet), a few statements per batch
    of users whatever their number. Returns the ids of the users who see it in the app."""
    shown: list[int] = []
    now = _now()
    for start in range(0, len(users), _BATCH):
        batch = users[start : start + _BATCH]
        ids = [user[0] for user in batch]
        wanted = preferences.channels_for(ids, notification.type)
        chosen = set(message.channels or CHANNELS)
        db.session.execute(
            insert(NotificationReceipt),
            [
                {
                    "tenant_id": tenant_id,
                    "notification_id": notification.id,
                    "user_id": user_id,
                    "in_app": wanted[user_id][IN_APP] and IN_APP in chosen,
                    "created_at": now,
                }
                for user_id in ids
            ],
        )
        receipts = dict(
            db.session.execute(
                select(NotificationReceipt.user_id, NotificationReceipt.id).where(
                    NotificationReceipt.notification_id == notification.id,
                    NotificationReceipt.user_id.in_(ids),
                )
            ).all()
        )
        rows = []
        for user_id, email, phone in batch:
            addresses = {IN_APP: None, EMAIL: email, SMS: phone, PUSH: f"user:{user_id}"}
            for channel in CHANNELS:
                status, error = _outcome(channel, channel in chosen, wanted[user_id][channel])
                if status == PENDING and not addresses[channel]:
                    status, error = SKIPPED, _NO_ADDRESS[channel]
                if channel == IN_APP and status == SENT:
                    shown.append(user_id)
                rows.append(
                    {
                        "tenant_id": tenant_id,
                        "receipt_id": receipts[user_id],
                        "notification_id": notification.id,
                        "user_id": user_id,
                        "channel": channel,
                        "status": status,
                        "address": addresses[channel],
                        "error": error,
                        "attempts": 0,
                        "created_at": now,
                        "attempted_at": now if channel == IN_APP else None,
                    }
                )
        db.session.execute(insert(NotificationDelivery), rows)
    return shown


_NO_ADDRESS = {EMAIL: "the user has no e-mail address", SMS: "the user has no phone number"}


def _outcome(channel: str, chosen: bool, wanted: bool) -> tuple[str, str | None]:
    if not chosen:
        return SKIPPED, "not a channel of this notification"
    if not wanted:
        return SKIPPED, "turned off in the user's preferences"
    return (SENT, None) if channel == IN_APP else (PENDING, None)


# --- staff sends -------------------------------------------------------------------------------


def describe(audience: Audience) -> str:
    if audience.user_id is not None:
        return f"user #{audience.user_id}"
    if audience.role is not None:
        return f"role {audience.role}"
    return f"sellers {audience.seller_status}"


def audience_ids(audience: Audience) -> list[int]:
    """The current tenant's active users `audience` names (a 422 for a malformed audience, a 404
    for a user who is not the tenant's)."""
    tenant_id = _tenant()
    given = [
        v for v in (audience.user_id, audience.role, audience.seller_status) if v not in (None, "")
    ]
    if len(given) != 1:
        raise ValidationError(
            "name exactly one of user_id, role or seller_status",
            details={"audience": ["exactly one of user_id, role, seller_status"]},
        )
    active = (User.tenant_id == tenant_id, User.active.is_(True))
    if audience.user_id is not None:
        found = db.session.scalar(select(User.id).where(User.id == audience.user_id, *active))
        if found is None:
            raise NotFound("no such user", details={"user_id": audience.user_id})
        return [found]
    if audience.role is not None:
        if audience.role not in ROLE_AUDIENCES:
            raise ValidationError(
                "unknown role", details={"role": [f"one of {', '.join(ROLE_AUDIENCES)}"]}
            )
        return list(
            db.session.scalars(
                select(User.id)
                .join(User.roles)
                .where(Role.name == audience.role, *active)
                .distinct()
            )
        )
    if audience.seller_status not in SELLER_STATUSES:
        raise ValidationError(
            "unknown seller status",
            details={"seller_status": [f"one of {', '.join(SELLER_STATUSES)}"]},
        )
    return list(
        db.session.scalars(
            select(User.id)
            .join(SellerProfile, SellerProfile.user_id == User.id)
            .where(SellerProfile.status == audience.seller_status, *active)
        )
    )


def user_by_email(email: str) -> int:
    """The id of the current tenant's active user with this e-mail (the admin's send form)."""
    tenant_id = _tenant()
    found = db.session.scalar(
        select(User.id).where(
            User.email == (email or "").strip(), User.tenant_id == tenant_id, User.active.is_(True)
        )
    )
    if found is None:
        raise NotFound("no active user of this shop has that e-mail", details={"email": email})
    return found


def send(actor: Actor, audience: Audience, message: Message) -> SentNotification:
    """Staff (Admin, Super Admin) send a notification to a user, a role or a seller segment of
    the current tenant; one audit row says who sent what to whom."""
    if not actor.is_admin:
        raise PermissionDenied("only staff send notifications")
    message = check_message(message)
    if message.type not in STAFF_TYPES:
        raise ValidationError(
            "staff send announcements and account notices only",
            details={"type": [f"one of {', '.join(STAFF_TYPES)}"]},
        )
    tenant_id = _tenant()
    with tenant_scope(tenant_id), transaction():
        ids = audience_ids(audience)
        if not ids:
            raise ValidationError(
                "nobody is in that audience", details={"audience": ["no active user matches"]}
            )
        done = notify(ids, message, sender_id=actor.user_id, audience=describe(audience)[:200])
        row = db.session.get(Notification, done.notification_id)
        record_action(
            db.session(),  # the Session itself (the scoped proxy lacks its transaction calls)
            row,
            "send",
            after={
                "type": row.type,
                "title": row.title,
                "audience": row.audience,
                "recipients": row.recipient_count,
            },
        )
        return SentNotification(
            row.id, row.type, row.title, row.audience, row.recipient_count, row.created_at
        )


# --- a user's own notifications -------------------------------------------------------------


def _own(actor: Actor):
    return (
        NotificationReceipt.user_id == actor.user_id,
        NotificationReceipt.in_app.is_(True),
        NotificationReceipt.dismissed_at.is_(None),
    )


def _item(receipt: NotificationReceipt) -> InboxItem:
    n = receipt.notification
    return InboxItem(
        n.id, n.type, n.title, n.body, n.link, n.data or {}, n.created_at, receipt.read_at
    )


def inbox(actor: Actor, page: int = 1, page_size: int = 24, *, unread: bool = False) -> Page:
    """The caller's notifications, newest first (only unread ones with `unread`)."""
    stmt = select(NotificationReceipt).where(*_own(actor))
    if unread:
        stmt = stmt.where(NotificationReceipt.read_at.is_(None))
    found = paginate(stmt.order_by(NotificationReceipt.id.desc()), page, page_size)
    return Page([_item(r) for r in found.items], found.total, found.page, found.page_size)


def unread_count(actor: Actor) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(NotificationReceipt)
        .where(*_own(actor), NotificationReceipt.read_at.is_(None))
    )


def _receipt(actor: Actor, notification_id: int) -> NotificationReceipt:
    found = db.session.scalars(
        select(NotificationReceipt).where(
            NotificationReceipt.notification_id == notification_id, *_own(actor)
        )
    ).first()
    if found is None:
        raise NotFound("no such notification", details={"id": notification_id})
    return found


def mark_read(actor: Actor, notification_id: int) -> InboxItem:
    """Mark one of the caller's notifications read (again: unchanged)."""
    with transaction():
        receipt = _receipt(actor, notification_id)
        if receipt.read_at is None:
            receipt.read_at = _now()
        return _item(receipt)


def dismiss(actor: Actor, notification_id: int) -> None:
    """Remove one of the caller's notifications from its centre (kept as dismissed, so the same
    event redelivered never brings it back)."""
    with transaction():
        receipt = _receipt(actor, notification_id)
        receipt.dismissed_at = _now()


def mark_all_read(actor: Actor) -> int:
    """Mark every unread notification of the caller read; how many were."""
    with transaction():
        result = db.session.execute(
            update(NotificationReceipt)
            .where(*_own(actor), NotificationReceipt.read_at.is_(None))
            .values(read_at=_now())
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0
