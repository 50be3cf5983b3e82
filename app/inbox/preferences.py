"""Which channels a user is told through, per notification type.

The effective choice for (user, type, channel), first found wins:
    the user's own for that type  >  the user's own for every type ("*")
    >  the tenant's default for that type  >  the tenant's default for "*"  >  catalog.builtin()
A user's "*" beats a tenant's type default: a user who turned SMS off for everything is never
texted because the shop defaults some type to SMS. Users change only their own rows; an Admin
changes the tenant's defaults; removing a choice (None) falls back to the next level.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core.db import transaction
from app.core.errors import PermissionDenied, ValidationError
from app.extensions import db
from app.inbox.catalog import ANY_TYPE, CHANNELS, PREFERENCE_TYPES, builtin, type_label
from app.inbox.models import NotificationDefault, NotificationPreference
from app.security.actor import Actor

USER, TENANT, BUILTIN = "user", "tenant", "builtin"


@dataclass(frozen=True)
class Choice:
    """A change: `enabled` None removes the choice (the next level's holds again)."""

    type: str
    channel: str
    enabled: bool | None


@dataclass(frozen=True)
class PreferenceView:
    type: str
    label: str
    channel: str
    enabled: bool
    # where the value comes from: the user's own choice, the tenant's default, or the built-in
    source: str


def check_choices(choices: Iterable[Choice]) -> list[Choice]:
    choices = list(choices)
    errors: dict[str, list[str]] = {}
    for index, choice in enumerate(choices):
        if choice.type not in PREFERENCE_TYPES:
            errors[f"{index}.type"] = [f"one of {', '.join(PREFERENCE_TYPES)}"]
        if choice.channel not in CHANNELS:
            errors[f"{index}.channel"] = [f"one of {', '.join(CHANNELS)}"]
    if errors:
        raise ValidationError("unknown notification type or channel", details=errors)
    return choices


def _defaults(event_types: Sequence[str]) -> dict[tuple[str, str], bool]:
    rows = db.session.execute(
        select(
            NotificationDefault.event_type, NotificationDefault.channel, NotificationDefault.enabled
        ).where(NotificationDefault.event_type.in_(event_types))
    )
    return {(t, c): bool(e) for t, c, e in rows}


def _user_rows(user_ids: Sequence[int], event_types: Sequence[str]) -> dict:
    found: dict[int, dict[tuple[str, str], bool]] = {}
    for start in range(0, len(user_ids), 1000):
        rows = db.session.execute(
            select(
                NotificationPreference.user_id,
                NotificationPreference.event_type,
                NotificationPreference.channel,
                NotificationPreference.enabled,
            ).where(
                NotificationPreference.user_id.in_(user_ids[start : start + 1000]),
                NotificationPreference.event_type.in_(event_types),
            )
        )
        for user_id, event_type, channel, enabled in rows:
            found.setdefault(user_id, {})[(event_type, channel)] = bool(enabled)
    return found


def _resolve(event_type: str, channel: str, own: dict, defaults: dict) -> tuple[bool, str]:
    for key, source in (
        ((event_type, channel), USER),
        ((ANY_TYPE, channel), USER),
    ):
        if key in own:
            return own[key], source
    for key in ((event_type, channel), (ANY_TYPE, channel)):
        if key in defaults:
            return defaults[key], TENANT
    return builtin(event_type, channel), BUILTIN


def channels_for(user_ids: Sequence[int], event_type: str) -> dict[int, dict[str, bool]]:
    """user id -> channel -> whether `event_type` goes through it (in the current tenant), in
    two queries whatever the number of users."""
    types = (event_type, ANY_TYPE)
    defaults = _defaults(types)
    own = _user_rows(list(user_ids), types)
    return {
        user_id: {
            channel: _resolve(event_type, channel, own.get(user_id, {}), defaults)[0]
            for channel in CHANNELS
        }
        for user_id in user_ids
    }


def preferences_of(actor: Actor) -> list[PreferenceView]:
    """Every type ("*" first) and channel with the caller's effective choice and its source."""
    defaults = _defaults(PREFERENCE_TYPES)
    own = _user_rows([actor.user_id], PREFERENCE_TYPES).get(actor.user_id, {})
    views = []
    for event_type in PREFERENCE_TYPES:
        for channel in CHANNELS:
            enabled, source = _resolve(event_type, channel, own, defaults)
            views.append(
                PreferenceView(event_type, type_label(event_type), channel, enabled, source)
            )
    return views


def set_preferences(actor: Actor, choices: Iterable[Choice]) -> list[PreferenceView]:
    """Apply the caller's own choices (only ever its own rows) in one transaction."""
    choices = check_choices(choices)
    _apply(
        choices,
        NotificationPreference,
        [NotificationPreference.user_id == actor.user_id],
        {"user_id": actor.user_id},
    )
    return preferences_of(actor)


def tenant_defaults() -> dict[tuple[str, str], bool]:
    """(type, channel) -> the tenant's default, where it set one."""
    return _defaults(PREFERENCE_TYPES)


def set_tenant_defaults(actor: Actor, choices: Iterable[Choice]) -> None:
    """An Admin sets (or removes, with None) the current tenant's defaults."""
    if not actor.is_admin:
        raise PermissionDenied("only an Admin changes the shop's notification defaults")
    _apply(check_choices(choices), NotificationDefault, [], {})


def _apply(choices: list[Choice], model, owner: list, values: dict) -> None:
    for attempt in range(2):  # a concurrent twin inserted the same row first: read it and update
        try:
            with transaction():
                existing = {
                    (row.event_type, row.channel): row
                    for row in db.session.scalars(select(model).where(*owner)).all()
                }
                for choice in choices:
                    row = existing.get((choice.type, choice.channel))
                    if choice.enabled is None:
                        if row is not None:
                            db.session.delete(row)
                            existing.pop((choice.type, choice.channel))
                    elif row is None:
                        row = model(
                            event_type=choice.type,
                            channel=choice.channel,
                            enabled=choice.enabled,
                            **values,
                        )
                        db.session.add(row)
                        existing[(choice.type, choice.channel)] = row
                    elif row.enabled != choice.enabled:
                        row.enabled = choice.enabled
            return
        except IntegrityError:
            if attempt:
                raise
