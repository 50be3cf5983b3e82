"""One home per visibility rule: what a Seller sees in each admin view is the domain's own
predicate (app/<domain>/scopes.py, payments' money in app/orders/shares.py), the same function the
services call, never a condition written in the view."""

from __future__ import annotations

import pytest

from admin.views import banking, catalog, inventory, orders, payments, promotions, reviews
from app.catalog import scopes as catalog_scopes
from app.inventory import scopes as inventory_scopes
from app.orders import scopes as order_scopes
from app.orders import shares
from app.promotions import scopes as promotion_scopes
from app.reviews import scopes as review_scopes
from app.sellers.banking import scopes as banking_scopes
from app.shipments import scopes as shipment_scopes


@pytest.mark.parametrize(
    "view, predicate",
    [
        (orders.OrderView, order_scopes.orders_of_seller),
        (orders.SubOrderView, order_scopes.sub_orders_of_seller),
        (orders.OrderLineView, order_scopes.order_lines_of_seller),
        (orders.OrderEventView, order_scopes.order_events_of_seller),
        (orders.RefundRequestView, order_scopes.refund_requests_of_seller),
        (orders.RefundRequestLineView, order_scopes.refund_request_lines_of_seller),
        (orders.ShipmentView, shipment_scopes.shipments_of_seller),
        (orders.TrackingEventView, shipment_scopes.tracking_events_of_seller),
        (payments.PaymentView, shares.seller_payments),
        (payments.PaymentTransactionView, shares.seller_transactions),
        (payments.RefundView, shares.seller_refunds),
        (catalog.ProductView, catalog_scopes.products_of_seller),
        (catalog.VariantView, catalog_scopes.variants_of_seller),
        (catalog.ProductImageView, catalog_scopes.images_of_seller),
        (catalog.ProductAttributeValueView, catalog_scopes.attribute_values_of_seller),
        (inventory.WarehouseView, inventory_scopes.warehouses_of_seller),
        (inventory.StockView, inventory_scopes.stock_of_seller),
        (inventory.StockMovementView, inventory_scopes.movements_of_seller),
        (inventory.LowStockAlertView, inventory_scopes.alerts_of_seller),
        (promotions.PromotionView, promotion_scopes.promotions_of_seller),
        (promotions.PromotionRedemptionView, promotion_scopes.redemptions_of_seller),
        (reviews.ReviewView, review_scopes.reviews_of_seller),
        (banking.BankAccountView, banking_scopes.accounts_of_seller),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_a_sellers_rows_in_the_admin_are_the_domains_predicate(view, predicate):
    assert view.seller_scope is predicate
