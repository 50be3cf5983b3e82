"""Tenants: one storefront brand each (domain, branding, currency, languages, limits, plan)."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from app.core.types import TimestampMixin

TENANT_STATUSES = ("active", "suspended")
TENANT_PLANS = ("starter", "standard", "enterprise")
# a cart line (one variant) and a whole cart or order hold at most this many units, unless the
# tenant says otherwise (app.cart.services.check_quantity_limits)
DEFAULT_MAX_LINE_QUANTITY = 100
DEFAULT_MAX_ORDER_UNITS = 500
# the largest limits a tenant may set (the cart API takes at most 10,000 units of one item)
LIMIT_LINE_QUANTITY = 10_000
LIMIT_ORDER_UNITS = 100_000


class Tenant(TimestampMixin, Model):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    domain: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active", nullable=False)
    plan: Mapped[str] = mapped_column(String(32), default="standard", nullable=False)
    default_currency: Mapped[str] = mapped_column(String(3), default="USD", nullable=False)
    default_language: Mapped[str] = mapped_column(String(8), default="en", nullable=False)
    # the IANA time zone the admin shows this tenant's times in ("Europe/Paris"); NULL: the
    # platform's DISPLAY_TIME_ZONE (config.py, UTC by default). Stored times stay UTC.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # comma-separated language codes offered by the storefront, e.g. "en,fr,de"
    languages: Mapped[str] = mapped_column(String(200), default="en", nullable=False)
    logo_url: Mapped[str | None] = mapped_column(String(500))
    primary_color: Mapped[str | None] = mapped_column(String(7))
    # limits; NULL means unlimited
    max_products: Mapped[int | None] = mapped_column(Integer)
    max_sellers: Mapped[int | None] = mapped_column(Integer)
    max_users: Mapped[int | None] = mapped_column(Integer)
    # order quantity limits (cart and checkout): units of one item, units in all
    max_line_quantity: Mapped[int] = mapped_column(
        Integer,
        default=DEFAULT_MAX_LINE_QUANTITY,
        server_default=str(DEFAULT_MAX_LINE_QUANTITY),
        nullable=False,
    )
    max_order_units: Mapped[int] = mapped_column(
        Integer,
        default=DEFAULT_MAX_ORDER_UNITS,
        server_default=str(DEFAULT_MAX_ORDER_UNITS),
        nullable=False,
    )

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    def __repr__(self) -> str:
        return self.name


class TenantScoped:
    """Mixin for tenant-owned tables: a non-null tenant_id that the ORM hooks fill and filter."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("tenants.id"), nullable=False, index=True)
