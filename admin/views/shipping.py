"""Shipping admin (Admins): zones, methods (platform-wide or a seller's) and their rate brackets."""

from __future__ import annotations

from flask_appbuilder import AppBuilder

from admin.base import MarketModelView, datamodel
from app.shipping import services
from app.shipping.models import RATE_TYPES, ShippingMethod, ShippingRateBracket, ShippingZone


class ShippingRateBracketView(MarketModelView):
    datamodel = datamodel(ShippingRateBracket)
    route_base = "/admin/shipping-rates"
    list_title = "Shipping rates"
    item_title = "Shipping rate"
    list_columns = ["method", "min_value", "max_value", "rate"]
    add_columns = edit_columns = show_columns = ["method", "min_value", "max_value", "rate"]
    description_columns = {
        "min_value": "kg for weight-based methods, goods amount for price-based ones",
        "max_value": "exclusive; empty: no upper bound",
    }

    def before_save(self, item, is_new):
        services.prepare_bracket(item)


class ShippingMethodView(MarketModelView):
    datamodel = datamodel(ShippingMethod)
    route_base = "/admin/shipping-methods"
    list_title = "Shipping methods"
    item_title = "Shipping method"
    related_views = [ShippingRateBracketView]
    list_columns = [
        "name",
        "zone",
        "seller",
        "carrier_code",
        "rate_type",
        "flat_rate",
        "free_over",
        "is_active",
    ]
    search_columns = ["name", "zone", "seller", "carrier_code", "rate_type", "is_active"]
    add_columns = edit_columns = [
        "zone",
        "name",
        "seller",
        "carrier_code",
        "rate_type",
        "flat_rate",
        "free_over",
        "min_days",
        "max_days",
        "position",
        "is_active",
    ]
    show_columns = add_columns + ["created_at", "updated_at"]
    choices_columns = {"rate_type": RATE_TYPES}
    description_columns = {
        "seller": "Empty: offered to every seller that has no method of its own in this zone.",
        "rate_type": f"One of {', '.join(RATE_TYPES)}; weight and price methods take their rates from brackets.",
        "free_over": "The seller's goods amount (after discounts) from which shipping is free.",
        "carrier_code": "The carrier adapter that makes labels (manual: the built-in PDF label).",
    }
    optional_columns = ("position", "carrier_code", "rate_type")

    def before_save(self, item, is_new):
        item.carrier_code = item.carrier_code or "manual"
        item.rate_type = item.rate_type or "flat"
        item.position = item.position or 0
        services.prepare_method(item)


class ShippingZoneView(MarketModelView):
    datamodel = datamodel(ShippingZone)
    route_base = "/admin/shipping-zones"
    list_title = "Shipping zones"
    item_title = "Shipping zone"
    related_views = [ShippingMethodView]
    list_columns = ["name", "areas", "is_active"]
    search_columns = ["name", "areas", "is_active"]
    add_columns = edit_columns = ["name", "areas", "is_active"]
    show_columns = ["name", "areas", "is_active", "created_at", "updated_at"]
    description_columns = {"areas": "Comma-separated countries (FR) and regions (US-CA)."}

    def before_save(self, item, is_new):
        services.prepare_zone(item)


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(ShippingZoneView, "Shipping zones", icon="fa-globe", category="Pricing")
    appbuilder.add_view(ShippingMethodView, "Shipping methods", icon="fa-truck", category="Pricing")
    appbuilder.add_view(
        ShippingRateBracketView, "Shipping rates", icon="fa-table", category="Pricing"
    )
