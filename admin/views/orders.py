"""Orders admin (every change through the orders and shipments services, as the API's):
carts, orders with their sub-orders and timeline, sub-orders with their lines, shipments and
refund requests (with the units of lines they return). A Seller sees only its own sub-orders, their
lines, shipments, refund requests and timeline steps (admin/roles.py grants it those views; parent
orders, which carry the other sellers' amounts, and carts are for Admins). A sub-order's page is
where it is fulfilled (admin/views/fulfilment.py: its lines, shipments, refund requests and
timeline, with the steps its seller or an admin takes, through the services the API calls); an
order's page is the order desk (admin/views/order_desk.py), from which Admins run the order."""

from __future__ import annotations

from flask_appbuilder import AppBuilder

from admin.base import MarketModelView, datamodel
from admin.views.fulfilment import ShipmentLabels, SubOrderFulfilment, sub_order_link
from admin.views.order_desk import ACTIONS as ORDER_DESK_ACTIONS
from admin.views.order_desk import OrderDeskMixin
from app.cart.models import Cart, CartItem
from app.orders import scopes
from app.orders.models import (
    REFUND_REQUEST_STATUSES,
    Order,
    OrderEvent,
    OrderLine,
    OrderPaymentStatus,
    RefundRequest,
    RefundRequestLine,
    SubOrder,
)
from app.orders.states import STATUSES
from app.sellers.models import SellerProfile
from app.shipments import scopes as shipment_scopes
from app.shipments.models import Shipment, TrackingEvent

READ_ONLY = ["can_list", "can_show"]
# a shipment's and a tracking event's states (app.shipping.carriers.TrackingUpdate): the list
# filters offer them by name
SHIPMENT_STATUSES = ("label_created", "in_transit", "out_for_delivery", "delivered", "exception")


class _ReadOnly(MarketModelView):
    base_permissions = READ_ONLY
    base_order = ("id", "desc")

    def owned_by_seller(self, item, seller_id):
        return False  # nothing here is changed through the admin


class CartItemView(_ReadOnly):
    datamodel = datamodel(CartItem)
    route_base = "/admin/cart-items"
    list_title = "Cart items"
    item_title = "Cart item"
    list_columns = ["cart", "variant", "quantity", "updated_at"]
    show_columns = ["cart", "variant", "quantity", "created_at", "updated_at"]


class CartView(_ReadOnly):
    datamodel = datamodel(Cart)
    route_base = "/admin/carts"
    list_title = "Carts"
    item_title = "Cart"
    list_columns = ["id", "user", "item_count", "updated_at"]
    search_columns = ["user", "updated_at"]
    show_columns = ["id", "user", "item_count", "created_at", "updated_at"]
    label_columns = {"user": "Customer (empty: a guest)"}
    related_views = [CartItemView]


class OrderLineView(_ReadOnly):
    datamodel = datamodel(OrderLine)
    route_base = "/admin/order-lines"
    list_title = "Order lines"
    item_title = "Order line"
    list_columns = [
        "sub_order",
        "sku",
        "title",
        "quantity",
        "unit_price",
        "discount_total",
        "tax_total",
        "total",
        "commission_rate",
        "commission_amount",
    ]
    show_columns = list_columns + ["discounts", "tax_breakdown"]
    # no relation in the search form: its select box would list every sub-order of the tenant
    search_columns = ["sku", "title", "quantity"]
    seller_scope = staticmethod(scopes.order_lines_of_seller)


class OrderEventView(_ReadOnly):
    datamodel = datamodel(OrderEvent)
    route_base = "/admin/order-timeline"
    list_title = "Order timeline"
    item_title = "Timeline step"
    choices_columns = {"from_status": STATUSES, "to_status": STATUSES}
    list_columns = ["created_at", "order", "sub_order", "from_status", "to_status", "note", "actor"]
    label_columns = {
        "sub_order": "Sub-order (empty: the whole order)",
        "actor": "By (empty: the system or a guest)",
    }
    show_columns = list_columns
    search_columns = [
        "from_status",
        "to_status",
        "note",
        "created_at",
    ]  # no unscoped order/sub-order selects
    # a seller: the steps of its own sub-orders only
    seller_scope = staticmethod(scopes.order_events_of_seller)


class TrackingEventView(_ReadOnly):
    datamodel = datamodel(TrackingEvent)
    route_base = "/admin/tracking-events"
    list_title = "Tracking events"
    item_title = "Tracking event"
    choices_columns = {"status": SHIPMENT_STATUSES}
    list_columns = ["occurred_at", "shipment", "status", "description", "location"]
    show_columns = list_columns
    search_columns = [
        "status",
        "description",
        "location",
        "occurred_at",
    ]  # no unscoped shipment select
    seller_scope = staticmethod(shipment_scopes.tracking_events_of_seller)


