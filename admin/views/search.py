"""Search in the admin: the index status page and the search analytics (logged searches, zero-
result searches, clicks). Admin and Super Admin only (admin/roles.py gives sellers none of these);
tenancy applies to the analytics rows by itself (tenant-owned models)."""

from __future__ import annotations

from dataclasses import fields

from flask_appbuilder import AppBuilder, BaseView, expose, has_access
from flask_appbuilder.models.sqla.filters import FilterEqual

from admin.base import MarketModelView, datamodel
from admin.references import PRODUCT, USER
from app.search.models import SearchClick, SearchQueryLog


class SearchIndexView(BaseView):
    route_base = "/admin/search/index"
    default_view = "status"

    @expose("/")
    @has_access
    def status(self):
        from app.search import service

        try:
            status, error = service.index_status(), None
        except Exception as exc:  # an unreachable Elasticsearch must not break the page
            status, error = None, f"{type(exc).__name__}: the search backend did not answer"
        rows = [] if status is None else [(f.name, getattr(status, f.name)) for f in fields(status)]
        return self.render_template("admin/search_index.html", rows=rows, error=error)


class SearchQueryView(MarketModelView):
    datamodel = datamodel(SearchQueryLog)
    route_base = "/admin/search/queries"
    list_title = "Searches"
    item_title = "Search"
    base_permissions = ["can_list", "can_show"]
    list_columns = ["created_at", "query", "result_count", "endpoint", "sort", "user_id"]
    search_columns = ["query", "normalized", "result_count", "endpoint", "created_at"]
    show_columns = list_columns + ["normalized", "filters"]
    base_order = ("id", "desc")
    references = {"user_id": USER}
    label_columns = {"user_id": "Customer"}


class ZeroResultSearchView(SearchQueryView):
    route_base = "/admin/search/zero-results"
    list_title = "Searches without results"
    item_title = "Search without results"
    base_filters = [["result_count", FilterEqual, 0]]


class SearchClickView(MarketModelView):
    datamodel = datamodel(SearchClick)
    route_base = "/admin/search/clicks"
    list_title = "Clicks on search results"
    item_title = "Click on a search result"
    base_permissions = ["can_list", "can_show"]
    list_columns = ["created_at", "query", "product_id", "position", "user_id"]
    search_columns = ["query", "product_id", "created_at"]
    show_columns = list_columns
    base_order = ("id", "desc")
    references = {"product_id": PRODUCT, "user_id": USER}
    label_columns = {"product_id": "Product", "user_id": "Customer"}


# what people search for and find (the storefront's search, not a search of the admin)
MENU = "Search analytics"


def register(appbuilder: AppBuilder) -> None:
    add = appbuilder.add_view
    add(
        SearchIndexView,
        "Search index",
        icon="fa-search",
        category=MENU,
        category_icon="fa-bar-chart",
    )
    add(SearchQueryView, "Searches", icon="fa-list", category=MENU)
    add(ZeroResultSearchView, "Zero-result searches", icon="fa-ban", category=MENU)
    add(SearchClickView, "Search clicks", icon="fa-mouse-pointer", category=MENU)
