"""What a customer's past orders say about it: the rule first-order-only promotions ask through
app.pricing.first_order (pricing sits below orders, so create_app registers this there)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.orders.models import Order


def has_no_order(user_id: int) -> bool:
    """Whether the user has no order yet in the current tenant (the ORM's tenant filter applies);
    one indexed LIMIT 1 lookup."""
    found = db.session.scalar(select(Order.id).where(Order.customer_user_id == user_id).limit(1))
    return found is None
