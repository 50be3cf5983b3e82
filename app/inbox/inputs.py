"""Typed inputs of the notification centre's services."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Message:
    """What to say. `channels` narrows the channels tried (None: every channel); a user's
    preferences still decide within them."""

    type: str
    title: str
    body: str = ""
    link: str | None = None
    data: dict = field(default_factory=dict)
    channels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Audience:
    """Whom staff send to: exactly one of a user, a role, or the sellers in a status."""

    user_id: int | None = None
    role: str | None = None
    seller_status: str | None = None
