"""Account numbers: an IBAN checked by its ISO 13616 mod-97 check digits, a local account number
with its routing number (a US ABA routing number checked by its own check digit), and what is
stored of them (the keyed hash, the last 4). No function here puts a number in an error message.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from flask import current_app

from app.core.errors import ValidationError

_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_LOCAL = re.compile(r"^[0-9A-Z]{4,34}$")
_ROUTING = re.compile(r"^[0-9A-Z]{3,20}$")
_SEPARATORS = re.compile(r"[\s-]+")


@dataclass(frozen=True)
class AccountNumber:
    """A checked number, normalised (no spaces, upper case). repr never shows the number."""

    kind: str  # "iban" | "local"
    number: str
    routing_number: str | None
    country: str | None  # an IBAN's country

    def __repr__(self) -> str:
        return f"AccountNumber(kind={self.kind!r}, last4={self.last4!r})"

    @property
    def last4(self) -> str:
        return self.number[-4:]

    def fingerprint(self) -> str:
        """A keyed hash of the account (kind, routing number, number): equal for the same account,
        useless without the application's key (a plain sha256 of a number is easily reversed)."""
        key = current_app.config.get("ENCRYPTION_KEY") or current_app.config["SECRET_KEY"]
        if isinstance(key, str):
            key = key.encode()
        message = f"bank-account:{self.kind}:{self.routing_number or ''}:{self.number}"
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def invalid(errors: dict[str, list[str]]) -> ValidationError:
    """The refusal naming each field and why (the admin flashes the message, the API adds the
    details); the number itself is never in it."""
    reasons = "; ".join(f"{field}: {', '.join(why)}" for field, why in errors.items())
    return ValidationError(f"the bank account is not valid: {reasons}", details=errors)


def normalise(value: str | None) -> str:
    return _SEPARATORS.sub("", value or "").upper()


def iban_is_valid(iban: str) -> bool:
    """ISO 13616: the first four characters moved to the end, letters as 10..35, mod 97 is 1."""
    if not _IBAN.match(iban):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def aba_is_valid(routing: str) -> bool:
    """A US ABA routing number: 9 digits whose weighted sum (3, 7, 1) is a multiple of 10."""
    if not (len(routing) == 9 and routing.isdigit()):
        return False
    return sum(int(d) * w for d, w in zip(routing, (3, 7, 1) * 3, strict=True)) % 10 == 0


def parse(
    *,
    iban: str | None = None,
    account_number: str | None = None,
    routing_number: str | None = None,
    country: str | None = None,
) -> AccountNumber:
    """The account given either as an IBAN or as account number + routing number (a
    ValidationError naming the field otherwise: never echoing the number)."""
    iban, local, routing = normalise(iban), normalise(account_number), normalise(routing_number)
    if iban and (local or routing):
        raise invalid({"iban": ["give an IBAN or account_number + routing_number, not both"]})
    if iban:
        if not iban_is_valid(iban):
            raise invalid({"iban": ["not a valid IBAN (format or check digits)"]})
        if country and iban[:2] != country:
            raise invalid({"country": [f"the IBAN is of {iban[:2]}, not {country}"]})
        return AccountNumber("iban", iban, None, iban[:2])
    if not local:
        raise invalid({"iban": ["an IBAN or account_number + routing_number is required"]})
    errors = {}
    if not _LOCAL.match(local):
        errors["account_number"] = ["4 to 34 letters or digits"]
    if not routing:
        errors["routing_number"] = ["required with an account number"]
    elif not _ROUTING.match(routing):
        errors["routing_number"] = ["3 to 20 letters or digits"]
    elif country == "US" and not aba_is_valid(routing):
        errors["routing_number"] = ["not a valid US ABA routing number (check digit)"]
    if errors:
        raise invalid(errors)
    return AccountNumber("local", local, routing, None)
