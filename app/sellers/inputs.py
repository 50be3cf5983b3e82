"""What the seller use cases take (built by the faces' schemas from what they validated)."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.inputs import UNSET, Changes, Unset


@dataclass(frozen=True)
class StoreDetails:
    """The store an applicant registers."""

    store_name: str
    description: str | None = None
    contact_email: str | None = None
    business_type: str = "individual"


@dataclass(frozen=True)
class NewAccount:
    """The user account of an applicant who has none yet."""

    email: str
    password: str
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True)
class SellerChanges(Changes):
    """What a seller may change of its own profile (never its status or commission)."""

    store_name: str | Unset = UNSET
    description: str | None | Unset = UNSET
    contact_email: str | None | Unset = UNSET
    business_type: str | Unset = UNSET


@dataclass(frozen=True)
class NewDocument:
    """An uploaded KYC file, as the face read it (the bytes are judged by the service)."""

    document_type: str
    filename: str
    data: bytes
