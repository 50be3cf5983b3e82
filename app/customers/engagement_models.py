"""Customer engagement: wishlist items and the activity log (product views, searches, wishlist adds)."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Product
from app.core.types import UTCDateTime, utcnow
from app.customers.models import CustomerProfile
from app.tenants.models import TenantScoped

ACTIVITY_TYPES = (
    "product_view",
    "search",
    "wishlist_add",
    "wishlist_remove",
    "add_to_cart",
    "category_view",
)


class WishlistItem(TenantScoped, Model):
    __tablename__ = "wishlist_items"
    __table_args__ = (
        UniqueConstraint("customer_id", "product_id", name="uq_wishlist_items_customer_product"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer_profiles.id", ondelete="CASCADE"), nullable=False
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    customer: Mapped[CustomerProfile] = relationship(CustomerProfile)
    product: Mapped[Product] = relationship(Product)

    def __repr__(self) -> str:
        return f"wishlist item {self.id}"


class CustomerActivity(TenantScoped, Model):
    __tablename__ = "customer_activities"
    __table_args__ = (
        Index("ix_customer_activities_customer_created", "customer_id", "created_at"),
    )
    __audit__ = False  # a high-volume log of the customer's own browsing, not a business change

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer_profiles.id", ondelete="CASCADE"), nullable=False
    )
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    payload: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    customer: Mapped[CustomerProfile] = relationship(CustomerProfile)
    product: Mapped[Product | None] = relationship(Product)

    def __repr__(self) -> str:
        return f"{self.type} #{self.id}"
