"""Whose payment it is: a customer's own payments, a guest's (by the token it checked out with,
stored hashed), every payment of the tenant for staff; another's answers 404. And the history of
transactions each may read."""

from __future__ import annotations

from sqlalchemy import false, select

from app.core.crypto import hash_token
from app.core.db import transaction
from app.core.errors import NotFound
from app.core.paging import Page, paginate
from app.extensions import db
from app.payments.models import Payment, PaymentTransaction
from app.security.actor import Actor


def visible_payment(payment_id: int, actor: Actor | None, guest_token: str | None) -> Payment:
    """The caller's payment (admins: any of the tenant's); another's answers 404."""
    payment = db.session.scalar(select(Payment).where(Payment.id == payment_id))
    if payment is not None:
        if actor is not None and actor.is_admin:
            return payment
        if actor is not None and payment.customer_user_id == actor.user_id:
            return payment
        if actor is None and guest_token and payment.guest_token_hash == hash_token(guest_token):
            return payment
    raise NotFound("no such payment", details={"payment_id": payment_id})


def latest_payment_of(
    order_id: int, actor: Actor | None, guest_token: str | None
) -> Payment | None:
    """The caller's latest payment of `order_id` (a customer's, or the guest's whose token made it);
    None when it has none. Orders pays an order by its id with it (app.orders.pay_later.pay_order)."""
    stmt = select(Payment).where(Payment.order_id == order_id).order_by(Payment.id.desc()).limit(1)
    if actor is not None:
        stmt = stmt.where(Payment.customer_user_id == actor.user_id)
    elif guest_token:
        stmt = stmt.where(Payment.guest_token_hash == hash_token(guest_token))
    else:
        stmt = stmt.where(false())
    return db.session.scalar(stmt)


def list_transactions(
    actor: Actor, *, payment_id: int | None, order_id: int | None, page: int, page_size: int
) -> Page[PaymentTransaction]:
    """Staff: every transaction of the tenant; a customer: those of their own payments."""
    with transaction():
        stmt = select(PaymentTransaction)
        if payment_id is not None:
            visible_payment(payment_id, actor, None)
            stmt = stmt.where(PaymentTransaction.payment_id == payment_id)
        if order_id is not None:
            stmt = stmt.where(PaymentTransaction.order_id == order_id)
        if actor is None or not actor.is_admin:
            stmt = stmt.where(PaymentTransaction.customer_user_id == actor.user_id)
        return paginate(stmt.order_by(PaymentTransaction.id.desc()), page, page_size)
