"""The aggregate tables (migration 0034), all tenant-scoped. What each figure means is the
package's docstring (analytics.aggregates)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import JSON, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import MONEY, UTCDateTime, utcnow
from app.tenants.models import TenantScoped

ZERO = Decimal("0")


def _money() -> Mapped[Decimal]:
    return mapped_column(MONEY, default=ZERO, server_default="0", nullable=False)


def _count() -> Mapped[int]:
    return mapped_column(Integer, default=0, server_default="0", nullable=False)


class SalesDaily(TenantScoped, Model):
    """Sales by local day x seller x channel x currency (a sub-order is counted once here)."""

    __tablename__ = "analytics_sales_daily"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "day", "seller_id", "channel", "currency", name="uq_analytics_sales_daily"
        ),
        Index("ix_analytics_sales_daily_seller", "tenant_id", "seller_id", "day"),
    )
    KEY = ("day", "seller_id", "channel", "currency")
    MEASURES = ("orders", "shop_orders", "units", "gross", "refunded", "commission", "net")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    seller_id: Mapped[int] = mapped_column(Integer, nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    orders: Mapped[int] = _count()  # sub-orders paid
    shop_orders: Mapped[int] = _count()  # orders (parents): carried by each one's first sale
    units: Mapped[int] = _count()
    gross: Mapped[Decimal] = _money()
    refunded: Mapped[Decimal] = _money()
    commission: Mapped[Decimal] = _money()
    net: Mapped[Decimal] = _money()


class CategorySalesDaily(TenantScoped, Model):
    """Sales by local day x seller x category x channel x currency: the lines of each category
    (category 0: lines of a product without one, or deleted)."""

    __tablename__ = "analytics_category_sales_daily"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "day",
            "seller_id",
            "category_id",
            "channel",
            "currency",
            name="uq_analytics_category_sales_daily",
        ),
        Index("ix_analytics_category_sales_daily_seller", "tenant_id", "seller_id", "day"),
    )
    KEY = ("day", "seller_id", "category_id", "channel", "currency")
    MEASURES = ("orders", "units", "gross", "refunded", "commission", "net")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    seller_id: Mapped[int] = mapped_column(Integer, nullable=False)
    category_id: Mapped[int] = mapped_column(Integer, nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    orders: Mapped[int] = _count()  # sub-orders holding a line of the category
    units: Mapped[int] = _count()
    gross: Mapped[Decimal] = _money()
    refunded: Mapped[Decimal] = _money()
    commission: Mapped[Decimal] = _money()
    net: Mapped[Decimal] = _money()


class ProductDaily(TenantScoped, Model):
    """A product's sales by local day and currency (product 0: lines of a deleted product)."""

    __tablename__ = "analytics_product_daily"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "day", "product_id", "currency", name="uq_analytics_product_daily"
        ),
        Index("ix_analytics_product_daily_seller", "tenant_id", "seller_id", "day"),
    )
    KEY = ("day", "product_id", "seller_id", "currency")  # seller: the product's
    MEASURES = ("orders", "units", "revenue", "units_refunded")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    product_id: Mapped[int] = mapped_column(Integer, nullable=False)
    seller_id: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    orders: Mapped[int] = _count()  # sub-orders holding the product
    units: Mapped[int] = _count()
    revenue: Mapped[Decimal] = _money()  # its line totals
    units_refunded: Mapped[int] = _count()


class ProductActivityDaily(TenantScoped, Model):
    """Product views and cart adds by local day, folded in from customer_activities by the
    refresh job (never by an event per page view)."""

    __tablename__ = "analytics_product_activity_daily"
    __table_args__ = (
        UniqueConstraint("tenant_id", "day", "product_id", name="uq_analytics_product_activity"),
        Index("ix_analytics_product_activity_seller", "tenant_id", "seller_id", "day"),
    )
    KEY = ("day", "product_id", "seller_id")
    MEASURES = ("views", "cart_adds")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    product_id: Mapped[int] = mapped_column(Integer, nullable=False)
    seller_id: Mapped[int] = mapped_column(Integer, nullable=False)
    views: Mapped[int] = _count()
    cart_adds: Mapped[int] = _count()


class CustomerSummary(TenantScoped, Model):
    """A customer's first and last sale and orders, shop-wide (seller_id 0, orders counted) and
    per seller (its sub-orders)."""

    __tablename__ = "analytics_customers"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "seller_id", "customer_user_id", name="uq_analytics_customers"
        ),
        Index("ix_analytics_customers_first", "tenant_id", "seller_id", "first_order_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(Integer, nullable=False)
    customer_user_id: Mapped[int] = mapped_column(Integer, nullable=False)
    first_order_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_order_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    first_order_day: Mapped[dt.date | None] = mapped_column(Date)  # local
    orders: Mapped[int] = _count()


class CustomerDay(TenantScoped, Model):
    """A customer's sales by local day and currency: orders and spend net of refunds (its spend
    per currency is the sum of these rows)."""

    __tablename__ = "analytics_customer_days"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "seller_id",
            "customer_user_id",
            "day",
            "currency",
            name="uq_analytics_customer_days",
        ),
        Index("ix_analytics_customer_days_day", "tenant_id", "seller_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(Integer, nullable=False)
    customer_user_id: Mapped[int] = mapped_column(Integer, nullable=False)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    orders: Mapped[int] = _count()
    spend: Mapped[Decimal] = _money()


class SubOrderFact(TenantScoped, Model):
    """What one sub-order currently contributes to the sales, category and product tables
    ({row key: {measure: value}}): the consumers apply the difference with what it contributes
    now, under this row's lock, so replays and concurrent consumers add nothing twice."""

    __tablename__ = "analytics_sub_order_facts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sub_order_id", name="uq_analytics_sub_order_facts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sub_order_id: Mapped[int] = mapped_column(Integer, nullable=False)
    contributions: Mapped[dict] = mapped_column(JSON, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


TABLES = {"sales": SalesDaily, "category": CategorySalesDaily, "product": ProductDaily}
