"""The customer models' prediction tables, one row per customer and model version (keyed by
`model_version_id`, registered with analytics.registry so a retired version's rows are deleted).

Each row keeps the features the model saw for the customer (the behaviour summary and the API's
lists read them from the active version, never from orders)."""

from __future__ import annotations

from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import MONEY
from app.tenants.models import TenantScoped


class CustomerSegment(TenantScoped, Model):
    """A customer's segment in a `segments` version, with the features it was clustered on."""

    __tablename__ = "analytics_customer_segments"
    __table_args__ = (
        Index("ix_analytics_customer_segments_version", "model_version_id", "segment", "monetary"),
    )
    __audit__ = False  # written by the training job in bulk, not a business change

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_user_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False
    )
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("analytics_model_versions.id", ondelete="CASCADE"), nullable=False
    )
    segment: Mapped[str] = mapped_column(String(32), nullable=False)
    cluster: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    recency_days: Mapped[float] = mapped_column(Float, nullable=False)
    frequency: Mapped[int] = mapped_column(Integer, nullable=False)
    monetary: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    tenure_days: Mapped[float] = mapped_column(Float, nullable=False)
    avg_order_value: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    refund_rate: Mapped[float] = mapped_column(Float, nullable=False)
    days_between_orders: Mapped[float] = mapped_column(Float, nullable=False)
    views: Mapped[int] = mapped_column(Integer, nullable=False)
    cart_adds: Mapped[int] = mapped_column(Integer, nullable=False)
    wishlist_adds: Mapped[int] = mapped_column(Integer, nullable=False)
    searches: Mapped[int] = mapped_column(Integer, nullable=False)


class ChurnPrediction(TenantScoped, Model):
    """A customer's probability of placing no order in the version's horizon, and why."""

    __tablename__ = "analytics_churn_predictions"
    __table_args__ = (
        Index("ix_analytics_churn_predictions_version", "model_version_id", "probability"),
    )
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_user_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False
    )
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("analytics_model_versions.id", ondelete="CASCADE"), nullable=False
    )
    probability: Mapped[float] = mapped_column(Float, nullable=False)
    # [{"feature", "label", "contribution"}], largest first: what raises the probability most
    reasons: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    recency_days: Mapped[float] = mapped_column(Float, nullable=False)
    frequency: Mapped[int] = mapped_column(Integer, nullable=False)


class LifetimeValuePrediction(TenantScoped, Model):
    """A customer's predicted spend over the version's horizon, in the tenant's main currency."""

    __tablename__ = "analytics_lifetime_values"
    __table_args__ = (
        Index("ix_analytics_lifetime_values_version", "model_version_id", "predicted_value"),
    )
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_user_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False
    )
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("analytics_model_versions.id", ondelete="CASCADE"), nullable=False
    )
    predicted_value: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    horizon_days: Mapped[int] = mapped_column(Integer, nullable=False)
    past_value: Mapped[Decimal] = mapped_column(MONEY, nullable=False)  # monetary, history window
    frequency: Mapped[int] = mapped_column(Integer, nullable=False)
