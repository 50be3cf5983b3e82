"""Product reviews by customers, and "helpful" votes on them."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Product
from app.core.types import TimestampMixin, UTCDateTime, utcnow
from app.customers.models import CustomerProfile
from app.tenants.models import TenantScoped

# approved: shown on the storefront (the default: reviews are post-moderated); pending: waiting for
# a moderator; hidden: taken down by a moderator. Only approved reviews count in the product's rating.
REVIEW_STATUSES = ("approved", "pending", "hidden")


class Review(TenantScoped, TimestampMixin, Model):
    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("product_id", "customer_id", name="uq_reviews_product_customer"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
        Index("ix_reviews_product_status_created", "product_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), nullable=False
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer_profiles.id", ondelete="CASCADE"), nullable=False, index=True
    )
    rating: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="approved", nullable=False)
    # True only when the customer bought the product; always False until orders exist
    verified_purchase: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    helpful_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    product: Mapped[Product] = relationship(Product)
    customer: Mapped[CustomerProfile] = relationship(CustomerProfile, lazy="joined")

    @property
    def author_name(self) -> str:
        user = self.customer.user if self.customer else None
        if user is None:
            return "Customer"
        last = f" {user.last_name[:1]}." if user.last_name else ""
        return f"{user.first_name}{last}"

    def __repr__(self) -> str:
        return f"{self.rating}★ {self.title}"


class ReviewVote(TenantScoped, Model):
    """A user found a review helpful: once per user and review."""

    __tablename__ = "review_votes"
    __table_args__ = (UniqueConstraint("review_id", "user_id", name="uq_review_votes_review_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(
        ForeignKey("reviews.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
