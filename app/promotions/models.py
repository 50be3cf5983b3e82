"""Promotions, their redemptions and per-customer usage counters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import MONEY, TimestampMixin, UTCDateTime, utcnow
from app.sellers.models import SellerProfile
from app.tenants.models import TenantScoped

KINDS = ("percentage", "fixed_amount", "free_shipping", "buy_x_get_y")
FUNDERS = ("platform", "seller")


class Promotion(TenantScoped, TimestampMixin, Model):
    __tablename__ = "promotions"
    __table_args__ = (
        # NULL codes (automatic promotions) do not collide; codes are stored upper-case
        UniqueConstraint("tenant_id", "code", name="uq_promotions_tenant_code"),
        Index("ix_promotions_tenant_active", "tenant_id", "is_active", "starts_at"),
        Index("ix_promotions_tenant_seller", "tenant_id", "seller_id"),
        CheckConstraint("value >= 0", name="value_not_negative"),
        CheckConstraint("uses_count >= 0", name="uses_not_negative"),
        CheckConstraint(
            "usage_limit IS NULL OR uses_count <= usage_limit", name="uses_within_limit"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # percentage: percent off (15 = 15 %); fixed_amount: money off; buy_x_get_y: percent off the "get"
    # items (100 = free); free_shipping: unused
    value: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"), nullable=False)
    buy_quantity: Mapped[int | None] = mapped_column(Integer)
    get_quantity: Mapped[int | None] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String(64))
    # conditions
    min_subtotal: Mapped[Decimal | None] = mapped_column(MONEY)
    product_ids: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    category_ids: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    seller_ids: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    customer_role: Mapped[str | None] = mapped_column(String(64))
    first_order_only: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # limits
    usage_limit: Mapped[int | None] = mapped_column(Integer)
    usage_limit_per_customer: Mapped[int | None] = mapped_column(Integer)
    uses_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # stacking
    stackable: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    priority: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # funding: a seller-funded promotion belongs to that seller and discounts only its lines
    funded_by: Mapped[str] = mapped_column(String(8), default="platform", nullable=False)
    seller_id: Mapped[int | None] = mapped_column(
        ForeignKey("sellers.id", ondelete="CASCADE"), index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    seller: Mapped[SellerProfile | None] = relationship(SellerProfile)

    def is_live(self, now: dt.datetime | None = None) -> bool:
        now = now or utcnow()
        return (
            self.is_active
            and (self.starts_at is None or self.starts_at <= now)
            and (self.ends_at is None or now < self.ends_at)
        )

    def __repr__(self) -> str:
        return f"{self.name} ({self.code})" if self.code else self.name


class PromotionRedemption(TenantScoped, Model):
    """One promotion used by one order (checkout writes it through `services.redeem`)."""

    __tablename__ = "promotion_redemptions"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "promotion_id", "order_id", name="uq_promotion_redemptions_promotion_order"
        ),
        Index("ix_promotion_redemptions_tenant_order", "tenant_id", "order_id"),
        Index("ix_promotion_redemptions_tenant_customer", "tenant_id", "customer_user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    promotion_id: Mapped[int] = mapped_column(
        ForeignKey("promotions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # RESTRICT: an order whose discount was booked is never deleted
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="RESTRICT"), nullable=False
    )
    customer_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"), index=True
    )
    code: Mapped[str | None] = mapped_column(String(64))
    discount_total: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    promotion: Mapped[Promotion] = relationship(Promotion)

    def __repr__(self) -> str:
        return f"promotion {self.promotion_id} on order {self.order_id}"


class PromotionCustomerUsage(TenantScoped, Model):
    """How many times one customer used one promotion: the row the per-customer limit is checked
    and counted on with one conditional UPDATE."""

    __tablename__ = "promotion_customer_usage"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "promotion_id", "customer_user_id", name="uq_promotion_customer_usage_pair"
        ),
        Index("ix_promotion_customer_usage_tenant_customer", "tenant_id", "customer_user_id"),
    )
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    promotion_id: Mapped[int] = mapped_column(
        ForeignKey("promotions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    customer_user_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    uses_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
