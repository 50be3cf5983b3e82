"""Customer profiles (1:1 with a user) and their addresses."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import TimestampMixin
from app.security.models import User
from app.tenants.models import TenantScoped


class CustomerProfile(TenantScoped, TimestampMixin, Model):
    __tablename__ = "customer_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    phone: Mapped[str | None] = mapped_column(String(32))
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    preferred_language: Mapped[str | None] = mapped_column(String(8))
    preferred_currency: Mapped[str | None] = mapped_column(String(3))
    marketing_opt_in: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    loyalty_points: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    user: Mapped[User] = relationship(User, lazy="joined")
    addresses: Mapped[list[Address]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Address.id"
    )

    def __repr__(self) -> str:
        return (
            f"{self.user.get_full_name()} <{self.user.email}>"
            if self.user
            else f"customer {self.id}"
        )


class Address(TenantScoped, TimestampMixin, Model):
    __tablename__ = "addresses"
    __table_args__ = (UniqueConstraint("customer_id", "label", name="uq_addresses_customer_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer_profiles.id", ondelete="CASCADE"), nullable=False, index=True
    )
    label: Mapped[str] = mapped_column(String(50), default="Home", nullable=False)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False)
    company: Mapped[str | None] = mapped_column(String(200))
    line1: Mapped[str] = mapped_column(String(200), nullable=False)
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100), nullable=False)
    region: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(20), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)  # ISO 3166-1 alpha-2
    phone: Mapped[str | None] = mapped_column(String(32))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    customer: Mapped[CustomerProfile] = relationship(back_populates="addresses")

    def __repr__(self) -> str:
        return f"{self.label}: {self.line1}, {self.city} {self.postal_code}, {self.country}"
