"""The state machine applied to sub-orders: every status change goes through `move()` (checked
against app.orders.states.TRANSITIONS; an illegal one is a 409 naming the allowed ones) or
`record()` (a return to the status before a refund request), written to the timeline
(order_events), the parent's status re-derived, and published as `order.status_changed` after
commit. Fulfilment steps (`set_status`) also check the money (app.orders.refundable) and move the
stock (app.orders.stock: held while pending/paid/processing, released on cancel, sold when
shipped); `follow_refunds` moves every open sub-order to refunded once the payments are."""

from __future__ import annotations

from sqlalchemy import select

from app.core.errors import Conflict
from app.core.types import utcnow
from app.events.bus import publish
from app.extensions import db
from app.orders import states
from app.orders.errors import OrderError
from app.orders.models import Order, OrderEvent, RefundRequest, RefundRequestStatus, SubOrder
from app.orders.refundable import ZERO, captured_and_outside, check_fulfilment
from app.orders.states import OrderStatus
from app.orders.stock import count_sold, holds_stock, release_or_sell


def illegal(current: str, target: str, allowed: list[str] | None = None) -> Conflict:
    return Conflict(
        f"an order cannot go from {current} to {target}",
        code=OrderError.ILLEGAL_TRANSITION,
        details={
            "status": current,
            "requested": target,
            "allowed": states.allowed(current) if allowed is None else allowed,
        },
    )


def fulfilment_stage(sub: SubOrder) -> OrderStatus | None:
    """Where the sub-order's fulfilment stands: the last fulfilment status (paid ... completed) its
    timeline moved it to; None if it never reached one. A partial refund does not undo fulfilment,
    so a partially refunded sub-order goes on from here (app.orders.states.RESUME)."""
    stage = db.session.scalar(
        select(OrderEvent.to_status)
        .where(
            OrderEvent.sub_order_id == sub.id,
            OrderEvent.to_status.in_(states.FULFILMENT),
            OrderEvent.from_status != OrderEvent.to_status,  # a note changes nothing
        )
        .order_by(OrderEvent.id.desc())
        .limit(1)
    )
    return OrderStatus(stage) if stage is not None else None


def allowed_targets(sub: SubOrder) -> list[str]:
    """The sub-order's next statuses; a partially refunded one goes on from its fulfilment stage
    (processing or shipped only while it still holds stock)."""
    if sub.status == OrderStatus.PARTIALLY_REFUNDED:
        return states.allowed(sub.status, stage=fulfilment_stage(sub), holds_stock=holds_stock(sub))
    return states.allowed(sub.status)


def move(sub: SubOrder, target: str, *, actor_id: int | None, note: str | None = None) -> None:
    """Move one sub-order (checked against the table), record it, re-derive the parent's status."""
    current = sub.status
    if not states.is_allowed(current, target):
        raise illegal(current, target)
    record(sub, target, actor_id=actor_id, note=note)


def record(sub: SubOrder, target: str, *, actor_id: int | None, note: str | None = None) -> None:
    current = sub.status
    sub.status = target
    order = sub.order
    db.session.add(
        OrderEvent(
            order_id=order.id,
            sub_order_id=sub.id,
            from_status=current,
            to_status=target,
            actor_user_id=actor_id,
            note=note,
        )
    )
    parent_before = order.status
    subs = list(order.sub_orders)
    order.status = states.derive_parent_status(
        [s.status for s in subs],
        {
            i: fulfilment_stage(s)
            for i, s in enumerate(subs)
            if s.status == OrderStatus.PARTIALLY_REFUNDED and len(subs) > 1
        },
    )
    if order.status != parent_before:
        db.session.add(
            OrderEvent(
                order_id=order.id,
                from_status=parent_before,
                to_status=order.status,
                actor_user_id=actor_id,
                note=note,
            )
        )
    publish(
        "order.status_changed",
        {
            "order_id": order.id,
            "sub_order_id": sub.id,
            "seller_id": sub.seller_id,
            "customer_user_id": order.customer_user_id,
            "from_status": current,
            "to_status": target,
            "order_status": order.status,
        },
        aggregate="order",
        aggregate_id=order.id,
    )


