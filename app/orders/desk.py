"""The order desk: everything staff read on one order's admin page, in one read (`order_desk`).
The order as an admin sees it (app.orders.visibility.order_view: sub-orders with their lines, the
statuses each may move to, refund requests), and around it what the admin page names instead of
ids: the customer, the sellers, who did each step of the timeline, the payments and payment
refunds of the order. Admins only (a seller's whole-order money is app.orders.shares' business).
An order's shipments are app.shipments' (`order_tracking`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from app.core.db import transaction
from app.core.errors import PermissionDenied
from app.core.views import view_of
from app.customers.models import CustomerProfile
from app.extensions import db
from app.orders import states
from app.orders.models import Order, OrderEvent, SubOrder
from app.orders.visibility import OrderView, Viewer, find_order, order_view
from app.payments.charges import can_mark_received
from app.payments.models import Payment, Refund
from app.security.actor import Actor
from app.security.models import User
from app.sellers.models import SellerProfile


@dataclass(frozen=True)
class Person:
    """A user as the admin names it: its name (or username) and e-mail."""

    user_id: int
    name: str
    email: str


@dataclass(frozen=True)
class Customer(Person):
    """The order's customer; `profile_id`: its customer profile (the admin's customer page)."""

    profile_id: int | None


@dataclass(frozen=True)
class SellerName:
    id: int
    store_name: str


@dataclass(frozen=True)
class PaymentLine:
    """A payment of the order; `receivable`: a bank transfer or cash payment still waiting for the
    money (app.payments.charges.mark_received takes it)."""

    id: int
    method: str
    gateway: str
    status: str
    currency: str
    amount: Decimal
    amount_captured: Decimal
    amount_refunded: Decimal
    card_brand: str | None
    card_last4: str | None
    failure_message: str | None
    created_at: dt.datetime
    receivable: bool


@dataclass(frozen=True)
class RefundLine:
    """A payment refund of the order (money sent back through the payment's gateway)."""

    id: int
    payment_id: int
    gateway: str
    status: str
    currency: str
    amount: Decimal
    reason: str | None
    failure_code: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class TimelineStep:
    """A step of the timeline: a status change (of the order, or of one sub-order when
    `sub_order_number`), or a note (`is_note`: no status changed)."""

    id: int
    sub_order_number: str | None
    from_status: str | None
    to_status: str
    is_note: bool
    note: str | None
    by: str | None  # None: the system or a guest
    at: dt.datetime


@dataclass(frozen=True)
class OrderDesk:
    """One order as staff work on it. `moves`: per sub-order id, the statuses it may be moved to by
    hand now (the state machine's next statuses that are fulfilment steps); `cancellable`: whether
    some sub-order can still be cancelled."""

    order: OrderView
    tenant_id: int
    cancelled_at: dt.datetime | None
    customer: Customer | None
    sellers: dict[int, SellerName]
    moves: dict[int, tuple[str, ...]]
    cancellable: bool
    payments: tuple[PaymentLine, ...]
    refunds: tuple[RefundLine, ...]
    timeline: tuple[TimelineStep, ...]


def _name(user: User | None) -> str | None:
    if user is None:
        return None
    full = " ".join(part for part in (user.first_name, user.last_name) if part)
    return full or user.username


def _customer(order: Order) -> Customer | None:
    user = order.customer
    if user is None:
        return None
    profile_id = db.session.scalar(
        select(CustomerProfile.id).where(CustomerProfile.user_id == user.id)
    )
    return Customer(user_id=user.id, name=_name(user), email=user.email, profile_id=profile_id)


def _timeline(order: Order) -> tuple[TimelineStep, ...]:
    events = db.session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
    ).all()
    numbers = {sub.id: sub.number for sub in order.sub_orders}
    users = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.id.in_({e.actor_user_id for e in events if e.actor_user_id}))
        )
    }
    return tuple(
        TimelineStep(
            id=e.id,
            sub_order_number=numbers.get(e.sub_order_id),
            from_status=e.from_status,
            to_status=e.to_status,
            is_note=e.is_note,
            note=e.note,
            by=_name(users.get(e.actor_user_id)),
            at=e.created_at,
        )
        for e in events
    )


def order_desk(actor: Actor, order_id: int) -> OrderDesk:
    """The admin order page's read; 404 for an order the admin's tenant does not hold."""
    with transaction():
        viewer = Viewer(actor)
        if not viewer.is_admin:
            raise PermissionDenied("the order desk is for admins")
        order = find_order(viewer, order_id)
        view = order_view(order, viewer)
        seller_ids = {sub.seller_id for sub in view.sub_orders}
        sellers = {
            s.id: SellerName(id=s.id, store_name=s.store_name)
            for s in db.session.scalars(
                select(SellerProfile).where(SellerProfile.id.in_(seller_ids))
            )
        }
        payments = db.session.scalars(
            select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)
        ).all()
        gateways = {p.id: p.gateway for p in payments}
        refunds = db.session.scalars(
            select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)
        ).all()
        return OrderDesk(
            order=view,
            tenant_id=order.tenant_id,
            cancelled_at=order.cancelled_at,
            customer=_customer(order),
            sellers=sellers,
            moves={
                sub.id: tuple(t for t in sub.allowed_transitions if t in states.MANUAL_TARGETS)
                for sub in view.sub_orders
            },
            cancellable=any(sub.status in states.CANCELLABLE for sub in view.sub_orders),
            payments=tuple(
                view_of(PaymentLine, p, receivable=can_mark_received(p)) for p in payments
            ),
            refunds=tuple(
                view_of(RefundLine, r, gateway=gateways.get(r.payment_id, "")) for r in refunds
            ),
            timeline=_timeline(order),
        )


def order_tenant(order_id: int) -> int | None:
    """The tenant of an order (a Super Admin, reading across tenants, changes it there); None for
    no such order."""
    with transaction():
        return db.session.scalar(select(Order.tenant_id).where(Order.id == order_id))


def sub_order_in(order_id: int, sub_order_id: int | None) -> bool:
    """Whether the sub-order belongs to the order (a form of one order's page names one of its own)."""
    with transaction():
        found = db.session.scalar(
            select(SubOrder.id).where(SubOrder.id == sub_order_id, SubOrder.order_id == order_id)
        )
        return found is not None
