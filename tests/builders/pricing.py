"""Builders of pricing test data: tax rules, shipping zones/methods and promotions made straight
through the models (committed), and pricing lines/requests."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from app.catalog.models import Category
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.pricing_contract import Destination, LineInput, PricingRequest
from app.promotions.models import Promotion
from app.shipping.models import ShippingMethod, ShippingRateBracket, ShippingZone
from app.tax.models import TaxRule, TaxSettings

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
FR = Destination(country="FR")
_keys = itertools.count(1)


class Builder:
    def __init__(self, app, tenant_id: int):
        self.app = app
        self.tenant_id = tenant_id

    def _add(self, obj):
        with self.app.app_context(), tenant_scope(self.tenant_id):
            db.session.add(obj)
            db.session.commit()
            return obj.id

    def category(self, name: str, parent_id: int | None = None) -> int:
        return self._add(
            Category(name=name, slug=f"{name.lower()}-{next(_keys)}", parent_id=parent_id)
        )

    def settings(self, prices_include_tax: bool) -> int:
        return self._add(TaxSettings(prices_include_tax=prices_include_tax))

    def tax(self, rate: str, country: str = "FR", name: str | None = None, **fields) -> int:
        return self._add(
            TaxRule(
                name=name or f"VAT {country} {rate}", country=country, rate=Decimal(rate), **fields
            )
        )

    def zone(self, areas: str = "FR", name: str = "Zone") -> int:
        return self._add(ShippingZone(name=name, areas=areas))

    def method(
        self,
        zone_id: int,
        name: str = "Standard",
        rate_type: str = "flat",
        flat_rate: str | None = None,
        brackets: tuple = (),
        free_over: str | None = None,
        **fields,
    ) -> int:
        method = ShippingMethod(
            zone_id=zone_id,
            name=name,
            rate_type=rate_type,
            flat_rate=Decimal(flat_rate) if flat_rate is not None else None,
            free_over=Decimal(free_over) if free_over is not None else None,
            **fields,
        )
        for low, high, rate in brackets:
            method.brackets.append(
                ShippingRateBracket(
                    min_value=Decimal(low),
                    max_value=Decimal(high) if high is not None else None,
                    rate=Decimal(rate),
                    tenant_id=self.tenant_id,
                )
            )
        return self._add(method)

    def promotion(self, kind: str, value: str = "0", name: str | None = None, **fields) -> int:
        for key in ("min_subtotal",):
            if fields.get(key) is not None:
                fields[key] = Decimal(fields[key])
        return self._add(Promotion(name=name or kind, kind=kind, value=Decimal(value), **fields))


def line(
    seller_id: int,
    price: str,
    quantity: int = 1,
    *,
    category_id: int | None = None,
    weight: str | None = None,
    product_id: int | None = None,
    key: str | None = None,
) -> LineInput:
    n = next(_keys)
    return LineInput(
        key=key or f"l{n}",
        variant_id=n,
        product_id=product_id or n,
        seller_id=seller_id,
        category_id=category_id,
        quantity=quantity,
        unit_price=Decimal(price),
        weight_kg=Decimal(weight) if weight is not None else None,
    )


def request_for(
    shop, *lines: LineInput, destination: Destination | None = FR, **fields
) -> PricingRequest:
    return PricingRequest(
        tenant_id=shop.tenant.id,
        currency="EUR",
        lines=tuple(lines),
        destination=destination,
        now=fields.pop("now", NOW),
        **fields,
    )
