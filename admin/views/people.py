"""Customers admin (sellers: admin/views/sellers.py)."""

from __future__ import annotations

from admin.base import MarketModelView, datamodel
from admin.related_select import CUSTOMER_SEARCH, USER_SEARCH
from app.customers.models import Address, CustomerProfile


class AddressView(MarketModelView):
    datamodel = datamodel(Address)
    route_base = "/admin/addresses"
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
