"""A commission rule. seller_id and category_id both empty: the platform default; a category
covers its descendants."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Category
from app.core.types import MONEY, RATE, TimestampMixin, UTCDateTime
from app.sellers.models import SellerProfile
from app.tenants.models import TenantScoped

PER_LINE, PER_ORDER = "line", "order"
FIXED_PER = (PER_LINE, PER_ORDER)


class CommissionRule(TenantScoped, TimestampMixin, Model):
    __tablename__ = "commission_rules"
    __table_args__ = (
        Index("ix_commission_rules_scope", "tenant_id", "seller_id", "category_id"),
        CheckConstraint("rate IS NULL OR (rate >= 0 AND rate <= 1)", name="rate_range"),
        CheckConstraint("fixed_amount IS NULL OR fixed_amount >= 0", name="fixed_not_negative"),
        CheckConstraint("rate IS NOT NULL OR fixed_amount IS NOT NULL", name="rate_or_fixed"),
        CheckConstraint("fixed_per IN ('line', 'order')", name="fixed_per_known"),
        CheckConstraint(
            "valid_until IS NULL OR valid_from IS NULL OR valid_until > valid_from",
            name="valid_until_after_from",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    # 0.1000 = 10 % of the line's taxable amount (+ the discounts the platform funds)
    rate: Mapped[Decimal | None] = mapped_column(RATE)
    fixed_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    fixed_per: Mapped[str] = mapped_column(String(8), default=PER_LINE, nullable=False)
    # a rule with a currency applies to orders in it only (its fixed amount is in it)
    currency: Mapped[str | None] = mapped_column(String(3))
    valid_from: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # exclusive

    seller: Mapped[SellerProfile | None] = relationship(SellerProfile)
    category: Mapped[Category | None] = relationship(Category)

    @property
    def scope(self) -> str:
        if self.seller_id and self.category_id:
            return "seller + category"
        if self.seller_id:
            return "seller"
        return "category" if self.category_id else "platform default"

    def __repr__(self) -> str:
        return self.name
