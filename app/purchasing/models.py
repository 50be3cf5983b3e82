"""Suppliers and purchase orders (lines, receipts). A supplier belongs to the tenant (staff's) or
to one seller; a purchase order inherits its supplier's seller and orders that seller's variants
into one warehouse. Statuses: draft -> sent -> partly_received -> received, or cancelled (from
draft, sent or partly received: the rest will not come); app.purchasing.services enforces them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import ProductVariant
from app.core.types import TimestampMixin, UTCDateTime, utcnow
from app.inventory.models import Warehouse
from app.sellers.models import SellerProfile
from app.tenants.models import TenantScoped

DRAFT, SENT, PARTLY_RECEIVED, RECEIVED, CANCELLED = (
    "draft",
    "sent",
    "partly_received",
    "received",
    "cancelled",
)
PO_STATUSES = (DRAFT, SENT, PARTLY_RECEIVED, RECEIVED, CANCELLED)
# the steps each status allows (receiving moves sent/partly_received on by itself)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    DRAFT: (SENT, CANCELLED),
    SENT: (PARTLY_RECEIVED, RECEIVED, CANCELLED),
    PARTLY_RECEIVED: (PARTLY_RECEIVED, RECEIVED, CANCELLED),
    RECEIVED: (),
    CANCELLED: (),
}
UNIT_COST = Numeric(14, 4)  # a unit cost may carry fractions of a cent (bulk prices)


class Supplier(TenantScoped, TimestampMixin, Model):
    __tablename__ = "suppliers"
    __table_args__ = (Index("ix_suppliers_tenant_seller", "tenant_id", "seller_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL: the platform's (staff's) supplier; otherwise the seller that buys from it
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(160), nullable=False)
    contact_name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3), default="USD", nullable=False)
    lead_time_days: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    seller: Mapped[SellerProfile | None] = relationship(SellerProfile)

    def __repr__(self) -> str:
        return self.name


class PurchaseOrder(TenantScoped, TimestampMixin, Model):
    __tablename__ = "purchase_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_purchase_orders_tenant_number"),
        Index("ix_purchase_orders_tenant_seller", "tenant_id", "seller_id", "id"),
        CheckConstraint(
            "status IN ('draft', 'sent', 'partly_received', 'received', 'cancelled')",
            name="status_known",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False)
    supplier_id: Mapped[int] = mapped_column(
        ForeignKey("suppliers.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    # the supplier's seller (NULL: the platform's), copied for indexed seller lists
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id", ondelete="RESTRICT"))
    warehouse_id: Mapped[int] = mapped_column(
        ForeignKey("warehouses.id", ondelete="RESTRICT"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(16), default=DRAFT, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    expected_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL")
    )

    supplier: Mapped[Supplier] = relationship(Supplier)
    warehouse: Mapped[Warehouse] = relationship(Warehouse)
    seller: Mapped[SellerProfile | None] = relationship(SellerProfile)
    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        "PurchaseOrderLine",
        back_populates="purchase_order",
        order_by="PurchaseOrderLine.id",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return self.number


class PurchaseOrderLine(TenantScoped, Model):
    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        UniqueConstraint("purchase_order_id", "variant_id", name="uq_purchase_order_lines_variant"),
        CheckConstraint("quantity_ordered > 0", name="ordered_positive"),
        CheckConstraint("quantity_received >= 0", name="received_not_negative"),
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    variant_id: Mapped[int] = mapped_column(
        ForeignKey("product_variants.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    quantity_ordered: Mapped[int] = mapped_column(Integer, nullable=False)
    quantity_received: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    unit_cost: Mapped[Decimal] = mapped_column(UNIT_COST, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)

    purchase_order: Mapped[PurchaseOrder] = relationship(PurchaseOrder, back_populates="lines")
    variant: Mapped[ProductVariant] = relationship(ProductVariant, lazy="joined")

    @property
    def quantity_open(self) -> int:
        return max(self.quantity_ordered - self.quantity_received, 0)

    def __repr__(self) -> str:
        return f"{self.variant} x {self.quantity_ordered}"


class PurchaseReceipt(TenantScoped, Model):
    """One delivery received against a purchase order: its key (the same key never receives
    twice), what it received per line ([{"line_id", "quantity"}]), who and when."""

    __tablename__ = "purchase_receipts"
    __table_args__ = (
        UniqueConstraint("purchase_order_id", "receipt_key", name="uq_purchase_receipts_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    receipt_key: Mapped[str] = mapped_column(String(100), nullable=False)
    lines: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    over_receipt: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    note: Mapped[str | None] = mapped_column(String(255))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    purchase_order: Mapped[PurchaseOrder] = relationship(PurchaseOrder)
