"""Promotions admin: Admins manage every promotion of the tenant; a Seller sees and edits only its
own, which are always funded by it. Product, category and seller conditions are typed as
comma-separated ids. Usage counts are read-only (checkout consumes them)."""

from __future__ import annotations

from flask_appbuilder import AppBuilder
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from wtforms import StringField

from admin.base import MarketModelView, datamodel
from admin.references import ORDER, USER
from app.core.errors import ValidationError
from app.promotions import scopes, services
from app.promotions.models import FUNDERS, KINDS, Promotion, PromotionRedemption
from app.security import roles
from app.sellers.models import SellerProfile

ID_LISTS = {
    "product_ids_text": "product_ids",
    "category_ids_text": "category_ids",
    "seller_ids_text": "seller_ids",
}
_FORM = [
    "name",
    "description",
    "kind",
    "value",
    "buy_quantity",
    "get_quantity",
    "code",
    "min_subtotal",
    "product_ids_text",
    "category_ids_text",
    "seller_ids_text",
    "customer_role",
    "first_order_only",
    "starts_at",
    "ends_at",
    "usage_limit",
    "usage_limit_per_customer",
    "stackable",
    "priority",
    "funded_by",
    "seller",
    "is_active",
]


def _parse_ids(text: str | None, field: str) -> list[int]:
    items = [part.strip() for part in (text or "").split(",") if part.strip()]
    if not all(part.isdigit() and 0 < int(part) < 2**31 for part in items):
        raise ValidationError(
            f"invalid promotion: {field}: comma-separated ids", details={field: ["ids"]}
        )
    return sorted({int(part) for part in items})


class PromotionView(MarketModelView):
    datamodel = datamodel(Promotion)
    route_base = "/admin/promotions"
    list_title = "Promotions"
    list_columns = [
        "name",
        "kind",
        "value",
        "code",
        "funded_by",
        "seller",
        "is_active",
        "uses_count",
        "usage_limit",
        "starts_at",
        "ends_at",
    ]
    search_columns = [
        "name",
        "kind",
        "code",
        "funded_by",
        "seller",
        "is_active",
        "starts_at",
        "ends_at",
    ]
    show_columns = [
        "name",
        "description",
        "kind",
        "value",
        "buy_quantity",
        "get_quantity",
        "code",
        "min_subtotal",
        "product_ids",
        "category_ids",
        "seller_ids",
        "customer_role",
        "first_order_only",
        "starts_at",
        "ends_at",
        "usage_limit",
        "usage_limit_per_customer",
        "uses_count",
        "stackable",
        "priority",
        "funded_by",
        "seller",
        "is_active",
        "created_at",
        "updated_at",
    ]
    add_columns = edit_columns = _FORM
    choices_columns = {"kind": KINDS, "funded_by": FUNDERS}
    add_form_extra_fields = edit_form_extra_fields = {
        name: StringField(
            name.removesuffix("_text").replace("_", " ").capitalize(), widget=BS3TextFieldWidget()
        )
        for name in ID_LISTS
    }
    label_columns = {
        "product_ids_text": "Product ids",
        "category_ids_text": "Category ids",
        "seller_ids_text": "Seller ids",
    }
    description_columns = {
        "kind": f"One of {', '.join(KINDS)}.",
        "value": "percentage: percent off; fixed_amount: amount off; buy_x_get_y: percent off the free items "
        "(100 = free).",
        "code": "A coupon code (case-insensitive, unique in this storefront); empty: applied automatically.",
        "category_ids_text": "Comma-separated category ids; a category covers its descendants.",
        "funded_by": f"One of {', '.join(FUNDERS)}. A seller's promotions are always funded by it and discount "
        "only its lines.",
        "priority": "Higher first. Non-stackable promotions exclude the others.",
    }
    optional_columns = ("value", "funded_by", "priority", "uses_count")
    # a seller's promotions are always its own and funded by it (claim_for_seller)
    readonly_columns = {roles.SELLER: ("funded_by", "seller")}
    base_order = ("id", "desc")

    seller_scope = staticmethod(scopes.promotions_of_seller)
    related_scopes = {"seller": lambda sid: SellerProfile.id == sid}

    def prefill_form(self, form, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is not None:
            for field, column in ID_LISTS.items():
                getattr(form, field).data = ", ".join(map(str, getattr(item, column) or []))

    def claim_for_seller(self, item, seller_id, is_new):
        services.own_by_seller(item, seller_id)

    def owned_by_seller(self, item, seller_id):
        return scopes.owns_promotion(seller_id, item)

    def before_save(self, item, is_new):
        for field, column in ID_LISTS.items():
            if hasattr(item, field):
                setattr(item, column, _parse_ids(getattr(item, field), column))
        services.prepare_promotion(item)


class PromotionRedemptionView(MarketModelView):
    datamodel = datamodel(PromotionRedemption)
    route_base = "/admin/promotion-redemptions"
    list_title = "Promotion redemptions"
    base_permissions = ["can_list", "can_show"]
    list_columns = [
        "created_at",
        "promotion",
        "order_id",
        "code",
        "discount_total",
        "customer_user_id",
    ]
    search_columns = ["promotion", "order_id", "code", "created_at"]
    references = {"order_id": ORDER, "customer_user_id": USER}
    label_columns = {"order_id": "Order", "customer_user_id": "Customer"}
    base_order = ("id", "desc")
    seller_scope = staticmethod(scopes.redemptions_of_seller)
    # the list search's promotion select: a seller picks among its own promotions only
    related_scopes = {"promotion": scopes.promotions_of_seller}


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(
        PromotionView,
        "Promotions",
        icon="fa-percent",
        category="Pricing",
        category_icon="fa-calculator",
    )
    appbuilder.add_view(
        PromotionRedemptionView, "Promotion redemptions", icon="fa-ticket", category="Pricing"
    )
