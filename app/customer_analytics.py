"""The signed-in customer's own figures (GET /api/v1/customers/analytics/): wishlist, activity by
type, reviews written, paid orders and net spend.

A use case above three domains: customers (profile, wishlist, activity), reviews and orders. Its
home is this top-layer module rather than app/customers/services.py, which may not import orders
or reviews (both sit above customers in the declared order). Each figure is one query, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from app.core.db import transactional
from app.core.types import quantize_money
from app.customers.engagement_models import ACTIVITY_TYPES, CustomerActivity, WishlistItem
from app.customers.services import ensure_profile
from app.extensions import db
from app.orders.models import Order
from app.reviews.models import Review
from app.security.actor import Actor


@dataclass(frozen=True)
class CustomerFigures:
    """Orders counted are the paid ones (cancelled or refunded later included); total_spent is what
    they cost minus what was refunded."""

    wishlist_count: int
    reviews_count: int
    activity_counts: dict[str, int]
    orders_count: int
    total_spent: Decimal


@transactional
def analytics(actor: Actor) -> CustomerFigures:
    profile = ensure_profile(actor)
    wishlist_count = db.session.scalar(
        select(func.count(WishlistItem.id)).where(WishlistItem.customer_id == profile.id)
    )
    reviews_count = db.session.scalar(
        select(func.count(Review.id)).where(Review.customer_id == profile.id)
    )
    rows = db.session.execute(
        select(CustomerActivity.type, func.count(CustomerActivity.id))
        .where(CustomerActivity.customer_id == profile.id)
        .group_by(CustomerActivity.type)
    ).all()
    counts = {name: 0 for name in ACTIVITY_TYPES}
    counts.update({name: n for name, n in rows})
    # orders that were paid (cancelled or refunded later included); spend is net of refunds
    orders_count, spent = db.session.execute(
        select(
            func.count(Order.id), func.coalesce(func.sum(Order.total - Order.refunded_total), 0)
        ).where(Order.customer_user_id == actor.user_id, Order.paid_at.is_not(None))
    ).one()
    return CustomerFigures(
        wishlist_count=wishlist_count or 0,
        reviews_count=reviews_count or 0,
        activity_counts=counts,
        orders_count=orders_count or 0,
        total_spent=quantize_money(Decimal(spent or 0)),
    )
