"""The order state machine: every allowed transition, in one table.

A sub-order (one seller's part) moves through fulfilment; the parent order's status is derived
from its sub-orders (the least advanced one that is not cancelled; cancelled if all are).

    pending -> paid -> processing -> shipped -> delivered -> completed
    pending | paid | processing -> cancelled
    paid | processing | shipped | delivered | completed | partially_refunded -> refund_requested
    refund_requested -> refunded | partially_refunded   (a refund was paid out)
    refund_requested -> <the status before the request>  (the request was rejected)
    paid | processing | shipped | delivered | completed -> refunded   (the order's payment was refunded
                                                  in full outside a request: an Admin's refund through
                                                  /api/v1/payments/refund/, a retry; see
                                                  app.orders.transitions.follow_refunds)
    partially_refunded -> processing | shipped   (only while the sub-order still holds stock: units
                                                  were refunded before shipping; the rest ships)
"""

from __future__ import annotations

PENDING = "pending"
PAID = "paid"
PROCESSING = "processing"
SHIPPED = "shipped"
DELIVERED = "delivered"
COMPLETED = "completed"
CANCELLED = "cancelled"
REFUND_REQUESTED = "refund_requested"
REFUNDED = "refunded"
PARTIALLY_REFUNDED = "partially_refunded"

STATUSES = (
    PENDING,
    PAID,
    PROCESSING,
    SHIPPED,
    DELIVERED,
    COMPLETED,
    CANCELLED,
    REFUND_REQUESTED,
    REFUNDED,
    PARTIALLY_REFUNDED,
)

TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({PAID, CANCELLED}),
    PAID: frozenset({PROCESSING, CANCELLED, REFUND_REQUESTED, REFUNDED}),
    PROCESSING: frozenset({SHIPPED, CANCELLED, REFUND_REQUESTED, REFUNDED}),
    SHIPPED: frozenset({DELIVERED, REFUND_REQUESTED, REFUNDED}),
    DELIVERED: frozenset({COMPLETED, REFUND_REQUESTED, REFUNDED}),
    COMPLETED: frozenset({REFUND_REQUESTED, REFUNDED}),
    REFUND_REQUESTED: frozenset({REFUNDED, PARTIALLY_REFUNDED}),
    PARTIALLY_REFUNDED: frozenset({REFUND_REQUESTED, REFUNDED, PROCESSING, SHIPPED}),
    REFUNDED: frozenset(),
    CANCELLED: frozenset(),
}

# statuses a seller or an admin may set by hand (PUT/PATCH); the others follow payments and refunds
MANUAL_TARGETS = frozenset({PROCESSING, SHIPPED, DELIVERED, COMPLETED})
# the order of fulfilment, used to derive the parent's status from its sub-orders
LIFECYCLE = (
    PENDING,
    PAID,
    PROCESSING,
    SHIPPED,
    DELIVERED,
    COMPLETED,
    REFUND_REQUESTED,
    PARTIALLY_REFUNDED,
    REFUNDED,
)
# stock is still held (reserved) in these statuses; it is turned into a sale when shipped
HOLDS_STOCK = frozenset({PENDING, PAID, PROCESSING})
CANCELLABLE = frozenset({PENDING, PAID, PROCESSING})
# from partially_refunded, fulfilment goes on only while the sub-order still holds stock
RESUMABLE = frozenset({PROCESSING, SHIPPED})


def allowed(current: str, *, holds_stock: bool = True) -> list[str]:
    targets = TRANSITIONS.get(current, frozenset())
    if current == PARTIALLY_REFUNDED and not holds_stock:
        targets = targets - RESUMABLE
    return sorted(targets)


def is_allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, ())


def derive_parent_status(sub_statuses: list[str]) -> str:
    live = [s for s in sub_statuses if s != CANCELLED]
    if not live:
        return CANCELLED
    return min(live, key=LIFECYCLE.index)
