"""Is this the customer's first order? What first-order-only promotions ask
(`PricingRequest.is_first_order`), answered in this one place for the cart, checkout and the
basket endpoints (apply-coupon, shipping/calculate).

The rule: a guest never has a first order; a signed-in user has one while it has no order in the
current tenant. Past orders are orders' to read, and orders sits above pricing and the cart in the
declared layers: create_app registers orders' rule (app.orders.history.has_no_order) with
`set_resolver` at start-up. Asked before that, it fails loudly rather than guess.
"""

from __future__ import annotations

from collections.abc import Callable

Resolver = Callable[[int], bool]


def _unregistered(user_id: int) -> bool:
    raise RuntimeError("no first-order rule registered (create_app registers orders' own)")


_resolver: Resolver = _unregistered


def set_resolver(fn: Resolver | None) -> Resolver:
    """Make `fn` the rule (None: none); returns the rule it replaces."""
    global _resolver
    previous, _resolver = _resolver, fn if fn is not None else _unregistered
    return previous


def is_first_order(user_id: int | None) -> bool:
    """Whether the user (None: a guest) would be placing its first order in the current tenant."""
    if user_id is None:
        return False
    return bool(_resolver(user_id))
