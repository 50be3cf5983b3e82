"""Is this the customer's first order? What first-order-only promotions ask
(`PricingRequest.is_first_order`), answered in this one place for the cart, checkout and the
basket endpoints (apply-coupon, shipping/calculate).

The rule: a guest never has a first order; a signed-in user has one while it has no order in the
current tenant (the ORM's tenant filter applies to the query). It reads orders, which sit above
pricing and cart in the declared layers, so it is the orders side's to provide: it registers its
rule once at start-up with `set_resolver(fn)` (fn(user_id) -> bool). Until it does, the rule's
interim home is `_no_order_yet` below, the one import of a higher layer left in pricing (listed in
pyproject.toml's ignore_imports): it goes, with that line, once orders registers its own.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from app.extensions import db
from app.orders.models import Order

Resolver = Callable[[int], bool]


def _no_order_yet(user_id: int) -> bool:
    return (
        db.session.scalar(select(Order.id).where(Order.customer_user_id == user_id).limit(1))
        is None
    )


_resolver: Resolver = _no_order_yet


def set_resolver(fn: Resolver | None) -> Resolver:
    """Make `fn` the rule (None: the interim one); returns the rule it replaces."""
    global _resolver
    previous, _resolver = _resolver, fn if fn is not None else _no_order_yet
    return previous


def is_first_order(user_id: int | None) -> bool:
    """Whether the user (None: a guest) would be placing its first order in the current tenant."""
    if user_id is None:
        return False
    return bool(_resolver(user_id))
