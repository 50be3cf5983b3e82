"""Shipping zones, methods and their rate brackets."""

from __future__ import annotations

from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import MONEY, TimestampMixin
from app.sellers.models import SellerProfile
from app.tenants.models import TenantScoped

RATE_TYPES = ("flat", "weight", "price")


def parse_areas(text: str | None) -> list[tuple[str, str | None]]:
    """ "FR, DE, US-CA" -> [("FR", None), ("DE", None), ("US", "CA")]: a country, or a country and
    one of its regions (ISO 3166-2 style)."""
    areas = []
    for raw in (text or "").replace(";", ",").replace("\n", ",").split(","):
        item = raw.strip().upper()
        if not item:
            continue
        country, _, region = item.partition("-")
        areas.append((country, region or None))
    return areas


def areas_cover(areas, country: str, region: str | None) -> bool:
    """Whether parsed `areas` cover a destination: its whole country, or its region of it."""
    country, region = country.upper(), (region or "").upper() or None
    return any(c == country and (r is None or r == region) for c, r in areas)


class ShippingZone(TenantScoped, TimestampMixin, Model):
    __tablename__ = "shipping_zones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    # comma-separated: "FR, DE, US-CA" (a whole country, or one region of it)
    areas: Mapped[str] = mapped_column(Text, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    methods: Mapped[list[ShippingMethod]] = relationship(back_populates="zone")

    def covers(self, country: str, region: str | None) -> bool:
        return areas_cover(parse_areas(self.areas), country, region)

    def __repr__(self) -> str:
        return self.name


class ShippingMethod(TenantScoped, TimestampMixin, Model):
    """How one seller (or, with no seller, every seller) ships into a zone."""

    __tablename__ = "shipping_methods"
    __table_args__ = (
        Index("ix_shipping_methods_tenant_zone", "tenant_id", "zone_id"),
        Index("ix_shipping_methods_tenant_seller", "tenant_id", "seller_id"),
        CheckConstraint("flat_rate IS NULL OR flat_rate >= 0", name="flat_rate_not_negative"),
        CheckConstraint("free_over IS NULL OR free_over >= 0", name="free_over_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(
        ForeignKey("shipping_zones.id", ondelete="CASCADE"), nullable=False, index=True
    )
    seller_id: Mapped[int | None] = mapped_column(
        ForeignKey("sellers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    carrier_code: Mapped[str] = mapped_column(String(32), default="manual", nullable=False)
    rate_type: Mapped[str] = mapped_column(String(8), default="flat", nullable=False)
    flat_rate: Mapped[Decimal | None] = mapped_column(MONEY)
    free_over: Mapped[Decimal | None] = mapped_column(MONEY)
    min_days: Mapped[int | None] = mapped_column(Integer)
    max_days: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    zone: Mapped[ShippingZone] = relationship(back_populates="methods")
    seller: Mapped[SellerProfile | None] = relationship(SellerProfile)
    brackets: Mapped[list[ShippingRateBracket]] = relationship(
        back_populates="method",
        cascade="all, delete-orphan",
        order_by="ShippingRateBracket.min_value",
        lazy="selectin",
    )

    def __repr__(self) -> str:
        return self.name


class ShippingRateBracket(TenantScoped, Model):
    """For weight-based (kg) or price-based (goods amount) methods: `min_value <= x < max_value`
    (no max: open-ended) costs `rate`."""

    __tablename__ = "shipping_rate_brackets"
    __table_args__ = (
        Index("ix_shipping_rate_brackets_tenant_method", "tenant_id", "method_id"),
        CheckConstraint("rate >= 0", name="rate_not_negative"),
        CheckConstraint("min_value >= 0", name="min_not_negative"),
        CheckConstraint("max_value IS NULL OR max_value > min_value", name="max_above_min"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    method_id: Mapped[int] = mapped_column(
        ForeignKey("shipping_methods.id", ondelete="CASCADE"), nullable=False, index=True
    )
    min_value: Mapped[Decimal] = mapped_column(Numeric(12, 3), default=Decimal("0"), nullable=False)
    max_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    rate: Mapped[Decimal] = mapped_column(MONEY, nullable=False)

    method: Mapped[ShippingMethod] = relationship(back_populates="brackets")

    def __repr__(self) -> str:
        upper = f"{self.max_value}" if self.max_value is not None else "∞"
        return f"[{self.min_value}, {upper}) → {self.rate}"
