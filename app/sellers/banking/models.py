"""A seller's bank account. One default per seller and currency (kept by services under the
seller's row lock)."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.crypto import EncryptedString
from app.core.types import TimestampMixin, UTCDateTime
from app.sellers.models import SellerProfile
from app.tenants.models import TenantScoped

UNVERIFIED, VERIFIED, REJECTED = "unverified", "verified", "rejected"
VERIFICATION_STATUSES = (UNVERIFIED, VERIFIED, REJECTED)
# an IBAN, or a local account number with its bank's routing number (ABA, sort code, ...)
KINDS = ("iban", "local")


class SellerBankAccount(TenantScoped, TimestampMixin, Model):
    __tablename__ = "seller_bank_accounts"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "seller_id", "account_number_hash", name="uq_seller_bank_accounts_number"
        ),
        Index("ix_seller_bank_accounts_seller", "tenant_id", "seller_id", "currency"),
        CheckConstraint(
            "verification_status IN ('unverified', 'verified', 'rejected')",
            name="verification_status_known",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(
        ForeignKey("sellers.id", ondelete="CASCADE"), nullable=False
    )
    holder_name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    # the IBAN (no spaces, upper case) or the local account number, encrypted at rest; the audit
    # hook records "***" for it (an EncryptedString) and for the hash (its name)
    account_number: Mapped[str] = mapped_column(EncryptedString, nullable=False)
    account_number_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    number_last4: Mapped[str] = mapped_column(String(4), nullable=False)
    # identifies a bank, not an account: kept in clear (empty for an IBAN)
    routing_number: Mapped[str | None] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    verification_status: Mapped[str] = mapped_column(String(16), default=UNVERIFIED, nullable=False)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    verified_by_user_id: Mapped[int | None] = mapped_column(Integer)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    seller: Mapped[SellerProfile] = relationship(SellerProfile)

    @property
    def masked_number(self) -> str:
        return mask_last4(self.number_last4)

    def __repr__(self) -> str:
        return f"{self.holder_name} {self.masked_number} ({self.currency})"


def mask_last4(last4: str | None) -> str:
    """What anyone is shown of an account number: its last 4 characters."""
    return f"•••• {last4}" if last4 else ""