class ShipmentView(ShipmentLabels, _ReadOnly):
    datamodel = datamodel(Shipment)
    base_permissions = READ_ONLY + ["can_label"]  # its label PDF: admin/views/fulfilment.py
    route_base = "/admin/shipments"
    list_title = "Shipments"
    item_title = "Shipment"
    choices_columns = {"status": SHIPMENT_STATUSES}
    list_columns = ["created_at", "sub_order", "carrier", "tracking_number", "status", "shipped_at"]
    search_columns = ["carrier", "tracking_number", "status", "shipped_at"]
    show_columns = [
        "sub_order",
        "carrier",
        "tracking_number",
        "status",
        "shipped_at",
        "created_at",
        "updated_at",
    ]
    seller_scope = staticmethod(shipment_scopes.shipments_of_seller)
    related_views = [TrackingEventView]
    formatters_columns = {"sub_order": sub_order_link}  # to its page (and the label)


class RefundRequestLineView(_ReadOnly):
    datamodel = datamodel(RefundRequestLine)
    route_base = "/admin/refund-request-lines"
    list_title = "Returned units"
    item_title = "Returned unit"
    list_columns = ["refund_request", "order_line", "quantity", "amount", "restocked_quantity"]
    show_columns = list_columns
    search_columns = [
        "quantity",
        "amount",
        "restocked_quantity",
    ]  # no unscoped line/request selects
    seller_scope = staticmethod(scopes.refund_request_lines_of_seller)


class RefundRequestView(_ReadOnly):
    datamodel = datamodel(RefundRequest)
    route_base = "/admin/refund-requests"
    list_title = "Refund requests"
    item_title = "Refund request"
    choices_columns = {"status": REFUND_REQUEST_STATUSES}
    list_columns = [
        "created_at",
        "order",
        "sub_order",
        "amount",
        "shipping_amount",
        "reason",
        "status",
        "restock",
        "decided_at",
    ]
    show_columns = list_columns + [
        "requested_by_user_id",
        "decided_by_user_id",
        "payment_refund_id",
        "failure_code",
    ]
    search_columns = [
        "status",
        "reason",
        "restock",
        "created_at",
        "decided_at",
    ]  # no unscoped order selects
    seller_scope = staticmethod(scopes.refund_requests_of_seller)
    related_views = [RefundRequestLineView]
    formatters_columns = {"sub_order": sub_order_link}  # decided on the sub-order's page


class SubOrderView(SubOrderFulfilment, _ReadOnly):
    """Its show page is the fulfilment page, with the steps (admin/views/fulfilment.py)."""

    datamodel = datamodel(SubOrder)
    base_permissions = READ_ONLY + ["can_set_status", "can_ship", "can_decide_refund"]
    route_base = "/admin/sub-orders"
    list_title = "Sub-orders"
    item_title = "Sub-order"
    choices_columns = {"status": STATUSES}
    list_columns = [
        "number",
        "order",
        "seller",
        "status",
        "subtotal",
        "discount_total",
        "tax_total",
        "shipping_total",
        "total",
        "commission_amount",
        "created_at",
    ]
    search_columns = ["number", "status", "seller", "created_at"]
    upper_prefix_columns = ("number",)
    show_columns = list_columns + [
        "commission_rate",
        "shipping_method_name",
        "carrier",
        "shipping_tax",
        "updated_at",
    ]
    seller_scope = staticmethod(scopes.sub_orders_of_seller)
    related_scopes = {"seller": lambda sid: SellerProfile.id == sid}


class OrderView(OrderDeskMixin, _ReadOnly):
    """Orders, for Admins: the list, and each order's page as the order desk (admin/views/
    order_desk.py: one screen with the actions staff run the order with)."""

    datamodel = datamodel(Order)
    route_base = "/admin/orders"
    base_permissions = READ_ONLY + list(ORDER_DESK_ACTIONS)
    list_title = "Orders"
    item_title = "Order"
    choices_columns = {
        "status": STATUSES,
        "payment_status": tuple(status.value for status in OrderPaymentStatus),
    }
    list_columns = [
        "number",
        "created_at",
        "email",
        "status",
        "payment_status",
        "total",
        "currency",
    ]
    search_columns = ["number", "email", "status", "payment_status", "created_at"]
    upper_prefix_columns = ("number",)
    seller_scope = staticmethod(scopes.orders_of_seller)


def register(appbuilder: AppBuilder) -> None:
    add = appbuilder.add_view
    add(
        OrderView,
        "All orders",
        icon="fa-shopping-cart",
        category="Orders",
        category_icon="fa-shopping-cart",
    )
    add(SubOrderView, "Sub-orders", icon="fa-truck", category="Orders")
    add(ShipmentView, "Shipments", icon="fa-send", category="Orders")
    add(RefundRequestView, "Refund requests", icon="fa-undo", category="Orders")
    add(OrderEventView, "Order timeline", icon="fa-history", category="Orders")
    add(CartView, "Carts", icon="fa-shopping-basket", category="Orders")
    appbuilder.add_view_no_menu(OrderLineView)
    appbuilder.add_view_no_menu(CartItemView)
    appbuilder.add_view_no_menu(TrackingEventView)
    appbuilder.add_view_no_menu(RefundRequestLineView)
