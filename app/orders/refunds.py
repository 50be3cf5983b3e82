"""Refund requests: the customer (or a sub-order's seller) asks for money back, for a sub-order, an
amount of one, or units of its lines (`request_refund`); the seller or an admin decides
(`decide_refund`), and an approved request is paid out by payments (`refund_payment`), whose
refund events complete or fail it (app.orders.reactions). What may be asked is app.orders.refundable's
rule; an admin's retry of a failed payment refund goes through `retry_failed_refund`."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select, update

from app.core.db import transaction
from app.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from app.core.types import quantize_money, utcnow
from app.events.bus import dispatch_after_block, publish
from app.extensions import db
from app.orders import states
from app.orders.access import GuestAccess
from app.orders.errors import OrderError
from app.orders.inputs import RefundAsk
from app.orders.models import (
    Order,
    OrderLine,
    RefundRequest,
    RefundRequestLine,
    RefundRequestStatus,
    SubOrder,
)
from app.orders.refundable import LIVE_REQUEST, ZERO, RefundPosition, refund_position
from app.orders.states import OrderStatus
from app.orders.stock import return_units
from app.orders.transitions import illegal, move, record
from app.orders.visibility import OrderView, Viewer, find_order, order_view, subs_to_change
from app.payments import refunds as payment_refunds
from app.payments.errors import PaymentError
from app.payments.models import Payment
from app.security.actor import Actor


def request_refund(actor: Actor | GuestAccess, order_id: int, data: RefundAsk) -> OrderView:
    """The customer asks for a refund (or return) of a sub-order, of every paid sub-order, of an
    amount of one sub-order, or of units of order lines (`lines`: [{"line_id", "quantity"}], one
    request per sub-order they belong to); a seller may ask for one of its own sub-orders (an admin
    then decides). The order row is locked, so concurrent requests are counted one after the
    other: never more units than were ordered, never more money than was paid."""
    with transaction():
        viewer = Viewer(actor)
        if viewer.is_admin:
            raise PermissionDenied(
                "the customer or the sub-order's seller requests a refund; "
                "admins decide with request_id"
            )
        order = find_order(viewer, order_id, lock=True)
        subs = subs_to_change(viewer, order, data.sub_order_id)
        if data.lines:
            if data.amount is not None:
                raise ValidationError(
                    "give lines or an amount, not both", details={"amount": ["not with lines"]}
                )
            made = _request_lines(viewer, order, subs, data)
            db.session.flush()
            _announce_requests(order, made)
            return order_view(order, viewer)
        if data.amount is not None and len(subs) != 1:
            raise ValidationError(
                "an amount needs a sub_order_id", details={"sub_order_id": ["required with amount"]}
            )
        position = refund_position(order)
        made: list[RefundRequest] = []
        for sub in subs:
            refundable = _refundable(order, sub, position)
            amount = data.amount or refundable
            if amount > refundable:
                raise ValidationError(
                    "more than can be refunded",
                    details={"amount": [f"at most {refundable} for this sub-order"]},
                )
            sub.status_before_refund = sub.status
            move(sub, OrderStatus.REFUND_REQUESTED, actor_id=viewer.actor_id, note=data.reason)
            shipping = (
                ZERO
                if data.amount
                else min(_shipping_share(sub) - _shipping_committed(sub), amount)
            )
            made.append(
                RefundRequest(
                    order_id=order.id,
                    sub_order_id=sub.id,
                    requested_by_user_id=viewer.actor_id,
                    amount=amount,
                    reason=data.reason,
                    status=RefundRequestStatus.REQUESTED,
                    shipping_amount=max(shipping, ZERO),
                )
            )
            db.session.add(made[-1])
            position.claim(sub.id, amount)
        db.session.flush()
        _announce_requests(order, made)
        return order_view(order, viewer)


def _announce_requests(order: Order, made: list[RefundRequest]) -> None:
    """`refund.requested` for each new request (its seller, or the shop's admins, are told)."""
    sellers = {s.id: s.seller_id for s in order.sub_orders}
    for request in made:
        publish(
            "refund.requested",
            {
                "refund_request_id": request.id,
                "order_id": order.id,
                "sub_order_id": request.sub_order_id,
                "seller_id": sellers.get(request.sub_order_id),
                "customer_user_id": order.customer_user_id,
                "requested_by_user_id": request.requested_by_user_id,
                "amount": str(request.amount),
                "currency": order.currency,
            },
            aggregate="order",
            aggregate_id=order.id,
        )


def _refundable(order: Order, sub: SubOrder, position: RefundPosition) -> Decimal:
    """What `sub` may still be asked to refund (`RefundPosition.left`), or why nothing: 409
    nothing_to_refund once the money paid for it has gone back (or is going back), whatever path
    refunded it; 409 illegal_transition when its status takes no request (unpaid, cancelled, a
    request of it still open)."""
    left = position.left(sub)
    requestable = states.is_allowed(sub.status, OrderStatus.REFUND_REQUESTED)
    if sub.status == OrderStatus.REFUNDED or (requestable and left <= ZERO):
        raise Conflict(
            "nothing is left to refund on this sub-order: what was paid for it has been refunded "
            "or asked for",
            code=OrderError.NOTHING_TO_REFUND,
            details={"sub_order_id": sub.id, "status": sub.status, "refundable": str(left)},
        )
    if not requestable:
        raise illegal(sub.status, OrderStatus.REFUND_REQUESTED)
    return left


def _shipping_share(sub: SubOrder) -> Decimal:
    """What the buyer paid for the sub-order's shipping (with its tax when prices exclude tax)."""
    return sub.total - sum((line.total for line in sub.lines), ZERO)


def _shipping_committed(sub: SubOrder) -> Decimal:
    done = db.session.scalars(
        select(RefundRequest.shipping_amount).where(
            RefundRequest.sub_order_id == sub.id, RefundRequest.status.in_(LIVE_REQUEST)
        )
    ).all()
    return sum(done, ZERO)


def _line_committed(line_ids: list[int]) -> dict[int, tuple[int, Decimal]]:
    """Per order line: (units, money) asked for and not refused (neither rejected nor failed)."""
    rows = db.session.execute(
        select(
            RefundRequestLine.order_line_id,
            func.sum(RefundRequestLine.quantity),
            func.sum(RefundRequestLine.amount),
        )
        .join(RefundRequest, RefundRequest.id == RefundRequestLine.refund_request_id)
        .where(
            RefundRequestLine.order_line_id.in_(line_ids), RefundRequest.status.in_(LIVE_REQUEST)
        )
        .group_by(RefundRequestLine.order_line_id)
    ).all()
    return {line_id: (int(units or 0), Decimal(amount or 0)) for line_id, units, amount in rows}


def line_refund_amount(
    line: OrderLine, units_before: int, amount_before: Decimal, units: int
) -> Decimal:
    """The paid share of `units` more units of a line (its price, less its discounts, plus its tax):
    the line's total pro rata, rounded half-up on the running total so that refunding every unit,
    in any steps, gives back exactly the line's total and never more."""
    if units_before + units >= line.quantity:
        return line.total - amount_before
    share = quantize_money(line.total * (units_before + units) / line.quantity) - amount_before
    return max(share, ZERO)


def _request_lines(
    viewer: Viewer, order: Order, subs: list[SubOrder], data: RefundAsk
) -> list[RefundRequest]:
    by_line = {line.id: (sub, line) for sub in subs for line in sub.lines}
    wanted: dict[int, int] = {}
    for position, entry in enumerate(data.lines):
        if entry.line_id not in by_line:
            raise NotFound(
                "no such line in this order",
                details={"lines": {position: {"line_id": [entry.line_id]}}},
            )
        wanted[entry.line_id] = wanted.get(entry.line_id, 0) + entry.quantity
    committed = _line_committed(sorted(wanted))
    per_sub: dict[int, list[tuple[OrderLine, int, Decimal]]] = {}
    for line_id, units in wanted.items():
        sub, line = by_line[line_id]
        before_units, before_amount = committed.get(line_id, (0, ZERO))
        left = line.quantity - before_units
        if units > left:
            raise ValidationError(
                "more units than can be returned",
                details={"lines": {str(line_id): [f"at most {left} of {line.quantity} units"]}},
            )
        per_sub.setdefault(sub.id, []).append(
            (line, units, line_refund_amount(line, before_units, before_amount, units))
        )
    position = refund_position(order)
    made: list[RefundRequest] = []
    for sub in subs:
        if sub.id not in per_sub:
            continue
        captured_left = _refundable(order, sub, position)
        chosen = per_sub[sub.id]
        amount = sum((a for _, _, a in chosen), ZERO)
        # shipping goes back once: asked for, or with the last units of the sub-order
        asked = {line.id: units for line, units, _ in chosen}
        all_back = all(
            committed.get(line.id, (0, ZERO))[0] + asked.get(line.id, 0) >= line.quantity
            for line in sub.lines
        )
        shipping = ZERO
        if data.include_shipping or all_back:
            shipping = max(_shipping_share(sub) - _shipping_committed(sub), ZERO)
        amount += shipping
        if amount > captured_left:  # guards rounding, amount-only requests and refunds made before
            amount = captured_left
            shipping = min(shipping, amount)
        if amount <= ZERO:
            raise Conflict(
                "nothing is left to refund for these units",
                code=OrderError.NOTHING_TO_REFUND,
                details={"sub_order_id": sub.id},
            )
        position.claim(sub.id, amount)
        sub.status_before_refund = sub.status
        move(sub, OrderStatus.REFUND_REQUESTED, actor_id=viewer.actor_id, note=data.reason)
        made.append(
            RefundRequest(
                order_id=order.id,
                sub_order_id=sub.id,
                requested_by_user_id=viewer.actor_id,
                amount=amount,
                reason=data.reason,
                status=RefundRequestStatus.REQUESTED,
                shipping_amount=shipping,
                lines=[
                    RefundRequestLine(order_line_id=line.id, quantity=units, amount=line_amount)
                    for line, units, line_amount in chosen
                ],
            )
        )
        db.session.add(made[-1])
    return made


def completed_refunds(sub: SubOrder) -> Decimal:
    done = db.session.scalars(
        select(RefundRequest.amount).where(
            RefundRequest.sub_order_id == sub.id,
            RefundRequest.status == RefundRequestStatus.COMPLETED,
        )
    ).all()
    return sum(done, ZERO)


def decide_refund(
    actor: Actor | GuestAccess,
    order_id: int,
    request_id: int,
    approve: bool,
    note: str | None = None,
    restock: bool = False,
) -> OrderView:
    """The sub-order's seller or an admin approves (payments then refunds) or rejects (the
    sub-order returns to where it was); a request the seller made itself is for an admin.
    Approving a return of units still held (not shipped) releases them; with `restock`, shipped
    units go back on hand in the stock rows they were sold from (a `return` stock movement each).
    When the gateway refuses the refund at once, the request ends "failed" (`on_refund_failed`) and
    this answers 409 refund_failed; one the gateway settles later fails the same way by webhook."""
    with transaction():
        viewer = Viewer(actor)
        if viewer.is_customer:
            raise PermissionDenied("the seller or an admin decides on refunds")
        order = find_order(viewer, order_id, lock=True)
        sub_ids = {s.id for s in viewer.subs(order)}
        refund = db.session.scalar(
            select(RefundRequest)
            .where(RefundRequest.id == request_id, RefundRequest.order_id == order.id)
            .with_for_update()
        )
        if refund is None or refund.sub_order_id not in sub_ids:
            raise NotFound("no such refund request", details={"request_id": request_id})
        if refund.status != RefundRequestStatus.REQUESTED:
            raise Conflict(
                "this refund request was decided already",
                code=OrderError.REFUND_DECIDED,
                details={"status": refund.status},
            )
        if viewer.seller_id is not None and refund.requested_by_user_id == viewer.actor_id:
            raise PermissionDenied("an admin decides on a refund its seller requested")
        refund.decided_by_user_id = viewer.actor_id
        refund.decided_at = utcnow()
        sub = next(s for s in order.sub_orders if s.id == refund.sub_order_id)
        if approve:
            refund.status = RefundRequestStatus.APPROVED
            refund.restock = bool(restock)
            if refund.lines:
                return_units(sub, refund, restock=bool(restock), actor_id=viewer.actor_id)
        else:
            refund.status = RefundRequestStatus.REJECTED
            record(
                sub,
                sub.status_before_refund or OrderStatus.PAID,
                actor_id=viewer.actor_id,
                note=note or "refund rejected",
            )
        refund_id, amount = refund.id, refund.amount
        publish(
            "refund.decided",
            {
                "refund_request_id": refund.id,
                "order_id": order.id,
                "sub_order_id": refund.sub_order_id,
                "seller_id": sub.seller_id,
                "customer_user_id": order.customer_user_id,
                "approved": bool(approve),
                "decided_by_user_id": viewer.actor_id,
                "amount": str(refund.amount),
                "currency": order.currency,
                "note": (note or "")[:500],
            },
            aggregate="order",
            aggregate_id=order.id,
        )
    if approve:
        try:
            refund_payment(order_id, refund_id, amount, note)
        except DomainError as exc:
            fail_unstarted_refund(order_id, refund_id, exc.code)
            raise
        with transaction():
            failed = db.session.scalar(
                select(RefundRequest.failure_code).where(
                    RefundRequest.id == refund_id,
                    RefundRequest.status == RefundRequestStatus.FAILED,
                )
            )
        if failed is not None:  # refused at once: the request is failed (on_refund_failed), say so
            raise Conflict(
                "the payment refund was refused; the refund request failed and its units and money "
                "can be asked for again",
                code=OrderError.REFUND_FAILED,
                details={"request_id": refund_id, "failure_code": failed},
            )
    with transaction():
        return order_view(find_order(viewer, order_id), viewer)


def retry_failed_refund(refund_id: int, *, user_id: int | None = None):
    """Admin ("Retry refund" at /admin/refunds): pay out again a payment refund the gateway refused,
    through payments' `retry_refund` (what remains to refund, one retry per failed refund, 409
    refund_not_failed / refund_already_retried). A refund that paid out a refund request is
    refused there (409 refund_has_request: a new refund request pays that money out); which
    request it answered is orders' to know, so it is read here and handed down."""
    with transaction():
        request_id = db.session.scalar(
            select(RefundRequest.id).where(RefundRequest.payment_refund_id == refund_id).limit(1)
        )
    return payment_refunds.retry_refund(refund_id, answered_request_id=request_id, user_id=user_id)


def refund_payment(
    order_id: int, refund_request_id: int, amount: Decimal, note: str | None
) -> None:
    """After the commit: payments refunds the amount from the order's captured payment (it never
    refunds more than was captured); its `refund.completed` event completes the request, its
    `refund.failed` event fails it (`on_refund_failed`).

    The request is linked to the payment refund (`payment_refund_id`) in the very transaction that
    writes the refund row, before the gateway is called (payments.refund's `on_created`), so every
    outcome of that refund (the gateway's answer, a webhook that overtakes it) finds exactly its
    request by the refund's id, and a refund that answers no request (an API refund, a cancelled
    order's, an admin's retry) can never be taken for one."""
    with transaction():
        candidates = db.session.scalars(
            select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
        ).all()
        payment_id = next((p.id for p in candidates if p.refundable >= amount), None)
    if payment_id is None:
        raise Conflict(
            "no captured payment of this order covers the refund",
            code=PaymentError.REFUND_EXCEEDS_CAPTURED,
            details={"amount": str(amount)},
        )

    def link(refund_id: int) -> None:
        db.session.execute(
            update(RefundRequest)
            .where(RefundRequest.id == refund_request_id, RefundRequest.payment_refund_id.is_(None))
            .values(payment_refund_id=refund_id)
            .execution_options(synchronize_session=False)
        )

    with dispatch_after_block():  # the events of the refund's two commits leave in one batch
        payment_refunds.refund(
            payment_id,
            amount,
            note or "refund approved",
            idempotency_key=f"refund-request-{refund_request_id}",
            on_created=link,
        )


def request_answered_by(order: Order, refund_id: int | None) -> RefundRequest | None:
    """The approved request of the order that payment refund `refund_id` pays out: the one linked to
    it (linked when the refund row was written, before any outcome of it existed). A refund no
    request is linked to (an API refund, a cancelled order's, an admin's retry) answers none."""
    if refund_id is None:
        return None
    return db.session.scalar(
        select(RefundRequest)
        .where(
            RefundRequest.order_id == order.id,
            RefundRequest.status == RefundRequestStatus.APPROVED,
            RefundRequest.payment_refund_id == int(refund_id),
        )
        .with_for_update()
    )


def fail_request(order: Order, request: RefundRequest, code: str | None) -> None:
    """`request` (approved, locked) ends failed; its sub-order goes back (on_refund_failed)."""
    code = (code or "refund_failed")[:64]
    request.status, request.failure_code = RefundRequestStatus.FAILED, code
    sub = next(s for s in order.sub_orders if s.id == request.sub_order_id)
    if sub.status == OrderStatus.REFUND_REQUESTED:
        record(
            sub,
            sub.status_before_refund or OrderStatus.PAID,
            actor_id=None,
            note=f"refund of {request.amount} failed ({code})",
        )


def fail_unstarted_refund(order_id: int, request_id: int, code: str) -> None:
    """The approval committed, then payments refused to even start the refund (no captured payment
    of the order covers it any more, the payment is not refundable, another refund of it is in
    progress): no refund event will ever answer the request, so it fails now with that error's
    code, exactly as a refused refund does (`on_refund_failed`), instead of staying "approved"
    with nothing paid out and no way to ask again. A request a refund event answered meanwhile
    (the gateway refused after the refund was made) is left as that event left it."""
    with transaction():
        order = db.session.scalar(
            select(Order)
            .where(Order.id == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        request = db.session.scalar(
            select(RefundRequest)
            .where(
                RefundRequest.id == request_id,
                RefundRequest.status == RefundRequestStatus.APPROVED,
                RefundRequest.payment_refund_id.is_(None),
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if order is not None and request is not None:
            fail_request(order, request, code)
