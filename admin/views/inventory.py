"""Inventory admin: warehouses, stock levels (edits go through the ledger), movements, alerts."""

from __future__ import annotations

from flask_login import current_user

from admin.base import MarketModelView, datamodel
from admin.references import USER
from admin.related_select import VARIANT_SEARCH
from app.catalog.scopes import variants_of_seller
from app.inventory import scopes, services
from app.inventory.models import LowStockAlert, StockLevel, StockMovement, Warehouse
from app.security import roles
from app.sellers.models import SellerProfile


class WarehouseView(MarketModelView):
    datamodel = datamodel(Warehouse)
    route_base = "/admin/warehouses"
    list_title = "Warehouses"
    item_title = "Warehouse"
    list_columns = ["code", "name", "seller", "city", "country", "is_active"]
    search_columns = ["code", "name", "seller", "country", "is_active"]
    add_columns = edit_columns = show_columns = [
        "code",
        "name",
        "seller",
        "city",
        "country",
        "is_active",
    ]
    description_columns = {"seller": "Empty for a platform (fulfilment) warehouse."}
    readonly_columns = {roles.SELLER: ("seller",)}  # a seller's warehouse stays its own

    seller_scope = staticmethod(scopes.warehouses_of_seller)
    related_scopes = {"seller": lambda sid: SellerProfile.id == sid}

    def owned_by_seller(self, item, seller_id):
        return scopes.owns_warehouse(seller_id, item)


class StockView(MarketModelView):
    datamodel = datamodel(StockLevel)
    route_base = "/admin/inventory"
    list_title = "Stock"
    item_title = "Stock level"
    list_columns = [
        "variant",
        "warehouse",
        "quantity_on_hand",
        "quantity_reserved",
        "available",
        "reorder_point",
        "updated_at",
    ]
    label_columns = {"quantity_on_hand": "On hand", "quantity_reserved": "Reserved"}
    search_columns = [
        "variant",
        "warehouse",
        "quantity_on_hand",
        "quantity_reserved",
        "reorder_point",
    ]
    add_columns = ["variant", "warehouse", "quantity_on_hand", "reorder_point"]
    edit_columns = ["quantity_on_hand", "reorder_point"]
    show_columns = [
        "variant",
        "warehouse",
        "quantity_on_hand",
        "quantity_reserved",
        "available",
        "reorder_point",
        "created_at",
        "updated_at",
    ]
    base_order = ("id", "desc")
    description_columns = {
        "quantity_on_hand": "A counted quantity; the difference is written to the ledger."
    }

    seller_scope = staticmethod(scopes.stock_of_seller)
    related_scopes = {
        "variant": variants_of_seller,
        # own warehouses, or platform ones
        "warehouse": scopes.warehouses_usable_by_seller,
    }
    ajax_related = {"variant": VARIANT_SEARCH}  # variants grow without bound: search-as-you-type

    def owned_by_seller(self, item, seller_id):
        return scopes.may_stock(seller_id, item.variant, item.warehouse)

    def before_save(self, item, is_new):
        services.record_manual_edit(item, actor_id=getattr(current_user, "id", None))


class StockMovementView(MarketModelView):
    datamodel = datamodel(StockMovement)
    route_base = "/admin/stock-movements"
    list_title = "Stock movements"
    item_title = "Stock movement"
    word_columns = ("reason",)
    base_permissions = ["can_list", "can_show"]
    list_columns = [
        "created_at",
        "stock_level",
        "reason",
        "delta_on_hand",
        "delta_reserved",
        "on_hand_after",
        "reserved_after",
        "reference",
    ]
    search_columns = ["reason", "reference", "created_at"]
    show_columns = list_columns + ["note", "actor_id"]
    base_order = ("id", "desc")
    references = {"actor_id": USER}
    label_columns = {"actor_id": "By"}

    seller_scope = staticmethod(scopes.movements_of_seller)


class LowStockAlertView(MarketModelView):
    datamodel = datamodel(LowStockAlert)
    route_base = "/admin/low-stock"
    list_title = "Low stock"
    item_title = "Low stock alert"
    base_permissions = ["can_list", "can_show"]
    list_columns = ["created_at", "stock_level", "available", "reorder_point", "resolved_at"]
    search_columns = ["created_at", "resolved_at"]
    show_columns = list_columns
    base_order = ("id", "desc")

    seller_scope = staticmethod(scopes.alerts_of_seller)