def check_transition(sub: SubOrder, target: str) -> None:
    """May `sub` take a fulfilment step to `target` now? The state machine (409 illegal_transition:
    a partially refunded sub-order goes on from its fulfilment stage, processing and shipping only
    while it holds stock), then the money
    (`check_fulfilment`: 409 order_refunded once what was paid for it has gone back). Shipments
    ask this before a label is made."""
    if not states.is_allowed(sub.status, target):
        raise illegal(sub.status, target, allowed_targets(sub))
    if sub.status == OrderStatus.PARTIALLY_REFUNDED:
        possible = allowed_targets(sub)
        if target not in possible:
            raise illegal(sub.status, target, possible)
    check_fulfilment(sub, target)


def set_status(
    sub: SubOrder, target: str, *, actor_id: int | None, note: str | None = None
) -> None:
    """A fulfilment step (processing, shipped, delivered, completed) inside the caller's transaction.
    Shipped: the units held become a sale. Delivered: `order.delivered` is published (after
    `order.status_changed`), which shipments consumes to mark the sub-order's shipments delivered
    (shipments sits above orders: a reaction, not a call)."""
    if target not in states.MANUAL_TARGETS:
        raise illegal(sub.status, target)
    check_transition(sub, target)
    move(sub, target, actor_id=actor_id, note=note)
    if target == OrderStatus.SHIPPED:
        release_or_sell(sub, release=False, actor_id=actor_id)
    elif target == OrderStatus.DELIVERED:  # its shipments follow (shipments consumes the event)
        publish(
            "order.delivered",
            {
                "order_id": sub.order_id,
                "sub_order_id": sub.id,
                "seller_id": sub.seller_id,
                "delivered_at": utcnow().isoformat(),
            },
            aggregate="order",
            aggregate_id=sub.order_id,
        )


def cancel_sub(sub: SubOrder, *, actor_id: int | None, note: str) -> None:
    was_sold = sub.status in (OrderStatus.PAID, OrderStatus.PROCESSING)
    move(sub, OrderStatus.CANCELLED, actor_id=actor_id, note=note)
    release_or_sell(sub, release=True, actor_id=actor_id)
    if was_sold:
        count_sold(sub, -1)


def follow_refunds(order: Order) -> None:
    """Inside the caller's transaction, the order row locked: when the order's payments have been
    refunded in full (its completed refunds, whatever made them, reach what was captured), every
    sub-order still open goes to refunded through the state machine: held stock is released (those
    units never ship) and a request still waiting for a decision is closed (there is no money left
    to pay it out). Sub-orders still pending (not yet marked paid: mark_paid calls this again),
    cancelled or already refunded are left alone. Idempotent."""
    if order.refunded_total <= ZERO:
        return
    captured, _ = captured_and_outside([order.id])
    paid = captured.get(order.id, ZERO)
    if paid <= ZERO or order.refunded_total < paid:
        return
    now = utcnow()
    for sub in order.sub_orders:
        if sub.status in (OrderStatus.PENDING, OrderStatus.CANCELLED, OrderStatus.REFUNDED):
            continue
        for request in db.session.scalars(
            select(RefundRequest)
            .where(
                RefundRequest.sub_order_id == sub.id,
                RefundRequest.status == RefundRequestStatus.REQUESTED,
            )
            .with_for_update()
        ):
            request.status, request.decided_at = RefundRequestStatus.CLOSED, now
        was_sold, held = sub.status in (OrderStatus.PAID, OrderStatus.PROCESSING), holds_stock(sub)
        move(
            sub,
            OrderStatus.REFUNDED,
            actor_id=None,
            note="the order's payment was refunded in full",
        )
        if held:
            release_or_sell(sub, release=True, actor_id=None)
        if was_sold:
            count_sold(sub, -1)
