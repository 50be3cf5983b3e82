"""Reviews admin: Admins moderate (approve, hold, hide) and delete; a Seller reads the reviews of
its own products. The product's rating summary is kept in step inside the same transaction."""

from __future__ import annotations

from flask_appbuilder import AppBuilder

from admin.base import MarketModelView, datamodel
from admin.related_select import CUSTOMER_SEARCH, PRODUCT_SEARCH
from admin.views.fulfilment import ReviewModeration
from app.catalog.scopes import products_of_seller
from app.reviews import scopes, services
from app.reviews.models import REVIEW_STATUSES, Review


class ReviewView(ReviewModeration, MarketModelView):
    """Approve selected / Reject selected (Admins): admin/views/fulfilment.py."""

    datamodel = datamodel(Review)
    route_base = "/admin/reviews"
    list_title = "Reviews"
    item_title = "Review"
    base_permissions = ["can_list", "can_show", "can_edit", "can_delete"]
    list_columns = [
        "created_at",
        "product",
        "customer",
        "rating",
        "title",
        "status",
        "helpful_count",
    ]
    search_columns = [
        "product",
        "customer",
        "rating",
        "status",
        "title",
        "verified_purchase",
        "created_at",
    ]
    show_columns = [
        "product",
        "customer",
        "rating",
        "title",
        "body",
        "status",
        "verified_purchase",
        "helpful_count",
        "created_at",
        "updated_at",
    ]
    edit_columns = ["status"]
    choices_columns = {"status": REVIEW_STATUSES}
    description_columns = {
        "status": f"One of {', '.join(REVIEW_STATUSES)}: only approved reviews are shown "
        "and counted in the product's rating."
    }
    base_order = ("id", "desc")

    seller_scope = staticmethod(scopes.reviews_of_seller)
    # search-as-you-type filters; a seller finds only its products and the customers who reviewed them
    ajax_related = {"product": PRODUCT_SEARCH, "customer": CUSTOMER_SEARCH}
    related_scopes = {
        "product": products_of_seller,
        "customer": scopes.reviewers_of_seller,
    }

    def owned_by_seller(self, item, seller_id):
        return False  # sellers read their products' reviews; they never change them

    def before_save(self, item, is_new):
        services.before_admin_change(item)

    def pre_delete(self, item):
        super().pre_delete(item)
        services.before_admin_change(item, deleting=True)


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(ReviewView, "Reviews", icon="fa-star", category="Catalog")
