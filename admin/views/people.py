"""Customers admin (sellers: admin/views/sellers.py)."""

from __future__ import annotations

from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from wtforms import StringField

from admin.base import MarketModelView, datamodel
from admin.related_select import CUSTOMER_SEARCH, USER_SEARCH
from admin.views.customer_page import CustomerPageMixin
from app.customers.models import Address, CustomerProfile


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


class CustomerView(CustomerPageMixin, MarketModelView):
    """Name, e-mail, orders and spending on the list, search by name or e-mail, and the page's
    recent orders and addresses: admin/views/customer_page.py."""

    datamodel = datamodel(CustomerProfile)
    route_base = "/admin/customers"
    list_title = "Customers"
    show_title = "Customer"
    add_title = "Add customer"
    edit_title = "Edit customer"
    list_columns = [
        "name",
        "email",
        "phone",
        "orders",
        "spent",
        "loyalty_points",
        "marketing_opt_in",
        "created_at",
    ]
    label_columns = {
        "name": "Name",
        "email": "E-mail",
        "orders": "Orders",
        "spent": "Spent",
        "user": "Name or e-mail",
        "marketing_opt_in": "Marketing",
        "date_of_birth": "Date of birth",
        "preferred_language": "Language",
        "preferred_currency": "Currency",
        "loyalty_points": "Loyalty points",
        "created_at": "Customer since",
        "updated_at": "Updated",
    }
    # "user": a text box matching the name or e-mail (customer_page.NameOrEmail); order count and
    # spending are computed for the page's rows only, so the list is not sorted by them
    search_columns = ["user", "phone", "marketing_opt_in", "loyalty_points"]
    search_form_extra_fields = {
        "user": StringField("Name or e-mail", widget=BS3TextFieldWidget()),
    }
    order_columns = ["created_at", "loyalty_points"]
    base_order = ("id", "desc")
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
    show_columns = add_columns[1:] + ["created_at", "updated_at"]  # its name: the page's heading
