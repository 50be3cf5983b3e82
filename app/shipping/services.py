"""Shipping operations: the methods serving a destination (storefront), and the checks of the
zones, methods and brackets edited in the admin. Costs follow `app.shipping.quotes`; the quotes of
a basket are priced above shipping, by `app.pricing.services.calculate_shipping`."""

from __future__ import annotations

import re

from app.core.errors import NotFound, ValidationError
from app.pricing_contract import Destination
from app.shipping import carriers, quotes
from app.shipping.models import RATE_TYPES, ShippingMethod, ShippingRateBracket, ShippingZone


def list_methods(
    *, country: str, region: str | None = None, seller_id: int | None = None
) -> list[quotes.Method]:
    """Active methods serving the destination: platform-wide ones and sellers' own (only those of
    `seller_id`, with the platform ones when that seller has none there, when it is given)."""
    methods = quotes.load_methods(
        Destination(country=country.upper(), region=(region or "").upper() or None)
    )
    if seller_id is not None:
        own = [m for m in methods if m.seller_id == seller_id]
        methods = own or [m for m in methods if m.seller_id is None]
    return methods


# --- checks of what the admin edits ---------------------------------------------------------------

_AREA = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


def _raise(errors: dict[str, list[str]], what: str) -> None:
    if errors:
        text = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in errors.items())
        raise ValidationError(f"invalid {what}: {text}", details=errors)


def prepare_zone(zone: ShippingZone) -> None:
    items = [
        raw.strip().upper()
        for raw in (zone.areas or "").replace(";", ",").replace("\n", ",").split(",")
        if raw.strip()
    ]
    bad = [item for item in items if not _AREA.match(item)]
    errors = {}
    if not items:
        errors["areas"] = ["at least one country (FR) or region (US-CA)"]
    elif bad:
        errors["areas"] = [f"not a country or region code: {', '.join(bad)}"]
    _raise(errors, "shipping zone")
    zone.areas = ", ".join(dict.fromkeys(items))


def prepare_method(method: ShippingMethod) -> None:
    errors: dict[str, list[str]] = {}
    if method.rate_type not in RATE_TYPES:
        errors["rate_type"] = [f"one of {', '.join(RATE_TYPES)}"]
    if method.rate_type == "flat" and method.flat_rate is None:
        errors["flat_rate"] = ["a flat-rate method needs its rate"]
    for name in ("flat_rate", "free_over"):
        if getattr(method, name) is not None and getattr(method, name) < 0:
            errors.setdefault(name, []).append("must not be negative")
    try:
        carriers.get(method.carrier_code or "")
    except NotFound:
        errors["carrier_code"] = [f"one of {', '.join(carriers.codes())}"]
    if (
        method.min_days is not None
        and method.max_days is not None
        and method.max_days < method.min_days
    ):
        errors["max_days"] = ["must not be below min_days"]
    _raise(errors, "shipping method")


def prepare_bracket(bracket: ShippingRateBracket) -> None:
    errors: dict[str, list[str]] = {}
    if bracket.min_value is None or bracket.min_value < 0:
        errors["min_value"] = ["zero or more"]
    elif bracket.max_value is not None and bracket.max_value <= bracket.min_value:
        errors["max_value"] = ["above min_value, or empty for no upper bound"]
    if bracket.rate is None or bracket.rate < 0:
        errors["rate"] = ["zero or more"]
    _raise(errors, "rate bracket")
