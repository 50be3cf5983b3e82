"""Sellers and customers admin."""

from __future__ import annotations

from admin.base import MarketModelView, datamodel
from admin.related_select import CUSTOMER_SEARCH, USER_SEARCH
from app.customers.models import Address, CustomerProfile
from app.security import roles
from app.sellers import services as sellers
from app.sellers.models import SELLER_STATUSES, SellerProfile


class SellerView(MarketModelView):
    datamodel = datamodel(SellerProfile)
    route_base = "/admin/sellers"
    list_title = "Sellers"
    item_title = "Seller"
    list_columns = ["store_name", "user", "status", "commission_rate", "created_at"]
    search_columns = ["store_name", "slug", "status", "contact_email", "commission_rate"]
    add_columns = [
        "user",
        "store_name",
        "slug",
        "description",
        "contact_email",
        "status",
        "commission_rate",
    ]
    edit_columns = ["store_name", "description", "contact_email", "status", "commission_rate"]
    show_columns = add_columns + ["created_at", "updated_at"]
    description_columns = {"commission_rate": "Share the platform keeps: 0.1000 = 10 %."}
    choices_columns = {"status": SELLER_STATUSES}
    optional_columns = ("slug",)
    ajax_related = {"user": USER_SEARCH}
    # a seller edits its store's description, not its own approval or commission
    readonly_columns = {roles.SELLER: sellers.STAFF_ONLY_COLUMNS}

    seller_scope = staticmethod(lambda sid: SellerProfile.id == sid)

    def owned_by_seller(self, item, seller_id):
        return sellers.seller_may_save(item, seller_id)

    def before_save(self, item, is_new):
        sellers.prepare_profile(item)


class AddressView(MarketModelView):
    datamodel = datamodel(Address)
    route_base = "/admin/addresses"
    list_title = "Addresses"
    item_title = "Address"
    list_columns = [
        "customer",
        "label",
        "full_name",
        "city",
        "postal_code",
        "country",
        "is_default",
    ]
    search_columns = ["customer", "full_name", "city", "postal_code", "country", "is_default"]
    ajax_related = {"customer": CUSTOMER_SEARCH}
    add_columns = edit_columns = show_columns = [
        "customer",
        "label",
        "full_name",
        "company",
        "line1",
        "line2",
        "city",
        "region",
        "postal_code",
        "country",
        "phone",
        "is_default",
    ]


class CustomerView(MarketModelView):
    datamodel = datamodel(CustomerProfile)
    route_base = "/admin/customers"
    list_title = "Customers"
    list_columns = ["user", "phone", "loyalty_points", "marketing_opt_in", "created_at"]
    # a customer found by name or e-mail (search-as-you-type, as in the add form)
    search_columns = ["user", "phone", "marketing_opt_in", "loyalty_points"]
    add_columns = [
        "user",
        "phone",
        "date_of_birth",
        "preferred_language",
        "preferred_currency",
        "marketing_opt_in",
        "loyalty_points",
    ]
    edit_columns = add_columns[1:]
    ajax_related = {"user": USER_SEARCH}
    show_columns = add_columns + ["created_at", "updated_at"]
    related_views = [AddressView]
