"""Who is calling a service: one typed, immutable value the faces build once per request (the
storefront API's `current_actor()`, the admin's `current_actor()`, a job's own) and pass down,
instead of each service reading a FAB user's roles and looking up its seller profile itself.

The seller profile id needs app.sellers (above security), so the builder is
`app.sellers.actors.actor_for(user)`; it hands the Actor a lookup that runs at most once, and only
when a service asks for `seller_id` of a seller (lazy: a request that never needs it pays no query,
as before). A guest holding an order's access token is not an Actor (app.orders.access.GuestAccess).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from app.security import roles

ADMIN_ROLES = frozenset({roles.ADMIN, roles.SUPER_ADMIN})


@dataclass(frozen=True, eq=False)
class Actor:
    """A signed-in user's standing: its id, tenant (None: a Super Admin), role names, and (for a
    seller, looked up on first use) its seller profile id."""

    user_id: int
    tenant_id: int | None
    role_names: frozenset[str]
    # user id -> its seller profile id (app.sellers.actors); None: no seller profile is looked up
    find_seller_id: Callable[[int], int | None] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, user, find_seller_id: Callable[[int], int | None] | None = None) -> Actor:
        return cls(
            user_id=user.id,
            tenant_id=user.tenant_id,
            role_names=frozenset(user.role_names),
            find_seller_id=find_seller_id,
        )

    @property
    def is_super_admin(self) -> bool:
        return roles.SUPER_ADMIN in self.role_names

    @property
    def is_admin(self) -> bool:
        """Admin or Super Admin: every row of the tenant."""
        return bool(self.role_names & ADMIN_ROLES)

    @property
    def is_seller(self) -> bool:
        """A Seller who is not also an Admin (an Admin works as an Admin), as User.is_seller."""
        return roles.SELLER in self.role_names and not self.is_admin

    @property
    def is_customer(self) -> bool:
        """Holds a customer role (Customer or Premium Customer)."""
        return bool(self.role_names & roles.CUSTOMER_ROLES)

    @property
    def is_staff(self) -> bool:
        """May use the admin UI (Seller, Admin, Super Admin), as User.is_staff."""
        return bool(self.role_names & roles.STAFF_ROLES)

    @cached_property
    def seller_id(self) -> int | None:
        """The seller profile id of a seller (None for anyone else, and for a seller without a
        profile); looked up once, on first use."""
        if not self.is_seller or self.find_seller_id is None:
            return None
        return self.find_seller_id(self.user_id)
