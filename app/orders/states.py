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

from enum import StrEnum


class OrderStatus(StrEnum):
    """The status of a sub-order, and of its parent order (derived from its sub-orders). The
    values are what the database stores and the API answers."""

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


# the values, in this order (the API documents them)
STATUSES: tuple[str, ...] = tuple(status.value for status in OrderStatus)

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset(
        {
            OrderStatus.PROCESSING,
            OrderStatus.CANCELLED,
            OrderStatus.REFUND_REQUESTED,
            OrderStatus.REFUNDED,
        }
    ),
    OrderStatus.PROCESSING: frozenset(
        {
            OrderStatus.SHIPPED,
            OrderStatus.CANCELLED,
            OrderStatus.REFUND_REQUESTED,
            OrderStatus.REFUNDED,
        }
    ),
    OrderStatus.SHIPPED: frozenset(
        {OrderStatus.DELIVERED, OrderStatus.REFUND_REQUESTED, OrderStatus.REFUNDED}
    ),
    OrderStatus.DELIVERED: frozenset(
        {OrderStatus.COMPLETED, OrderStatus.REFUND_REQUESTED, OrderStatus.REFUNDED}
    ),
    OrderStatus.COMPLETED: frozenset({OrderStatus.REFUND_REQUESTED, OrderStatus.REFUNDED}),
    OrderStatus.REFUND_REQUESTED: frozenset({OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED}),
    OrderStatus.PARTIALLY_REFUNDED: frozenset(
        {
            OrderStatus.REFUND_REQUESTED,
            OrderStatus.REFUNDED,
            OrderStatus.PROCESSING,
            OrderStatus.SHIPPED,
        }
    ),
    OrderStatus.REFUNDED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

# statuses a seller or an admin may set by hand (PUT/PATCH); the others follow payments and refunds
MANUAL_TARGETS = frozenset(
    {OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED}
)
# the order of fulfilment, used to derive the parent's status from its sub-orders
LIFECYCLE = (
    OrderStatus.PENDING,
    OrderStatus.PAID,
    OrderStatus.PROCESSING,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
    OrderStatus.REFUND_REQUESTED,
    OrderStatus.PARTIALLY_REFUNDED,
    OrderStatus.REFUNDED,
)
# stock is still held (reserved) in these statuses; it is turned into a sale when shipped
HOLDS_STOCK = frozenset({OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PROCESSING})
CANCELLABLE = frozenset({OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PROCESSING})
# from partially_refunded, fulfilment goes on only while the sub-order still holds stock
RESUMABLE = frozenset({OrderStatus.PROCESSING, OrderStatus.SHIPPED})


def allowed(current: str, *, holds_stock: bool = True) -> list[OrderStatus]:
    targets = TRANSITIONS.get(current, frozenset())
    if current == OrderStatus.PARTIALLY_REFUNDED and not holds_stock:
        targets = targets - RESUMABLE
    return sorted(targets)


def is_allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, ())


def derive_parent_status(sub_statuses: list[str]) -> OrderStatus:
    live = [s for s in sub_statuses if s != OrderStatus.CANCELLED]
    if not live:
        return OrderStatus.CANCELLED
    return OrderStatus(min(live, key=LIFECYCLE.index))
