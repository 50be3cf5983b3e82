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
    partially_refunded -> the next fulfilment step from where fulfilment stood before the refund
                          (its stage: the last fulfilment status of its timeline), so a partial
                          refund never stops fulfilment:
                              paid | processing -> processing | shipped  (only while it still holds
                                                   stock: units refunded before shipping; the rest ships)
                              shipped -> delivered;  delivered -> completed;  completed -> none
                          and, whatever the stage, refund_requested or refunded (later refunds).
    A full refund (refunded) and a cancel are final.
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
            OrderStatus.DELIVERED,
            OrderStatus.COMPLETED,
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
# steps that need stock still held (and money still paid for the sub-order): from partially_refunded
# they are taken only while the sub-order holds stock
RESUMABLE = frozenset({OrderStatus.PROCESSING, OrderStatus.SHIPPED})
# the fulfilment stages a sub-order passes through; a partially refunded one goes on from the last
FULFILMENT = (
    OrderStatus.PAID,
    OrderStatus.PROCESSING,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
)
# partially_refunded -> these fulfilment steps, by the stage fulfilment had reached
RESUME = {
    OrderStatus.PAID: RESUMABLE,
    OrderStatus.PROCESSING: RESUMABLE,
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.COMPLETED}),
    OrderStatus.COMPLETED: frozenset(),
}
# partially_refunded -> these whatever the stage (more refunds)
AFTER_PARTIAL_REFUND = frozenset({OrderStatus.REFUND_REQUESTED, OrderStatus.REFUNDED})


def allowed(
    current: str, *, stage: str | None = None, holds_stock: bool = True
) -> list[OrderStatus]:
    """The statuses `current` may move to. For partially_refunded, `stage` (where fulfilment stood:
    app.orders.transitions.fulfilment_stage) picks the fulfilment steps; without it none is
    offered. Stock-holding steps need `holds_stock`."""
    if current != OrderStatus.PARTIALLY_REFUNDED:
        return sorted(TRANSITIONS.get(current, frozenset()))
    steps = RESUME.get(stage, frozenset()) if stage is not None else frozenset()
    if not holds_stock:
        steps = steps - RESUMABLE
    return sorted(AFTER_PARTIAL_REFUND | steps)


def is_allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, ())


def derive_parent_status(
    sub_statuses: list[str], stages: dict[int, str] | None = None
) -> OrderStatus:
    """The order's status: the least advanced of its sub-orders that are not cancelled (cancelled if
    all are). A partially refunded sub-order next to others in another status counts as the
    fulfilment stage it has reached (`stages`: by its position in `sub_statuses`), so the order
    says what it still waits for (a partly refunded unshipped part keeps the order "paid" while the
    other part has shipped); when every live sub-order is partially refunded, so is the order."""
    stages = stages or {}
    live = [(i, s) for i, s in enumerate(sub_statuses) if s != OrderStatus.CANCELLED]
    if not live:
        return OrderStatus.CANCELLED
    if all(s == OrderStatus.PARTIALLY_REFUNDED for _, s in live):
        return OrderStatus.PARTIALLY_REFUNDED
    ranked = [stages.get(i) or s if s == OrderStatus.PARTIALLY_REFUNDED else s for i, s in live]
    return OrderStatus(min(ranked, key=LIFECYCLE.index))
