"""Admin views of shoppers' engagement: wishlist items and customer activities (read-only)."""

from __future__ import annotations

from flask_appbuilder import AppBuilder

from admin.base import MarketModelView, datamodel
from admin.related_select import CUSTOMER_SEARCH, PRODUCT_SEARCH
from app.customers.engagement_models import CustomerActivity, WishlistItem


class WishlistItemView(MarketModelView):
    datamodel = datamodel(WishlistItem)
    route_base = "/admin/wishlists"
    list_title = "Wishlist items"
    item_title = "Wishlist item"
    base_permissions = ["can_list", "can_show"]
    list_columns = ["customer", "product", "created_at"]
    search_columns = ["customer", "product", "created_at"]
    ajax_related = {"customer": CUSTOMER_SEARCH, "product": PRODUCT_SEARCH}
    show_columns = ["customer", "product", "created_at"]
    base_order = ("id", "desc")


class CustomerActivityView(MarketModelView):
    datamodel = datamodel(CustomerActivity)
    route_base = "/admin/customer-activities"
    list_title = "Customer activities"
    item_title = "Customer activity"
    word_columns = ("type",)
    base_permissions = ["can_list", "can_show"]
    list_columns = ["created_at", "customer", "type", "product"]
    search_columns = ["customer", "type", "product", "created_at"]
    ajax_related = {"customer": CUSTOMER_SEARCH, "product": PRODUCT_SEARCH}
    show_columns = ["created_at", "customer", "type", "product", "payload"]
    base_order = ("id", "desc")


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(WishlistItemView, "Wishlists", icon="fa-heart", category="People")
    appbuilder.add_view(
        CustomerActivityView, "Customer activities", icon="fa-line-chart", category="People"
    )
