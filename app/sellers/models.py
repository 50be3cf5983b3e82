"""Seller profiles (1:1 with a user): store, approval status and commission rate."""

from __future__ import annotations

from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import RATE, TimestampMixin
from app.security.models import User
from app.tenants.models import TenantScoped

SELLER_STATUSES = ("pending", "approved", "suspended")


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
