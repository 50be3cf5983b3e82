"""What the customer use cases take (built by the faces from what they validated)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.core.inputs import UNSET, Changes, Unset


@dataclass(frozen=True)
class ProfileChanges(Changes):
    """UNSET: keep it; None clears it."""

    phone: str | None | Unset = UNSET
    date_of_birth: dt.date | None | Unset = UNSET
    preferred_language: str | None | Unset = UNSET
    preferred_currency: str | None | Unset = UNSET
    marketing_opt_in: bool | Unset = UNSET


@dataclass(frozen=True)
class AddressInput(Changes):
    """A new address (what is UNSET is empty; no label: "Home"), or the fields of one to change
    (UNSET: keep it). is_default true makes it the default; false is ignored."""

    label: str | None | Unset = UNSET
    full_name: str | Unset = UNSET
    company: str | None | Unset = UNSET
    line1: str | Unset = UNSET
    line2: str | None | Unset = UNSET
    city: str | Unset = UNSET
    region: str | None | Unset = UNSET
    postal_code: str | Unset = UNSET
    country: str | Unset = UNSET
    phone: str | None | Unset = UNSET
    is_default: bool | Unset = UNSET
