"""Whose payment it is: a customer's own payments, a guest's (by the token it checked out with,
stored hashed), every payment of the tenant for staff; another's answers 404. And the history of
transactions each may read."""

from __future__ import annotations

import hashlib

from sqlalchemy import false, select

from app.core.db import transaction
from app.core.errors import NotFound
from app.core.paging import Page, paginate
from app.extensions import db
from app.payments.models import Payment, PaymentTransaction
from app.security import roles

STAFF_ROLES = frozenset({roles.ADMIN, roles.SUPER_ADMIN})


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_staff(user) -> bool:
    return user is not None and bool(user.role_names & STAFF_ROLES)


def visible_payment(payment_id: int, user, guest_token: str | None) -> Payment:
    """The caller's payment (admins: any of the tenant's); another's answers 404."""
    payment = db.session.scalar(select(Payment).where(Payment.id == payment_id))
    if payment is not None:
        if is_staff(user):
            return payment
        if user is not None and payment.customer_user_id == user.id:
            return payment
        if user is None and guest_token and payment.guest_token_hash == hash_token(guest_token):
            return payment
    raise NotFound("no such payment", details={"payment_id": payment_id})


def latest_payment_of(order_id: int, user, guest_token: str | None) -> Payment | None:
    """The caller's latest payment of `order_id` (a customer's, or the guest's whose token made it);
    None when it has none. Orders pays an order by its id with it (app.orders.pay_later.pay_order)."""
    stmt = select(Payment).where(Payment.order_id == order_id).order_by(Payment.id.desc()).limit(1)
    if user is not None:
        stmt = stmt.where(Payment.customer_user_id == user.id)
    elif guest_token:
        stmt = stmt.where(Payment.guest_token_hash == hash_token(guest_token))
    else:
        stmt = stmt.where(false())
    return db.session.scalar(stmt)


def list_transactions(
    user, *, payment_id: int | None, order_id: int | None, page: int, page_size: int
) -> Page[PaymentTransaction]:
    """Staff: every transaction of the tenant; a customer: those of their own payments."""
    with transaction():
        stmt = select(PaymentTransaction)
        if payment_id is not None:
            visible_payment(payment_id, user, None)
            stmt = stmt.where(PaymentTransaction.payment_id == payment_id)
        if order_id is not None:
            stmt = stmt.where(PaymentTransaction.order_id == order_id)
        if not is_staff(user):
            stmt = stmt.where(PaymentTransaction.customer_user_id == user.id)
        return paginate(stmt.order_by(PaymentTransaction.id.desc()), page, page_size)
