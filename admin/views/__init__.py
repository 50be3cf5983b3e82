"""Every admin view, registered under /admin/... with its menu."""

from __future__ import annotations

from flask_appbuilder import AppBuilder


def register_views(appbuilder: AppBuilder) -> None:
    from admin.views.catalog import (
        AttributeView,
        BrandView,
        CategoryView,
        ProductAttributeValueView,
        ProductImageView,
        ProductView,
        VariantView,
    )
    from admin.views.inventory import LowStockAlertView, StockMovementView, StockView, WarehouseView
    from admin.views.people import AddressView, CustomerView, SellerView
    from admin.views.platform import AuditLogView, OutboxView, TenantView

    add = appbuilder.add_view
    add(ProductView, "Products", icon="fa-cube", category="Catalog", category_icon="fa-book")
    add(VariantView, "Variants", icon="fa-cubes", category="Catalog")
    add(ProductImageView, "Product images", icon="fa-image", category="Catalog")
    add(ProductAttributeValueView, "Product attributes", icon="fa-list", category="Catalog")
    add(CategoryView, "Categories", icon="fa-sitemap", category="Catalog")
    add(BrandView, "Brands", icon="fa-tag", category="Catalog")
    add(AttributeView, "Attributes", icon="fa-sliders", category="Catalog")

    add(StockView, "Stock", icon="fa-archive", category="Inventory", category_icon="fa-archive")
    add(WarehouseView, "Warehouses", icon="fa-building", category="Inventory")
    add(StockMovementView, "Stock movements", icon="fa-exchange", category="Inventory")
    add(LowStockAlertView, "Low stock", icon="fa-exclamation-triangle", category="Inventory")

    add(
        SellerView,
        "Sellers",
        icon="fa-shopping-bag",
        category="Sellers",
        category_icon="fa-shopping-bag",
    )
    add(CustomerView, "Customers", icon="fa-users", category="Customers", category_icon="fa-users")
    add(AddressView, "Addresses", icon="fa-map-marker", category="Customers")

    from admin.views import accounts, orders, payments, reviews, search, shoppers

    for module in (accounts, shoppers, reviews, payments, orders, search):
        module.register(appbuilder)

    from admin.views import promotions, shipping, tax

    for module in (promotions, tax, shipping):
        module.register(appbuilder)

    add(TenantView, "Tenants", icon="fa-globe", category="Platform", category_icon="fa-cogs")
    add(AuditLogView, "Audit log", icon="fa-history", category="Platform")
    add(OutboxView, "Domain events", icon="fa-bolt", category="Platform")
