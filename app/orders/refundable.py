"""What is still refundable and fulfillable: ONE rule, every refund counted.

Money goes back to a buyer by several paths: a refund request paid out (approved by the seller or
an admin), the cancel of part of a paid order (an approved request too), the cancel of a whole
order and an Admin's refund through /api/v1/payments/refund/ (payment refunds that answer no
request), an admin's retry of a failed one, a refund Stripe settles later by webhook. What a
sub-order may still be refunded, and whether it may still be processed and shipped, is computed
here only, from what payments captured and EVERY payment refund of the order, whatever made it.

A payment refund that answers no request pays back the order, not a sub-order (a payment covers
the parent order; payments knows nothing of sub-orders): it is attributed to none. It lowers what
the order as a whole has left, which caps every sub-order: a sub-order has left
    min(its total - its live requests, captured - payment refunds outside requests - all live requests)
where live requests are those neither rejected, failed nor closed (their money is asked for, being
paid out or paid out) and payment refunds count from the moment payments reserves their amount
(pending) until they fail. When the order's payments are refunded in full (completed refunds reach
what was captured), every sub-order still open moves to refunded
(app.orders.transitions.follow_refunds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import exists, func, select

from app.core.errors import Conflict
from app.extensions import db
from app.orders import states
from app.orders.errors import OrderError
from app.orders.models import (
    Order,
    OrderPaymentStatus,
    RefundRequest,
    RefundRequestStatus,
    SubOrder,
)
from app.payments.models import Payment, Refund, RefundStatus

ZERO = Decimal("0.00")


# a rejected, failed or closed request gives its units and money back
LIVE_REQUEST = (
    RefundRequestStatus.REQUESTED,
    RefundRequestStatus.APPROVED,
    RefundRequestStatus.COMPLETED,
)


@dataclass
class RefundPosition:
    """An order's money: what its payments captured, the payment refunds (pending or completed) that
    answer no refund request, and per sub-order the live requests."""

    captured: Decimal = ZERO
    outside: Decimal = ZERO
    asked: dict[int, Decimal] = field(default_factory=dict)

    @property
    def order_left(self) -> Decimal:
        return max(self.captured - self.outside - sum(self.asked.values(), ZERO), ZERO)

    def left(self, sub: SubOrder) -> Decimal:
        """What may still be refunded for `sub` (asked in a request, or paid back on cancel)."""
        return max(min(sub.total - self.asked.get(sub.id, ZERO), self.order_left), ZERO)

    def claim(self, sub_id: int, amount: Decimal) -> None:
        """A live request of `amount` for sub-order `sub_id` (also one made in this transaction)."""
        self.asked[sub_id] = self.asked.get(sub_id, ZERO) + amount


@dataclass
class RefundFacts:
    """What the order views show of refunds: the position and the refund requests (with lines)."""

    position: RefundPosition = field(default_factory=RefundPosition)
    requests: list[RefundRequest] = field(default_factory=list)

    def returned_units(self) -> dict[int, int]:
        """Units of each line asked back in live requests."""
        units: dict[int, int] = {}
        for request in self.requests:
            if request.status in LIVE_REQUEST:
                for rl in request.lines:
                    units[rl.order_line_id] = units.get(rl.order_line_id, 0) + rl.quantity
        return units


def captured_and_outside(order_ids: list[int]) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    captured = db.session.execute(
        select(Payment.order_id, func.sum(Payment.amount_captured))
        .where(Payment.order_id.in_(order_ids))
        .group_by(Payment.order_id)
    ).all()
    outside = db.session.execute(
        select(Refund.order_id, func.sum(Refund.amount))
        .where(
            Refund.order_id.in_(order_ids),
            Refund.status.in_((RefundStatus.PENDING, RefundStatus.COMPLETED)),
            ~exists().where(RefundRequest.payment_refund_id == Refund.id),
        )
        .group_by(Refund.order_id)
    ).all()
    return (
        {order_id: Decimal(amount or 0) for order_id, amount in captured},
        {order_id: Decimal(amount or 0) for order_id, amount in outside},
    )


def _never_paid(order: Order) -> bool:
    """Nothing was ever captured for it (so no refund or refund request can exist either)."""
    return order.paid_at is None and order.payment_status in (
        OrderPaymentStatus.UNPAID,
        OrderPaymentStatus.FAILED,
    )


def refund_position(order: Order) -> RefundPosition:
    """The order's money as it stands now (three small queries; none for an order never paid)."""
    if _never_paid(order):
        return RefundPosition()
    captured, outside = captured_and_outside([order.id])
    asked = dict(
        db.session.execute(
            select(RefundRequest.sub_order_id, func.sum(RefundRequest.amount))
            .where(RefundRequest.order_id == order.id, RefundRequest.status.in_(LIVE_REQUEST))
            .group_by(RefundRequest.sub_order_id)
        ).all()
    )
    return RefundPosition(
        captured.get(order.id, ZERO),
        outside.get(order.id, ZERO),
        {sub_id: Decimal(amount) for sub_id, amount in asked.items()},
    )


def refund_facts(orders: list[Order]) -> dict[int, RefundFacts]:
    """Refund facts of several orders (a page of them) in three queries, whatever their number."""
    facts = {order.id: RefundFacts() for order in orders}
    paid = [o.id for o in orders if not _never_paid(o)]
    if not paid:
        return facts
    captured, outside = captured_and_outside(paid)
    for request in db.session.scalars(
        select(RefundRequest).where(RefundRequest.order_id.in_(paid)).order_by(RefundRequest.id)
    ):
        facts[request.order_id].requests.append(request)
    for order_id in paid:
        position = facts[order_id].position
        position.captured, position.outside = (
            captured.get(order_id, ZERO),
            outside.get(order_id, ZERO),
        )
        for request in facts[order_id].requests:
            if request.status in LIVE_REQUEST:
                position.claim(request.sub_order_id, request.amount)
    return facts


def check_fulfilment(sub: SubOrder, target: str) -> None:
    """A sub-order is processed or shipped only while money paid for it remains: once every cent
    of it has gone back (or is on its way back: a pending refund), whatever path refunded it, the
    seller may neither process nor ship it (409 order_refunded). A sub-order that cost nothing, or
    whose order nothing was refunded or asked back of, is never held back by money."""
    if target not in states.RESUMABLE or sub.total <= ZERO:
        return
    position = refund_position(sub.order)
    if position.left(sub) <= ZERO and (position.outside > ZERO or position.asked):
        raise Conflict(
            "the money paid for this sub-order has been refunded (or is being refunded): it cannot be "
            "processed or shipped",
            code=OrderError.ORDER_REFUNDED,
            details={"sub_order_id": sub.id, "status": sub.status, "refundable": str(ZERO)},
        )
