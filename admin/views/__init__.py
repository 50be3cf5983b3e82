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
    from admin.views.people import AddressView, CustomerView
    from admin.views.platform import AuditLogView, OutboxView, TenantView
    from admin.views.sellers import SellerView

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
    from admin.views import purchasing  # issue 18: suppliers and purchase orders

    purchasing.register(appbuilder)

    # the navbar fits one row at 1280 px: a few top-level menus, each a group of pages
    add(SellerView, "Sellers", icon="fa-shopping-bag", category="People", category_icon="fa-users")
    add(CustomerView, "Customers", icon="fa-user", category="People")
    add(AddressView, "Addresses", icon="fa-map-marker", category="People")
    from admin.views import sellers

    sellers.register(appbuilder)  # applications and KYC (issue 14)

    from admin.views import accounts, orders, payments, reviews, search, shoppers

    for module in (accounts, shoppers, reviews, orders, payments, search):
        module.register(appbuilder)

    from admin.views import promotions, shipping, tax

    for module in (promotions, tax, shipping):
        module.register(appbuilder)

    from admin.views import ledger  # issue 14: the seller ledger and payout settings

    ledger.register(appbuilder)
    from admin.views import payouts  # issue 14: payouts, their actions and the job's notices

    payouts.register(appbuilder)
    from admin.views import banking, commissions

    banking.register(appbuilder)
    commissions.register(appbuilder)
    from admin.views import chat  # issue 15: live chat (staff moderate, sellers reply)

    chat.register(appbuilder)
    from admin.views import notifications  # issue 15: the notification centre

    notifications.register(appbuilder)
    from admin.views import mail_templates  # issue 15: the transactional mails' wording

    mail_templates.register(appbuilder)
    from admin.views import data_exports  # issue 18: large exports and backups, for download

    data_exports.register(appbuilder)
    from admin.views import data_management  # issue 18: bulk import

    data_management.register(appbuilder)
    from admin.views import analytics, models  # issue 16: Analytics > its pages, then Models

    analytics.register(appbuilder)
    models.register(appbuilder)

    # the platform's own pages join FAB's users and roles (its "Security" menu, shown as Platform)
    appbuilder.add_separator(PLATFORM)
    add(TenantView, "Tenants", icon="fa-globe", category=PLATFORM)
    add(AuditLogView, "Audit log", icon="fa-history", category=PLATFORM)
    add(OutboxView, "Domain events", icon="fa-bolt", category=PLATFORM)
    from admin.views.find import FindView

    appbuilder.add_view_no_menu(FindView)  # the navbar's search box (appbuilder/navbar_right.html)
    arrange_menu(appbuilder)


# FAB's own menu of users, roles and permissions; our sessions, tenants, audit log and domain events
# join it: one top-level menu for running the platform, after those of the shop's daily work
PLATFORM = "Security"
# the top-level menus left to right; the navbar fits one row at 1280 px
MENU_ORDER = (
    "Orders",
    "Catalog",
    "Inventory",
    "People",
    "Pricing",
    "Analytics",
    "Search analytics",
)


def arrange_menu(appbuilder: AppBuilder) -> None:
    """The shop's menus in MENU_ORDER, any other after them, the platform's last, labelled
    "Platform" (its name, which permissions refer to, stays FAB's)."""
    rank = {name: i for i, name in enumerate(MENU_ORDER)}
    last = len(MENU_ORDER) + 1
    appbuilder.menu.menu.sort(
        key=lambda item: last if item.name == PLATFORM else rank.get(item.name, len(MENU_ORDER))
    )
    from admin.base import MarketModelView

    # a page's menu entry reads as its title (the menu's name, which permissions refer to, stays)
    for group in appbuilder.menu.menu:
        for item in [group, *group.childs]:
            title = getattr(item.baseview, "list_title", None)
            if title and isinstance(item.baseview, MarketModelView):
                item.label = title
    platform = appbuilder.menu.find(PLATFORM)
    if platform is not None:
        platform.label, platform.icon = "Platform", "fa-cogs"
