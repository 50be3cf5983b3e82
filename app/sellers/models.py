"""Seller profiles (1:1 with a user): store, onboarding status and commission rate; and what a
seller proves about itself (KYC): the documents a tenant requires per business type, the
documents a seller uploads and staff's review of each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import RATE, TimestampMixin, UTCDateTime, utcnow
from app.security.models import User
from app.tenants.models import TenantScoped

# onboarding: pending -> approved / rejected; approved -> suspended -> approved (reinstated)
SELLER_STATUSES = ("pending", "approved", "rejected", "suspended")
BUSINESS_TYPES = ("individual", "company")
KYC_DOCUMENT_STATUSES = ("pending", "accepted", "rejected")


class SellerProfile(TenantScoped, TimestampMixin, Model):
    __tablename__ = "sellers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "slug", name="uq_sellers_tenant_slug"),
        CheckConstraint(
            "commission_rate >= 0 AND commission_rate <= 1", name="commission_rate_range"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    store_name: Mapped[str] = mapped_column(String(200), nullable=False)
    slug: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    contact_email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False, index=True)
    # why staff rejected or suspended the seller: the applicant reads it (API, mail, admin)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # which KYC requirements apply (KycRequirement.business_type)
    business_type: Mapped[str] = mapped_column(String(32), default="individual", nullable=False)
    # share of each sale the platform keeps, 0.1000 = 10 %
    commission_rate: Mapped[Decimal] = mapped_column(
        RATE, default=Decimal("0.1000"), nullable=False
    )

    user: Mapped[User] = relationship(User, lazy="joined")

    @property
    def is_approved(self) -> bool:
        return self.status == "approved"

    def __repr__(self) -> str:
        return self.store_name


class KycRequirement(TenantScoped, TimestampMixin, Model):
    """A document type the tenant asks sellers of one business type for, mandatory or not."""

    __tablename__ = "kyc_requirements"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "business_type", "document_type", name="uq_kyc_requirements_type"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_type: Mapped[str] = mapped_column(String(32), nullable=False)
    document_type: Mapped[str] = mapped_column(String(64), nullable=False)
    is_mandatory: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    description: Mapped[str | None] = mapped_column(String(255))

    def __repr__(self) -> str:
        return f"{self.document_type} ({self.business_type})"


class KycDocument(TenantScoped, TimestampMixin, Model):
    """A file a seller uploaded: kept under KYC_STORAGE_ROOT as `storage_name` (random), never
    served by a static route; its content type was sniffed from its bytes."""

    __tablename__ = "kyc_documents"
    __table_args__ = (Index("ix_kyc_documents_tenant_seller", "tenant_id", "seller_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(
        ForeignKey("sellers.id", ondelete="CASCADE"), nullable=False
    )
    document_type: Mapped[str] = mapped_column(String(64), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)  # as uploaded, for display
    content_type: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    seller: Mapped[SellerProfile] = relationship(SellerProfile)
    reviews: Mapped[list[KycReview]] = relationship(
        "KycReview", order_by="KycReview.id", cascade="all, delete-orphan", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"{self.document_type}: {self.filename}"


class KycReview(TenantScoped, Model):
    """One decision of staff on a document (its history: a document may be reviewed again)."""

    __tablename__ = "kyc_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("kyc_documents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    decision: Mapped[str] = mapped_column(String(16), nullable=False)  # accepted / rejected
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    reviewer: Mapped[User | None] = relationship(User)

    def __repr__(self) -> str:
        return f"{self.decision} {self.created_at:%Y-%m-%d %H:%M}"
