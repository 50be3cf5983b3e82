"""A guest's access to the order it placed: the X-Order-Token.

Checkout answers a guest with an order access token (the `access_token` field and the
X-Order-Token header). With it the guest reads that order (detail, tracking) and asks for what the
state machine allows (cancel, a refund request); nothing else. Only its SHA-256 is stored
(orders.access_token_hash), like the cart token.

The token is derived, not drawn: HMAC-SHA256 keyed with the guest's cart token over the order
number (random, unique per tenant, known before the order is written). Only the holder of the cart
token can compute it, the server cannot (it keeps hashes only), so checkout stores its hash with
the order's own INSERT (no UPDATE, no commit of its own), and a replay of the checkout (same
Idempotency-Key, same cart token) hands out the very same token: a guest whose first answer was
lost still gets a token that works. Orders placed before 2026-11-26 had it derived over the order
id and granted after the checkout's commit; `issued_token` still finds those.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy import select, update

from app.core.crypto import hash_token
from app.core.db import transaction
from app.extensions import db
from app.orders.models import Order

HEADER = "X-Order-Token"


def token_for(cart_token: str, subject: str | int) -> str:
    """The access token of the order `subject` (its number; the id for orders placed before)."""
    digest = hmac.new(
        cart_token.encode(), f"order-access:{subject}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_order_token_hash(cart_token: str, order_number: str) -> str:
    """What checkout stores on a guest's new order (orders.access_token_hash)."""
    return hash_token(token_for(cart_token, order_number))


def issued_token(order: Order, cart_token: str) -> str | None:
    """The token of a guest order placed with `cart_token` (the checkout's answer, also on a replay):
    the one whose hash the order holds. An older order still without one (its grant after commit
    did not happen) is granted now; a hash that neither derivation gives (another cart token) gives
    None: the caller never learns a token that does not open the order."""
    for subject in (order.number, order.id):
        token = token_for(cart_token, subject)
        if order.access_token_hash == hash_token(token):
            return token
    if order.access_token_hash is None:
        return _grant(order.id, cart_token, order.number)
    return None


def placed_with_cart_token(order: Order, cart_token: str | None) -> bool:
    """Whether `order` is a guest order placed with `cart_token` (its access token derives from it):
    what a guest proves with X-Guest-Token to pay an order by its id (app.orders.pay_later.pay_order)."""
    if not cart_token or order.customer_user_id is not None or order.access_token_hash is None:
        return False
    return any(
        hmac.compare_digest(order.access_token_hash, hash_token(token_for(cart_token, subject)))
        for subject in (order.number, order.id)
    )


def _grant(order_id: int, cart_token: str, order_number: str) -> str | None:
    """Store the hash on an order that has none yet (one conditional UPDATE); a concurrent replay
    that stored it first stored the same one."""
    token = token_for(cart_token, order_number)
    with transaction():
        db.session.execute(
            update(Order)
            .where(
                Order.id == order_id,
                Order.customer_user_id.is_(None),
                Order.access_token_hash.is_(None),
            )
            .values(access_token_hash=hash_token(token))
            .execution_options(synchronize_session=False)
        )
        stored = db.session.scalar(select(Order.access_token_hash).where(Order.id == order_id))
    return token if stored == hash_token(token) else None


class GuestAccess:
    """A caller without an account holding one order's access token (checked by app.orders.visibility)."""

    def __init__(self, order_id: int, token: str):
        self.order_id = order_id
        self.token_hash = hash_token(token or "")
