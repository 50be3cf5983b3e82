"""What the order use cases take (built by the faces from what they validated)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.core.inputs import UNSET, Changes, Unset


@dataclass(frozen=True)
class OrderChanges(Changes):
    """A status move (sellers and admins: of `sub_order_id`, default every sub-order of theirs,
    with a `note` for the timeline) and the customer's notes and address while pending. UNSET:
    not sent (notes None clears them)."""

    status: str | Unset = UNSET
    sub_order_id: int | None | Unset = UNSET
    note: str | None | Unset = UNSET
    notes: str | None | Unset = UNSET
    shipping_address: dict | Unset = UNSET


@dataclass(frozen=True)
class RefundLine:
    line_id: int
    quantity: int


@dataclass(frozen=True)
class RefundAsk:
    """A refund request: of `sub_order_id` (default every paid sub-order of the caller's), for an
    `amount` (default what is left), or for units of `lines` (with the shipping when
    `include_shipping`, and anyway with the last units)."""

    reason: str
    sub_order_id: int | None = None
    amount: Decimal | None = None
    lines: tuple[RefundLine, ...] = ()
    include_shipping: bool = False
