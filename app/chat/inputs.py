"""What the chat use cases take (built by the faces from what they validated)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NewConversation:
    """A customer asks a seller about a product (product_id) or one of its orders (order_id; the
    seller_id names which seller of the order, and may be left out when the order has one)."""

    subject_type: str
    body: str
    product_id: int | None = None
    order_id: int | None = None
    seller_id: int | None = None
