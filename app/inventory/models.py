"""Inventory: warehouses, stock per variant per warehouse, the movement ledger, low-stock alerts."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import ProductVariant
from app.core.types import TimestampMixin, UTCDateTime, utcnow
from app.sellers.models import SellerProfile
from app.tenants.models import TenantScoped

MOVEMENT_REASONS = (
    "receipt",
    "adjustment",
    "sale",
    "return",
    "reservation",
    "release",
    "transfer",
    "count",
)


class Warehouse(TenantScoped, TimestampMixin, Model):
    __tablename__ = "warehouses"
    __table_args__ = (UniqueConstraint("tenant_id", "code", name="uq_warehouses_tenant_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL: a platform (fulfilment) warehouse; otherwise the seller that runs it
    seller_id: Mapped[int | None] = mapped_column(
        ForeignKey("sellers.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), default="US", nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    seller: Mapped[SellerProfile | None] = relationship(SellerProfile)

    def __repr__(self) -> str:
        return f"{self.code} — {self.name}"


class StockLevel(TenantScoped, TimestampMixin, Model):
    """How many units of a variant a warehouse has; `reserved` are promised to open orders."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("variant_id", "warehouse_id", name="uq_stock_levels_variant_warehouse"),
        Index("ix_stock_levels_tenant_seller", "tenant_id", "seller_id", "id"),
        CheckConstraint("quantity_on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("quantity_reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("quantity_reserved <= quantity_on_hand", name="reserved_within_on_hand"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    variant_id: Mapped[int] = mapped_column(
        ForeignKey("product_variants.id", ondelete="CASCADE"), nullable=False
    )
    # the owning seller (the product's), copied for indexed seller lists; see app/inventory/ownership.py
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), nullable=False)
    warehouse_id: Mapped[int] = mapped_column(
        ForeignKey("warehouses.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    quantity_on_hand: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    quantity_reserved: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    reorder_point: Mapped[int] = mapped_column(Integer, default=5, nullable=False)

    # joined: every list of stock shows both, and a lazy load per row was an N+1
    variant: Mapped[ProductVariant] = relationship(ProductVariant, lazy="joined")
    warehouse: Mapped[Warehouse] = relationship(Warehouse, lazy="joined")

    @property
    def available(self) -> int:
        return self.quantity_on_hand - self.quantity_reserved

    def __repr__(self) -> str:
        return f"{self.variant} @ {self.warehouse}"


class StockMovement(TenantScoped, Model):
    """Append-only ledger: every change of on-hand or reserved quantity, with its reason."""

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_tenant_seller", "tenant_id", "seller_id", "id"),)
    __audit__ = False  # the ledger is itself the record

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    stock_level_id: Mapped[int] = mapped_column(
        ForeignKey("stock_levels.id", ondelete="CASCADE"), nullable=False, index=True
    )
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(16), nullable=False)
    delta_on_hand: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    delta_reserved: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    on_hand_after: Mapped[int] = mapped_column(Integer, nullable=False)
    reserved_after: Mapped[int] = mapped_column(Integer, nullable=False)
    reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(255))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    stock_level: Mapped[StockLevel] = relationship(StockLevel, lazy="joined")


class LowStockAlert(TenantScoped, Model):
    """Raised when available stock falls to or below the reorder point; closed on restock."""

    __tablename__ = "low_stock_alerts"
    __table_args__ = (
        UniqueConstraint("source_event_id", name="uq_low_stock_alerts_source_event"),
        Index("ix_low_stock_alerts_tenant_seller", "tenant_id", "seller_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stock_level_id: Mapped[int] = mapped_column(
        ForeignKey("stock_levels.id", ondelete="CASCADE"), nullable=False, index=True
    )
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), nullable=False)
    available: Mapped[int] = mapped_column(Integer, nullable=False)
    reorder_point: Mapped[int] = mapped_column(Integer, nullable=False)
    source_event_id: Mapped[int | None] = mapped_column(BigInteger)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    stock_level: Mapped[StockLevel] = relationship(StockLevel, lazy="joined")
