"""Tax admin (Admins): rules by country/region with category overrides, and the storefront's
prices-include-tax setting. Rule selection and rounding are documented in app.tax."""

from __future__ import annotations

from flask_appbuilder import AppBuilder

from admin.base import MarketModelView, datamodel
from app.tax import services
from app.tax.models import TaxRule, TaxSettings


class TaxRuleView(MarketModelView):
    datamodel = datamodel(TaxRule)
    route_base = "/admin/tax-rules"
    list_title = "Tax rules"
    item_title = "Tax rule"
    list_columns = ["name", "country", "region", "category", "rate", "priority", "is_active"]
    search_columns = ["name", "country", "region", "category", "is_active"]
    add_columns = edit_columns = [
        "name",
        "country",
        "region",
        "category",
        "rate",
        "priority",
        "is_active",
    ]
    show_columns = add_columns + ["created_at", "updated_at"]
    description_columns = {
        "region": "Empty: the whole country. Otherwise the part after the dash of ISO 3166-2 (CA for US-CA).",
        "category": "Empty: the standard rate. A category (and its descendants) gets this rate instead.",
        "rate": "A fraction: 0.2000 for 20 %.",
        "priority": "Among matching rules, only the highest priority applies; equal priorities add up.",
    }
    optional_columns = ("priority",)
    base_order = ("country", "asc")

    def before_save(self, item, is_new):
        services.prepare_tax_rule(item)


class TaxSettingsView(MarketModelView):
    datamodel = datamodel(TaxSettings)
    route_base = "/admin/tax-settings"
    list_title = "Tax settings"
    item_title = "Tax settings"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    list_columns = add_columns = edit_columns = ["prices_include_tax"]
    show_columns = ["prices_include_tax", "created_at", "updated_at"]
    description_columns = {
        "prices_include_tax": "Ticked: catalog prices and shipping rates include tax."
    }

    def before_save(self, item, is_new):
        services.prepare_tax_settings(item)


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(TaxRuleView, "Tax rules", icon="fa-university", category="Pricing")
    appbuilder.add_view(TaxSettingsView, "Tax settings", icon="fa-cog", category="Pricing")
