"""The notification types a user can be told of, the channels, and the built-in defaults a tenant's
own defaults and a user's preferences override (app.inbox.preferences)."""

from __future__ import annotations

from dataclasses import dataclass

IN_APP, EMAIL, SMS, PUSH = "in_app", "email", "sms", "push"
CHANNELS = (IN_APP, EMAIL, SMS, PUSH)
CHANNEL_LABELS = {IN_APP: "In the app", EMAIL: "E-mail", SMS: "SMS", PUSH: "Push"}
# the channels a job delivers after the commit (in-app is the stored receipt itself)
OUTBOUND = (EMAIL, SMS, PUSH)

# delivery outcomes: pending until the delivery job ran
PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"
DELIVERY_STATUSES = (PENDING, SENT, FAILED, SKIPPED)

# a preference for every type at once (a user's "no SMS at all"); a specific type's wins over it
ANY_TYPE = "*"


@dataclass(frozen=True)
class NotificationType:
    name: str
    label: str
    # staff may send it by hand (POST /api/v1/notifications/, the admin's "Send notification")
    staff_sendable: bool = False


TYPES: dict[str, NotificationType] = {
    t.name: t
    for t in (
        NotificationType("announcement", "Announcements from the shop", staff_sendable=True),
        NotificationType("account", "About your account", staff_sendable=True),
        NotificationType("order.created", "New orders"),
        NotificationType("order.status_changed", "Order status changes"),
        NotificationType("inventory.low_stock", "Low stock"),
        NotificationType("payout.paid", "Payouts"),
        NotificationType("review.created", "New reviews"),
        NotificationType("chat.message", "Chat messages"),
    )
}
STAFF_TYPES = tuple(name for name, t in TYPES.items() if t.staff_sendable)
PREFERENCE_TYPES = (ANY_TYPE, *TYPES)

# what holds when neither the user nor the tenant said anything: in the app and by e-mail; SMS and
# push cost money or attention, so they are opted into
BUILTIN: dict[str, bool] = {IN_APP: True, EMAIL: True, SMS: False, PUSH: False}
BUILTIN_BY_TYPE: dict[tuple[str, str], bool] = {
    # a conversation is followed in the app; a mail per chat message would be noise
    ("chat.message", EMAIL): False,
}


def builtin(event_type: str, channel: str) -> bool:
    return BUILTIN_BY_TYPE.get((event_type, channel), BUILTIN[channel])


def type_label(name: str) -> str:
    if name == ANY_TYPE:
        return "Every kind"
    found = TYPES.get(name)
    return found.label if found else name
