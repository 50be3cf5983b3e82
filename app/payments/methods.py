"""The payment methods a tenant offers (its settings, else PAYMENT_METHODS; Stripe only with
credentials) and the checks of a method and its payment details before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.core.db import transaction
from app.core.errors import ValidationError
from app.extensions import db
from app.payments.gateway_calls import stripe_credentials
from app.payments.gateways import METHODS
from app.payments.gateways.base import luhn_ok
from app.payments.models import PaymentMethodSetting


def _configured_methods(rows: list[PaymentMethodSetting] | None = None) -> list[str]:
    if rows is None:
        rows = db.session.scalars(
            select(PaymentMethodSetting).order_by(PaymentMethodSetting.id)
        ).all()
    if rows:
        return [r.method for r in rows if r.enabled and r.method in METHODS]
    names = [
        m.strip() for m in current_app.config.get("PAYMENT_METHODS", "").split(",") if m.strip()
    ]
    return [m for m in names if m in METHODS]


@dataclass(frozen=True)
class PaymentMethod:
    """A payment method the tenant offers: its code, the gateway that runs it, and how the shop
    names and explains it (the tenant's own name and instructions when it set them)."""

    code: str
    gateway: str
    name: str
    description: str
    instructions: str | None


def enabled_methods() -> list[PaymentMethod]:
    """The current tenant's payment methods (Stripe only when it has credentials)."""
    with transaction():
        rows = db.session.scalars(
            select(PaymentMethodSetting).order_by(PaymentMethodSetting.id)
        ).all()
        settings = {r.method: r for r in rows}
        out = []
        for code in _configured_methods(rows):
            if code == "stripe_card" and not (
                stripe_credentials().get("stripe_secret_key")
                or current_app.config.get("STRIPE_SECRET_KEY")
            ):
                continue
            meta, setting = METHODS[code], settings.get(code)
            out.append(
                PaymentMethod(
                    code=code,
                    gateway=meta["gateway"],
                    name=setting.display_name if setting and setting.display_name else meta["name"],
                    description=meta["description"],
                    instructions=setting.instructions if setting else None,
                )
            )
        return out


def check_method(method: str) -> str:
    enabled = [m.code for m in enabled_methods()]
    if method not in METHODS or method not in enabled:
        raise ValidationError(
            "this payment method is not available here",
            details={"method": [f"one of: {', '.join(enabled)}"]},
        )
    return METHODS[method]["gateway"]


def check_details(gateway: str, details: dict[str, Any]) -> None:
    if gateway == "test":
        number = str(details.get("card_number") or "")
        if not luhn_ok(number):
            raise ValidationError(
                "invalid card",
                details={
                    "payment_details": {
                        "card_number": [
                            "a card number (12-19 digits, Luhn-valid); "
                            "see the test cards in GET /api/v1/payments/methods/"
                        ]
                    }
                },
            )
    if gateway == "stripe" and not details.get("payment_method"):
        raise ValidationError(
            "a Stripe PaymentMethod id is required",
            details={"payment_details": {"payment_method": ["required for stripe_card"]}},
        )
