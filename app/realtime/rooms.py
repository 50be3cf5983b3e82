"""Room names. A connection joins its user's room, its seller's room (a Seller) and its tenant's
staff room (Admin); an event is addressed to rooms, never to a connection."""

from __future__ import annotations


def user(user_id: int) -> str:
    return f"user:{int(user_id)}"


def seller(seller_id: int) -> str:
    return f"seller:{int(seller_id)}"


def tenant_staff(tenant_id: int) -> str:
    return f"tenant:{int(tenant_id)}:admin"
