"""Customers as the admin's customer pages show them: how many orders each customer of one list
page placed and what they spent (`totals`, one query for the page), and a customer's recent orders
(`recent_orders`). Admins only: the admin's customer pages are not a seller's (admin/roles.py).

Spent: the totals of the customer's orders that were paid (payment captured, even if refunded
since), less what was refunded of them, per currency: a shop selling in several currencies does
not add euros to dollars. Orders: every order placed, whatever its status."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, select

from app.core.errors import PermissionDenied
from app.extensions import db
from app.orders.models import Order, OrderPaymentStatus
from app.security.actor import Actor

# an order whose money was received: its total counts as spent, less its refunds
PAID = (
    OrderPaymentStatus.CAPTURED,
    OrderPaymentStatus.PARTIALLY_REFUNDED,
    OrderPaymentStatus.REFUNDED,
)
RECENT = 10


def _admins_only(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only staff of the shop read its customers' orders")


@dataclass(frozen=True, slots=True)
class Spent:
    currency: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class CustomerTotals:
    orders: int = 0
    spent: tuple[Spent, ...] = ()  # per currency, largest first; none when nothing was paid


def totals(actor: Actor, user_ids: Iterable[int]) -> dict[int, CustomerTotals]:
    """user id -> its orders' count and spending (CustomerTotals), for one page of customers:
    one grouped query keyed by the page's user ids. A user with no order is absent."""
    _admins_only(actor)
    ids = sorted({i for i in user_ids if isinstance(i, int)})
    if not ids:
        return {}
    paid = Order.payment_status.in_([str(s) for s in PAID])
    rows = db.session.execute(
        select(
            Order.customer_user_id,
            Order.currency,
            func.count(Order.id),
            func.sum(case((paid, Order.total - Order.refunded_total), else_=0)),
            func.sum(case((paid, 1), else_=0)),
        )
        .where(Order.customer_user_id.in_(ids))
        .group_by(Order.customer_user_id, Order.currency)
    ).all()
    count: dict[int, int] = defaultdict(int)
    spent: dict[int, list[Spent]] = defaultdict(list)
    for user_id, currency, orders, amount, paid_orders in rows:
        count[user_id] += int(orders)
        if paid_orders:
            spent[user_id].append(Spent(currency, Decimal(amount or 0)))
    return {
        user_id: CustomerTotals(
            orders=count[user_id],
            spent=tuple(sorted(spent[user_id], key=lambda s: (-s.amount, s.currency))),
        )
        for user_id in count
    }


@dataclass(frozen=True, slots=True)
class RecentOrder:
    id: int
    number: str
    status: str
    payment_status: str
    currency: str
    total: Decimal
    refunded_total: Decimal
    created_at: dt.datetime


def recent_orders(actor: Actor, user_id: int, limit: int = RECENT) -> tuple[RecentOrder, ...]:
    """The customer's latest orders, newest first (the index on tenant, customer, id serves it)."""
    _admins_only(actor)
    rows = db.session.execute(
        select(
            Order.id,
            Order.number,
            Order.status,
            Order.payment_status,
            Order.currency,
            Order.total,
            Order.refunded_total,
            Order.created_at,
        )
        .where(Order.customer_user_id == user_id)
        .order_by(Order.id.desc())
        .limit(limit)
    ).all()
    return tuple(RecentOrder(*row) for row in rows)
