"""Which review rows a seller sees, as SQL conditions: the one home of the rule, called by the
admin's seller scoping (admin/views/reviews.py). A seller reads the reviews of its products (and
their authors); the storefront's public rule (approved reviews of active products) and the
author's and moderators' access are app.reviews.services'."""

from __future__ import annotations

from sqlalchemy import select

from app.catalog.scopes import product_ids_of_seller
from app.customers.models import CustomerProfile
from app.reviews.models import Review


def reviews_of_seller(seller_id: int):
    """Reviews of the seller's products (IN (subquery), one semi-join on MariaDB)."""
    return Review.product_id.in_(product_ids_of_seller(seller_id))


def reviewers_of_seller(seller_id: int):
    """The customers who reviewed one of the seller's products."""
    return CustomerProfile.id.in_(select(Review.customer_id).where(reviews_of_seller(seller_id)))
