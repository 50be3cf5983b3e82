"""What the bank account use cases take (built by the faces from what they validated)."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.inputs import UNSET, Changes, Unset


@dataclass(frozen=True, repr=False)
class NewBankAccount:
    """An IBAN, or an account number with its routing number. repr never shows a number."""

    holder_name: str
    currency: str
    country: str | None = None  # an IBAN's own when not given
    iban: str | None = None
    account_number: str | None = None
    routing_number: str | None = None
    is_default: bool = False

    def __repr__(self) -> str:
        return f"NewBankAccount(holder_name={self.holder_name!r}, currency={self.currency!r})"


@dataclass(frozen=True)
class BankAccountChanges(Changes):
    """UNSET: keep it. is_default true makes it the default of its currency; false is ignored
    (another account takes the default over by being made the default)."""

    holder_name: str | Unset = UNSET
    is_default: bool | Unset = UNSET
