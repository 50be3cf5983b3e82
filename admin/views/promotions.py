"""Promotions admin: Admins manage every promotion of the tenant; a Seller sees and edits only its
own, which are always funded by it. Product, category and seller conditions are
chosen by name in search-as-you-type multi-selects (a seller picks among its own products and
itself) and shown by name. Usage counts are read-only (checkout consumes them)."""

from __future__ import annotations

from flask_appbuilder import AppBuilder

from admin.base import MarketModelView, datamodel
from admin.references import CATEGORY, ORDER, PRODUCT, SELLER, USER
from app.catalog import scopes as catalog_scopes
from app.promotions import scopes, services
from app.promotions.models import FUNDERS, KINDS, Promotion, PromotionRedemption
from app.security import roles
from app.sellers.models import SellerProfile

_FORM = [
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
    "stackable",
    "priority",
    "funded_by",
    "seller",
    "is_active",
]


class PromotionView(MarketModelView):
    datamodel = datamodel(Promotion)
    route_base = "/admin/promotions"
    list_title = "Promotions"
    item_title = "Promotion"
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
    # conditions on products, categories and sellers: chosen and shown by name
    ajax_id_lists = {"product_ids": PRODUCT, "category_ids": CATEGORY, "seller_ids": SELLER}
    id_list_scopes = {
        "product_ids": catalog_scopes.products_of_seller,
        "seller_ids": lambda sid: SellerProfile.id == sid,
    }
    label_columns = {
        "product_ids": "Products",
        "category_ids": "Categories",
        "seller_ids": "Sellers",
    }
    description_columns = {
        "value": "Percentage: percent off; Fixed amount: amount off; Buy x get y: percent off the free "
        "items (100 = free).",
        "code": "A coupon code (case-insensitive, unique in this storefront); empty: applied automatically.",
        "product_ids": "Only these products (empty: every product).",
        "category_ids": "Only products of these categories (a category covers its descendants).",
        "seller_ids": "Only these sellers' products.",
        "funded_by": "A seller's promotions are always funded by it and discount only its lines.",
        "priority": "Higher first. Non-stackable promotions exclude the others.",
    }
    optional_columns = ("value", "funded_by", "priority", "uses_count")
    # a seller's promotions are always its own and funded by it (claim_for_seller)
    readonly_columns = {roles.SELLER: ("funded_by", "seller")}
    base_order = ("id", "desc")

    seller_scope = staticmethod(scopes.promotions_of_seller)
    related_scopes = {"seller": lambda sid: SellerProfile.id == sid}

    def claim_for_seller(self, item, seller_id, is_new):
        services.own_by_seller(item, seller_id)

    def owned_by_seller(self, item, seller_id):
        return scopes.owns_promotion(seller_id, item)

    def before_save(self, item, is_new):
        services.prepare_promotion(item)


class PromotionRedemptionView(MarketModelView):
    datamodel = datamodel(PromotionRedemption)
    route_base = "/admin/promotion-redemptions"
    list_title = "Promotion redemptions"
    item_title = "Promotion redemption"
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
