"""The seller's mails about its payouts: consumers of payout.skipped, payout.paid and
payout.failed (jobs/subscribers.py; once per event through app.events.bus.consume)."""

from __future__ import annotations

import logging

from app.extensions import db
from app.notifications import mail
from app.sellers.models import SellerProfile

log = logging.getLogger(__name__)

SKIP_TEXT = {
    "no_bank_account": "you have no verified default bank account in {currency}: add one (or "
    "ask us to verify yours) and the next payout run pays you",
    "below_minimum": "it is less than the minimum payout of {minimum} {currency}; it is paid "
    "once your available balance reaches it",
    "negative_balance": "refunds after your last payout left your {currency} balance negative; "
    "new sales make it up first",
    "seller_suspended": "your store is suspended; your balance is kept and paid once it is "
    "reinstated",
}


def _recipient(seller_id: int) -> tuple[SellerProfile, str] | None:
    profile = db.session.get(SellerProfile, seller_id)
    if profile is None:
        return None
    to = profile.contact_email or (profile.user.email if profile.user else None)
    if not to:
        log.warning("seller %s has no address for its payout mail", seller_id)
        return None
    return profile, to


def _send(event, kind: str, **extra) -> None:
    payload = event.payload
    found = _recipient(int(payload["seller_id"]))
    if found is None:
        return
    profile, to = found
    mail.send_mail(
        "payout_notice",
        to,
        {
            "kind": kind,
            "store_name": profile.store_name,
            "currency": payload["currency"],
            "amount": payload["amount"],
            "payout_id": payload.get("payout_id"),
            "reference": payload.get("reference"),
            "reason": payload.get("reason"),
            **extra,
        },
    )


def mail_skipped(event) -> None:
    """payout.skipped: why the seller's available money was not paid out."""
    payload = event.payload
    why = SKIP_TEXT.get(payload["reason"], payload["reason"]).format(
        currency=payload["currency"], minimum=payload.get("minimum") or ""
    )
    _send(event, "skipped", why=why)


def mail_paid(event) -> None:
    _send(event, "paid")


def mail_failed(event) -> None:
    _send(event, "failed")
