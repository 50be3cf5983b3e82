"""What the user-management use cases take (built by the faces from what they validated)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NewUser:
    """An account made by an admin: no roles given means Customer; a Super Admin has no other
    role (and no tenant)."""

    email: str
    password: str
    first_name: str | None = ""
    last_name: str | None = ""
    username: str | None = None
    phone: str | None = None
    roles: tuple[str, ...] = ()
    email_verified: bool = False
