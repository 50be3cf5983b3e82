"""Which role may do what in the admin, as FAB permission-on-view pairs.

`flask init` syncs these into FAB's tables (roles are data; re-running it is idempotent).
Super Admin has every permission. Customers and Premium Customers have none in the admin
(the HTML login refuses them anyway); Guest is FAB's public role.
"""

from __future__ import annotations

from app.security import roles

READ = ("can_list", "can_show")
WRITE = ("can_list", "can_show", "can_add", "can_edit", "can_delete")

# views FAB registers for account self-service
SELF_SERVICE = [
    ("can_this_form_get", "UserInfoEditView"),
    ("can_this_form_post", "UserInfoEditView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("can_userinfo", "MarketUserView"),
    ("resetmypassword", "MarketUserView"),
    ("userinfoedit", "MarketUserView"),
]

SELLER_VIEWS = {
    # "Publish selected" / "Archive selected" of its own products (admin/views/fulfilment.py)
    "ProductView": WRITE + ("publish", "archive"),
    "VariantView": WRITE,
    "ProductImageView": WRITE,
    "ProductAttributeValueView": WRITE,
    "StockView": ("can_list", "can_show", "can_add", "can_edit"),
    "WarehouseView": WRITE,
    "StockMovementView": READ,
    "LowStockAlertView": READ,
    # its own suppliers and their purchase orders: lines of a draft, send, cancel, receive
    "SupplierView": WRITE,
    "PurchaseOrderView": WRITE + ("can_send", "can_cancel", "can_receive", "can_edit_lines"),
    "CategoryView": READ,
    "BrandView": READ,
    "AttributeView": READ,
    # its own page: its KYC documents' upload and files (never set_status, review_kyc: Admin)
    "SellerView": ("can_list", "can_show", "can_edit", "can_upload_kyc", "can_kyc_file"),
    "KycDocumentView": READ,
    "ReviewView": READ,
    "PromotionView": WRITE,
    "PromotionRedemptionView": READ,
    # never OrderView: a whole order carries the other sellers' parts, and its page's actions
    # (can_cancel, can_move_status, can_create_label, can_decide_refund, can_add_note: the order
    # desk, admin/views/order_desk.py) are Admin only; a seller works on its sub-orders
    # (admin/views/fulfilment.py): status steps, a label (one or
    # "Ship selected"), its label PDF, deciding refund requests; reviews' moderation is Admin only
    "SubOrderView": READ + ("can_set_status", "can_ship", "can_decide_refund", "ship_selected"),
    "OrderLineView": READ,
    "ShipmentView": READ + ("can_label",),
    "TrackingEventView": READ,
    "RefundRequestView": READ,
    "OrderEventView": READ,
    "RefundRequestLineView": READ,
    # of orders holding one of its sub-orders (admin/views/payments.py); never "Mark received" or
    # "Retry refund" (action permissions mark_received, retry_refund: Admin only)
    # the navbar's search box: a seller finds its own sub-orders and products (app/lookup.py)
    "FindView": ("can_find",),
    "PaymentView": READ,
    "PaymentTransactionView": READ,
    "RefundView": READ,
    # its own ledger entries, balances and statement downloads; never adjustments (Admin only)
    "SellerLedgerView": READ + ("can_statement",),
    # its own payouts and the payout job's notices; never their actions (approve, mark_paid, pay,
    # mark_failed, run: Admin only)
    "PayoutView": READ,
    "PayoutSkipView": READ,
    # its own bank accounts; never the "Verify" and "Reject" actions (verify, reject: Admin only)
    "BankAccountView": WRITE,
    # its own conversations with customers (admin/views/chat.py): read, reply, mark read
    "ChatView": READ + ("can_reply", "can_mark_read"),
    # its own notifications and preferences (admin/views/notifications.py); never what staff
    # sent, the deliveries or the shop's defaults (Admin only)
    "MyNotificationsView": ("can_list",),
    # its own large exports (every list it may read exports as CSV and XLSX: can_list)
    "DataExportsView": ("can_list", "can_download"),
    # bulk import into its own catalog (products, stock, prices; customers are staff only)
    "DataManagementView": ("can_list", "can_import"),
    # its own sales and stock analytics (admin/views/analytics.py); never the customer segments
    # nor the models (the platform's customers)
    "SalesAnalyticsView": ("can_list",),
    "StockAnalyticsView": ("can_list",),
    # Superset's dashboards, embedded with a guest token limited to its own seller_id
    "BIDashboardsView": ("can_list",),
}
SELLER_MENUS = (
    "Catalog",
    "Products",
    "Variants",
    "Product images",
    "Product attributes",
    "Categories",
    "Brands",
    "Attributes",
    "Inventory",
    "Stock",
    "Warehouses",
    "Stock movements",
    "Low stock",
    "Suppliers",
    "Purchase orders",
    "People",
    "Sellers",
    "KYC documents",
    "Reviews",
    "Pricing",
    "Promotions",
    "Promotion redemptions",
    "Orders",
    "Sub-orders",
    "Shipments",
    "Refund requests",
    "Order timeline",
    "Payments",  # in the Orders menu
    "Payment transactions",
    "Refunds",
    "Seller ledger",
    "Payouts",
    "Payout notices",
    "Bank accounts",  # in the People menu
    "Conversations",  # in the People menu
    "My notifications",  # in the People menu
    "My notification preferences",
    "My exports",
    "Data management",  # in the Catalog menu
    "Analytics",
    "Sales analytics",
    "Stock analytics",
    "BI dashboards",
)

# Admin: everything in its tenant, but not tenants and not FAB's permission internals
# (groups carry roles: whoever manages groups can grant any role, Super Admin included)
ADMIN_EXCLUDED_VIEWS = frozenset(
    {
        "TenantView",
        "PermissionModelView",
        "ViewMenuModelView",
        "PermissionViewModelView",
        "UserGroupModelView",
        "Tenants",
        "Base Permissions",
        "Views/Menus",
        "Permission on Views/Menus",
        "List Groups",
    }
)


def wanted_permissions(role_name: str, all_pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (permission, view or menu) pairs `role_name` gets, chosen from what exists."""
    existing = set(all_pairs)
    if role_name == roles.SUPER_ADMIN:
        return existing
    if role_name == roles.ADMIN:
        return {
            pair
            for pair in existing
            if pair[1] not in ADMIN_EXCLUDED_VIEWS
            and not (
                pair[1] == "RoleModelView" and pair[0] in ("can_add", "can_edit", "can_delete")
            )
        }
    if role_name == roles.SELLER:
        wanted = {(perm, view) for view, perms in SELLER_VIEWS.items() for perm in perms}
        wanted |= {("menu_access", menu) for menu in SELLER_MENUS}
        wanted |= set(SELF_SERVICE)
        return wanted & existing
    return set()
