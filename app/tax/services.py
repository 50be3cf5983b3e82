"""Checks of tax rules and settings edited in the admin (the only place they are written)."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from app.core.errors import ValidationError
from app.extensions import db
from app.tax.models import TaxRule, TaxSettings

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_REGION = re.compile(r"^[A-Z0-9]{1,3}$")


def _raise(errors: dict[str, list[str]], what: str) -> None:
    if errors:
        text = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in errors.items())
        raise ValidationError(f"invalid {what}: {text}", details=errors)


def prepare_tax_rule(rule: TaxRule) -> None:
    rule.country = (rule.country or "").strip().upper()
    rule.region = (rule.region or "").strip().upper() or None
    errors: dict[str, list[str]] = {}
    if not _COUNTRY.match(rule.country):
        errors["country"] = ["an ISO 3166-1 alpha-2 code such as FR"]
    if rule.region is not None and not _REGION.match(rule.region):
        errors["region"] = ["a region code such as CA (the part after the dash of ISO 3166-2)"]
    if rule.rate is None or not Decimal("0") <= Decimal(rule.rate) < 1:
        errors["rate"] = ["a fraction from 0 to below 1 (0.2000 for 20 %)"]
    if rule.priority is None:
        rule.priority = 0
    _raise(errors, "tax rule")


def prepare_tax_settings(settings: TaxSettings) -> None:
    other = db.session.scalar(
        select(TaxSettings.id).where(TaxSettings.id != settings.id)
        if settings.id
        else select(TaxSettings.id)
    )
    if other is not None:
        _raise(
            {"prices_include_tax": ["this storefront has its tax settings already: edit them"]},
            "tax settings",
        )
