"""Sellers and customers admin."""

from __future__ import annotations

from admin.base import MarketModelView, datamodel
from admin.related_select import CUSTOMER_SEARCH, USER_SEARCH
from app.core.errors import ValidationError
from app.customers.models import Address, CustomerProfile
from app.security import roles
from app.sellers.models import SELLER_STATUSES, SellerProfile


class SellerView(MarketModelView):
    datamodel = datamodel(SellerProfile)
    route_base = "/admin/sellers"
    list_title = "Sellers"
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
    optional_columns = ("slug",)
    ajax_related = {"user": USER_SEARCH}
    # a seller edits its store's description, not its own approval or commission
    readonly_columns = {roles.SELLER: ("status", "commission_rate")}

    seller_scope = staticmethod(lambda sid: SellerProfile.id == sid)

    def owned_by_seller(self, item, seller_id):
        if item.id != seller_id:
            return False
        # read-only for a seller (readonly_columns); refused here too, whatever sets them
        from sqlalchemy import inspect

        state = inspect(item)
        return not (
            state.attrs.status.history.has_changes()
            or state.attrs.commission_rate.history.has_changes()
        )

    def before_save(self, item, is_new):
        errors = {}
        if item.status not in SELLER_STATUSES:
            errors["status"] = f"one of {', '.join(SELLER_STATUSES)}"
        if item.commission_rate is None or not (0 <= item.commission_rate <= 1):
            errors["commission_rate"] = "between 0 and 1"
        if errors:
            raise ValidationError("; ".join(f"{k}: {v}" for k, v in errors.items()), details=errors)
        if not item.slug:
            from app.catalog.services import unique_slug

            item.slug = unique_slug(SellerProfile, item.store_name, exclude_id=item.id)


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
    search_columns = ["phone", "marketing_opt_in", "loyalty_points"]
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
