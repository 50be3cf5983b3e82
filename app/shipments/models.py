"""Shipments: one per sub-order parcel, with its carrier, tracking number, PDF label and events."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.dialects.mysql import MEDIUMBLOB
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.core.types import TimestampMixin, UTCDateTime, utcnow
from app.orders.models import SubOrder
from app.tenants.models import TenantScoped

LABEL_BLOB = LargeBinary().with_variant(MEDIUMBLOB(), "mysql", "mariadb")


class Shipment(TenantScoped, TimestampMixin, Model):
    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "carrier", "tracking_number", name="uq_shipments_tenant_tracking"
        ),
        Index("ix_shipments_tenant_seller", "tenant_id", "seller_id", "id"),
        Index("ix_shipments_tenant_sub_order", "tenant_id", "sub_order_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    sub_order_id: Mapped[int] = mapped_column(
        ForeignKey("sub_orders.id", ondelete="CASCADE"), nullable=False
    )
    seller_id: Mapped[int] = mapped_column(
        ForeignKey("sellers.id", ondelete="RESTRICT"), nullable=False
    )
    carrier: Mapped[str] = mapped_column(String(32), nullable=False)
    tracking_number: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(24), default="label_created", nullable=False)
    label_pdf: Mapped[bytes | None] = deferred(mapped_column(LABEL_BLOB))
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    sub_order: Mapped[SubOrder] = relationship(SubOrder, lazy="joined")
    events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="shipment",
        cascade="all, delete-orphan",
        order_by="TrackingEvent.occurred_at",
        lazy="selectin",
    )

    def __repr__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class TrackingEvent(TenantScoped, Model):
    __tablename__ = "shipment_tracking_events"
    __table_args__ = (
        Index("ix_shipment_tracking_events_tenant_shipment", "tenant_id", "shipment_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    description: Mapped[str] = mapped_column(String(255), nullable=False)
    location: Mapped[str | None] = mapped_column(String(120))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    shipment: Mapped[Shipment] = relationship(back_populates="events")

    def __repr__(self) -> str:
        return f"{self.status}: {self.description}"
