"""Tax rules and the tenant's tax settings.

Which rules apply to a line (see `app.tax.calc.rules_for`):
- a rule matches a destination when its country is the destination's and its region is empty or the
  destination's region;
- category override: rules naming the line's category, or failing that its nearest ancestor that has
  matching rules, replace the standard (category-less) rules for that line; shipping always uses the
  standard rules;
- among the matching rules of the chosen level, only those of the highest `priority` apply, and they
  apply together (one TaxComponent each, e.g. a federal and a state rate). Give a region rule a higher
  priority than the country rule to make it replace the country rate instead of adding to it.
"""

from __future__ import annotations

from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Category
from app.core.types import RATE, TimestampMixin
from app.tenants.models import TenantScoped


class TaxRule(TenantScoped, TimestampMixin, Model):
    __tablename__ = "tax_rules"
    __table_args__ = (
        Index("ix_tax_rules_tenant_country", "tenant_id", "country", "region"),
        CheckConstraint("rate >= 0 AND rate < 1", name="rate_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    region: Mapped[str | None] = mapped_column(String(10))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    rate: Mapped[Decimal] = mapped_column(RATE, nullable=False)
    priority: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    category: Mapped[Category | None] = relationship(Category)

    def __repr__(self) -> str:
        return self.name


class TaxSettings(TenantScoped, TimestampMixin, Model):
    """One row per tenant (none means: prices exclude tax)."""

    __tablename__ = "tax_settings"
    __table_args__ = (UniqueConstraint("tenant_id", name="uq_tax_settings_tenant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    def __repr__(self) -> str:
        return "prices include tax" if self.prices_include_tax else "prices exclude tax"
