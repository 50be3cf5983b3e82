"""A guest's access to the order it placed: the X-Order-Token.

Checkout answers a guest with an order access token (the `access_token` field and the
X-Order-Token header). With it the guest reads that order (detail, tracking) and asks for what the
state machine allows (cancel, a refund request); nothing else. Only its SHA-256 is stored
(orders.access_token_hash), like the cart token.

The token is derived, not drawn: HMAC-SHA256 keyed with the guest's cart token over the order id.
Only the holder of the cart token can compute it, the server cannot (it keeps hashes only), and a
replay of the checkout (same Idempotency-Key, same cart token) hands out the very same token, so
a guest whose first answer was lost still gets a token that works. Granting is idempotent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy import update

from app.core.db import transaction
from app.extensions import db
from app.orders.models import Order

HEADER = "X-Order-Token"


def token_for(cart_token: str, order_id: int) -> str:
    digest = hmac.new(cart_token.encode(), f"order-access:{order_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def grant(order_id: int, cart_token: str) -> str:
    """The guest order's access token; its hash is stored the first time (one conditional UPDATE)."""
    token = token_for(cart_token, order_id)
    with transaction():
        db.session.execute(update(Order).where(Order.id == order_id, Order.customer_user_id.is_(None),
                                               Order.access_token_hash.is_(None))
                           .values(access_token_hash=hash_token(token))
                           .execution_options(synchronize_session=False))
    return token


class GuestAccess:
    """A caller without an account holding one order's access token (checked by app.orders.services)."""

    def __init__(self, order_id: int, token: str):
        self.order_id = order_id
        self.token_hash = hash_token(token or "")
