"""Staff alerts about an order's money: a payment refund the gateway refused (at once, or later by
its webhook) means a customer is still owed money that did not go back. The refund request (if
any) is already failed by `reactions.on_refund_failed`; this tells the tenant's admins by e-mail,
in its own job (a mail that cannot be sent never undoes the bookkeeping, and is retried alone).
The refund of a cancelled order has no request at all, so this mail is the only sign of it
besides the Refunds page in the admin."""

from __future__ import annotations

import logging

from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select

from app.extensions import db
from app.notifications import mail
from app.orders.models import Order
from app.security import roles
from app.security.models import User

log = logging.getLogger(__name__)


def tenant_admin_emails() -> list[str]:
    """The e-mail addresses of the current tenant's active admins (the tenant rule scopes users)."""
    return list(
        db.session.scalars(
            select(User.email)
            .join(User.roles)
            .where(Role.name == roles.ADMIN, User.active.is_(True), User.email.is_not(None))
            .order_by(User.id)
        )
    )


def mail_admins_refund_failed(event) -> None:
    payload = event.payload
    order = db.session.get(Order, int(payload["order_id"]))
    if order is None:
        return
    context = {
        "order_number": order.number,
        "order_status": order.status,
        "amount": payload.get("amount"),
        "currency": payload.get("currency"),
        "failure_code": payload.get("failure_code") or "refund_failed",
        "refund_id": payload.get("refund_id"),
        "payment_id": payload.get("payment_id"),
    }
    recipients = tenant_admin_emails()
    if not recipients:
        log.warning(
            "refund %s of order %s failed and the tenant has no admin to tell",
            context["refund_id"],
            order.number,
        )
    for address in recipients:
        mail.send_mail("refund_failed", address, context)
