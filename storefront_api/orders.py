"""/api/v1/orders: checkout (POST / with an Idempotency-Key), lists and details by role, the state
machine (PUT/PATCH), cancel, tracking and refunds.

Customers see their orders; sellers the orders holding one of their sub-orders (only those
sub-orders); admins every order of the tenant. Another user's order answers 404. An illegal
status change is a 409 whose details name the allowed ones.

Guests: checkout answers a guest with the order's access token (`access_token`, and the
X-Order-Token response header). Sent back as the X-Order-Token request header, without a bearer
token, it opens that one order's detail, tracking, cancel and refund request, nothing else; a
wrong token (or another order's) is a 404. Those requests are rate limited per client IP
(API_GUEST_ORDER_RATE_LIMIT). See app/orders/access.py.
"""

from __future__ import annotations

from flask import after_this_request, current_app, request
from flask_limiter.util import get_remote_address
from marshmallow import Schema, fields, post_load, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from app.cart.errors import CartError
from app.checkout import services as checkout
from app.checkout.errors import CheckoutError
from app.checkout.inputs import CheckoutInput, PaymentChoice, ShippingChoice
from app.core.errors import CoreError
from app.core.inputs import UNSET
from app.customers.inputs import AddressInput
from app.events.errors import EventsError
from app.extensions import limiter
from app.orders import access, lifecycle, refunds, states, visibility
from app.orders.errors import OrderError
from app.orders.inputs import OrderChanges, RefundAsk, RefundLine
from app.orders.models import REFUND_REQUEST_STATUSES
from app.payments.errors import PaymentError
from app.promotions.errors import PromotionError
from app.security.errors import SecurityError
from app.shipments import services as shipments
from storefront_api.cart import PricedDiscountSchema, PricedTaxSchema, cart_ref
from storefront_api.common import (
    Blueprint,
    PageArgs,
    Unauthorized,
    current_actor,
    document_errors,
    page_schema,
)
from storefront_api.errors import ApiError
from storefront_api.fields import AddressSchema, an_id, decimal_in, money, rate

blp = Blueprint(
    "orders",
    __name__,
    url_prefix="/api/v1/orders",
    description="Checkout, orders and sub-orders, their status, cancellation, tracking and refunds",
)


def _errors(*errors, optional_auth: bool = False):
    return document_errors(blp, *errors, optional_auth=optional_auth)


def _guest_limit(fn):
    """Requests that carry an X-Order-Token are rate limited per client IP, in one bucket for the
    four endpoints that take it (token guessing)."""
    return limiter.shared_limit(
        lambda: current_app.config["API_GUEST_ORDER_RATE_LIMIT"],
        scope="guest_order",
        key_func=get_remote_address,
        exempt_when=lambda: access.HEADER not in request.headers,
    )(fn)


def _caller(order_id: int, headers: dict):
    """The bearer token's Actor; else a guest holding the order's X-Order-Token; else 401."""
    actor = current_actor(optional=True)
    if actor is not None:
        return actor
    if "order_token" not in headers:
        raise Unauthorized("a valid access token (or the guest's X-Order-Token) is required")
    return access.GuestAccess(order_id, headers["order_token"])


# --- schemas -------------------------------------------------------------------------------------


class OrderAddressSchema(AddressSchema):
    """The address an order ships to (storefront_api.fields.AddressSchema)."""


class CheckoutShippingChoiceSchema(Schema):
    seller_id = an_id(required=True)
    method_id = an_id(required=True)


class CheckoutPaymentSchema(Schema):
    method = fields.String(
        required=True,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "see GET /api/v1/payments/methods/"},
    )
    details = fields.Dict(
        load_default=dict, metadata={"description": "gateway details (e.g. a test card)"}
    )


class CheckoutSchema(Schema):
    email = fields.Email(
        validate=validate.Length(max=320), metadata={"description": "required for guests"}
    )
    address_id = an_id(metadata={"description": "one of the customer's saved addresses"})
    shipping_address = fields.Nested(OrderAddressSchema)
    coupon_codes = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        validate=validate.Length(max=5),
        load_default=list,
    )
    shipping_methods = fields.List(
        fields.Nested(CheckoutShippingChoiceSchema),
        validate=validate.Length(max=50),
        load_default=list,
        metadata={"description": "per seller; the cheapest method otherwise"},
    )
    notes = fields.String(allow_none=True, validate=validate.Length(max=1000))
    payment = fields.Nested(
        CheckoutPaymentSchema,
        metadata={
            "description": "start paying at once; or later through /api/v1/payments/process/"
        },
    )

    @validates_schema
    def _one_address(self, data, **kwargs):
        if ("address_id" in data) == ("shipping_address" in data):
            raise SchemaError(
                {"shipping_address": ["give shipping_address or address_id (one of them)"]}
            )

    @post_load
    def _input(self, data, **kwargs) -> CheckoutInput:
        """What was not sent stays UNSET (the Idempotency-Key's fingerprint tells it from null)."""
        return CheckoutInput(
            email=data.get("email", UNSET),
            address_id=data.get("address_id", UNSET),
            shipping_address=(
                AddressInput(**data["shipping_address"]) if "shipping_address" in data else UNSET
            ),
            coupon_codes=tuple(data["coupon_codes"]),
            shipping_methods=tuple(ShippingChoice(**m) for m in data["shipping_methods"]),
            notes=data.get("notes", UNSET),
            payment=PaymentChoice(**data["payment"]) if "payment" in data else UNSET,
        )


class OrderIdempotencyHeaderSchema(Schema):
    idempotency_key = fields.String(
        required=True, data_key="Idempotency-Key", validate=validate.Length(min=1, max=255)
    )

    class Meta:
        unknown = "exclude"


class OrderTokenHeaderSchema(Schema):
    order_token = fields.String(
        data_key="X-Order-Token",
        validate=validate.Length(max=200),
        metadata={
            "description": "guests: the order access token checkout answered with (instead of a bearer token)"
        },
    )

    class Meta:
        unknown = "exclude"


class OrderLineSchema(Schema):
    id = fields.Integer(required=True)
    variant_id = fields.Integer(allow_none=True)
    product_id = fields.Integer(allow_none=True)
    sku = fields.String(required=True)
    title = fields.String(required=True)
    quantity = fields.Integer(required=True)
    unit_price = money(required=True)
    subtotal = money(required=True)
    discount_total = money(required=True)
    discounts = fields.List(fields.Nested(PricedDiscountSchema), required=True)
    tax_total = money(required=True)
    tax_breakdown = fields.List(fields.Nested(PricedTaxSchema), required=True)
    total = money(required=True)
    commission_rate = rate(required=True)
    commission_amount = money(required=True)
    returned_quantity = fields.Integer(
        required=True,
        metadata={
            "description": "units asked back in refund requests that were neither rejected nor failed (what is left "
            "can be returned)"
        },
    )


class SubOrderSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    seller_id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(states.STATUSES)})
    allowed_transitions = fields.List(fields.String(), required=True)
    refundable = money(
        required=True,
        metadata={
            "description": "what a refund request may still ask for this sub-order: its total less its requests "
            "that were neither rejected, failed nor closed, and never more than the order's payments "
            "have left after every refund (an Admin's refund through /api/v1/payments/refund/ "
            "included); 0.00 before payment"
        },
    )
    subtotal = money(required=True)
    discount_total = money(required=True)
    tax_total = money(required=True, metadata={"description": "lines and shipping"})
    shipping_total = money(required=True)
    total = money(required=True)
    commission_rate = rate(required=True)
    commission_amount = money(required=True)
    shipping_method_id = fields.Integer(allow_none=True)
    shipping_method_name = fields.String(allow_none=True)
    carrier = fields.String(allow_none=True)
    shipping_tax = fields.List(fields.Nested(PricedTaxSchema), required=True)
    lines = fields.List(fields.Nested(OrderLineSchema), required=True)


class RefundRequestLineSchema(Schema):
    line_id = fields.Integer(
        required=True, metadata={"description": "the order line (sub_orders[].lines[].id)"}
    )
    quantity = fields.Integer(required=True)
    amount = money(
        required=True, metadata={"description": "the units' share of the line's paid total"}
    )
    restocked_quantity = fields.Integer(
        required=True, metadata={"description": "shipped units put back on hand at approval"}
    )


class RefundRequestSchema(Schema):
    id = fields.Integer(
        required=True,
        metadata={
            "description": "what the sub-order's seller or an admin sends as request_id to POST refund/ to decide"
        },
    )
    sub_order_id = fields.Integer(required=True)
    status = fields.String(
        required=True,
        metadata={
            "enum": list(REFUND_REQUEST_STATUSES),
            "description": (
                "requested (waits for a decision), approved (being paid out), completed (paid out), rejected, failed "
                "(the payment refund was refused: failure_code; its units and money can be asked for again), closed "
                "(undecided when the order's payments were refunded in full by another way)"
            ),
        },
    )
    amount = money(required=True)
    shipping_amount = money(
        required=True, metadata={"description": "the part of amount that is shipping"}
    )
    reason = fields.String(required=True)
    requested_by_user_id = fields.Integer(
        allow_none=True,
        metadata={
            "description": "the customer, or the seller who asked for its own sub-order (none: a guest)"
        },
    )
    restock = fields.Boolean(required=True)
    failure_code = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    lines = fields.List(
        fields.Nested(RefundRequestLineSchema),
        required=True,
        metadata={"description": "units returned (empty for a request of an amount)"},
    )


class CheckoutPaymentResultSchema(Schema):
    id = fields.Integer(allow_none=True)
    status = fields.String(required=True)
    error_code = fields.String(allow_none=True)
    message = fields.String(allow_none=True)


class OrderSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(states.STATUSES)})
    email = fields.String(required=True)
    customer_user_id = fields.Integer(allow_none=True)
    is_guest = fields.Boolean(required=True)
    currency = fields.String(required=True)
    prices_include_tax = fields.Boolean(required=True)
    subtotal = money(required=True)
    discount_total = money(required=True)
    tax_total = money(required=True)
    shipping_total = money(required=True)
    total = money(required=True)
    refunded_total = money(required=True)
    payment_status = fields.String(required=True)
    payment_method = fields.String(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    shipping_address = fields.Dict(required=True)
    notes = fields.String(allow_none=True)
    coupon_codes = fields.List(fields.String(), required=True)
    reservation_expires_at = fields.DateTime(
        allow_none=True,
        metadata={
            "description": "an unpaid order is cancelled at this moment and its stock released"
        },
    )
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    sub_orders = fields.List(fields.Nested(SubOrderSchema), required=True)
    refund_requests = fields.List(
        fields.Nested(RefundRequestSchema),
        required=True,
        metadata={
            "description": "the order's refund requests, oldest first (a seller: those of its sub-orders)"
        },
    )
    payment = fields.Nested(
        CheckoutPaymentResultSchema,
        allow_none=True,
        metadata={"description": "only in the answer to POST /: how the payment started"},
    )
    access_token = fields.String(
        allow_none=True,
        metadata={
            "description": "only in the answer to POST / of a guest: send it as X-Order-Token to read, track, "
            "cancel or ask to refund this order (also in the X-Order-Token response header)"
        },
    )


class OrderListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(states.STATUSES))


class OrderUpdateSchema(Schema):
    status = fields.String(
        validate=validate.OneOf(sorted(status.value for status in states.MANUAL_TARGETS)),
        metadata={"description": "sellers and admins; follows the state machine"},
    )
    sub_order_id = an_id(metadata={"description": "which sub-order (default: all the caller's)"})
    note = fields.String(
        validate=validate.Length(max=500), metadata={"description": "kept in the timeline"}
    )
    notes = fields.String(
        allow_none=True,
        validate=validate.Length(max=1000),
        metadata={"description": "the customer's, while pending"},
    )
    shipping_address = fields.Nested(
        OrderAddressSchema,
        metadata={"description": "the customer's, while pending (same country and region)"},
    )

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise SchemaError({"status": ["give status, notes or shipping_address"]})


class OrderCancelSchema(Schema):
    reason = fields.String(validate=validate.Length(min=1, max=500))


class OrderRefundLineSchema(Schema):
    line_id = an_id(
        required=True, metadata={"description": "an order line (sub_orders[].lines[].id)"}
    )
    quantity = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1, max=1_000_000),
        metadata={"description": "units to return: at most those ordered and not yet asked for"},
    )


class OrderRefundSchema(Schema):
    reason = fields.String(
        validate=validate.Length(min=1, max=500), metadata={"description": "customers: required"}
    )
    sub_order_id = an_id()
    amount = decimal_in(
        0.01, 9_999_999_999.99, metadata={"description": "default: what remains of the sub-order"}
    )
    lines = fields.List(
        fields.Nested(OrderRefundLineSchema),
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "customers: units of lines to return and refund (their paid share: price, less discounts, "
            "plus tax); not with amount. One request per sub-order they belong to"
        },
    )
    include_shipping = fields.Boolean(
        metadata={
            "description": "with lines: refund the sub-order's shipping too (it is, anyway, with its last units)"
        }
    )
    request_id = an_id(
        metadata={
            "description": "sellers and admins: the request to decide (its id in "
            "refund_requests of the order or its tracking)"
        }
    )
    approve = fields.Boolean(
        metadata={"description": "sellers and admins: true approves, false rejects"}
    )
    restock = fields.Boolean(
        metadata={
            "description": "sellers and admins, approving a return of units: put shipped units back on hand in the "
            "warehouse they came from (units not yet shipped are always released)"
        }
    )

    @validates_schema
    def _shape(self, data, **kwargs):
        if "request_id" in data:
            if "approve" not in data:
                raise SchemaError({"approve": ["required with request_id"]})
            extra = [
                k for k in ("lines", "include_shipping", "amount", "sub_order_id") if k in data
            ]
            if extra:
                raise SchemaError({k: ["not when deciding a request"] for k in extra})
        else:
            if "reason" not in data:
                raise SchemaError({"reason": ["required to request a refund"]})
            if "restock" in data:
                raise SchemaError({"restock": ["only when approving a request"]})
            if "lines" in data and "amount" in data:
                raise SchemaError({"amount": ["give lines or an amount, not both"]})
            if "include_shipping" in data and "lines" not in data:
                raise SchemaError({"include_shipping": ["only with lines"]})


class OrderTimelineEntrySchema(Schema):
    sub_order_id = fields.Integer(allow_none=True)
    from_status = fields.String(allow_none=True)
    to_status = fields.String(required=True)
    note = fields.String(allow_none=True)
    at = fields.DateTime(required=True)


class OrderTrackingEventSchema(Schema):
    status = fields.String(required=True)
    description = fields.String(required=True)
    location = fields.String(allow_none=True)
    at = fields.DateTime(required=True)


class OrderShipmentSchema(Schema):
    id = fields.Integer(required=True)
    sub_order_id = fields.Integer(required=True)
    carrier = fields.String(required=True)
    tracking_number = fields.String(required=True)
    status = fields.String(required=True)
    shipped_at = fields.DateTime(allow_none=True)
    events = fields.List(fields.Nested(OrderTrackingEventSchema), required=True)


class OrderTrackingSchema(Schema):
    order_id = fields.Integer(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True)
    refund_requests = fields.List(fields.Nested(RefundRequestSchema), required=True)
    timeline = fields.List(fields.Nested(OrderTimelineEntrySchema), required=True)
    shipments = fields.List(fields.Nested(OrderShipmentSchema), required=True)


def _refund_ask(data: dict) -> RefundAsk:
    lines = tuple(RefundLine(**entry) for entry in data.get("lines") or ())
    return RefundAsk(
        reason=data["reason"],
        sub_order_id=data.get("sub_order_id"),
        amount=data.get("amount"),
        lines=lines,
        include_shipping=data.get("include_shipping", False),
    )


# --- routes --------------------------------------------------------------------------------------


@blp.route("/", methods=["POST"])
@blp.arguments(OrderIdempotencyHeaderSchema, location="headers")
@blp.arguments(CheckoutSchema)
@blp.response(201, OrderSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    CheckoutError.CART_EMPTY,
    CheckoutError.ITEM_UNAVAILABLE,
    CheckoutError.NO_SHIPPING_METHOD,
    CoreError.OUT_OF_STOCK,
    PromotionError.PROMOTION_UNAVAILABLE,
    PromotionError.PROMOTION_EXHAUSTED,
    EventsError.IDEMPOTENCY_KEY_REUSED,
    CheckoutError.PRICING_MISMATCH,
    CoreError.VALIDATION_ERROR,
    CartError.LINE_QUANTITY_LIMIT,
    CartError.ORDER_QUANTITY_LIMIT,
    ApiError.RATE_LIMITED,
    optional_auth=True,
)
def create(headers, data):
    """Check out the caller's cart (customer token, or a guest's X-Cart-Token with an e-mail).
    The same Idempotency-Key and body return the first order; another body with it is a 409.
    A guest gets the order's access token (`access_token`, X-Order-Token header)."""
    body, created = checkout.place_order(cart_ref(), data, headers["idempotency_key"])

    @after_this_request
    def _headers(response):
        if not created:
            response.headers["Idempotent-Replayed"] = "true"
        if body.access_token:
            response.headers[access.HEADER] = body.access_token
        return response

    return body


@blp.route("/", methods=["GET"])
@blp.arguments(OrderListArgs, location="query")
@blp.response(200, page_schema(OrderSchema))
@_errors(SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.VALIDATION_ERROR)
def list_orders(args):
    """Customers: their orders; sellers: orders with their sub-orders; admins: all of the tenant."""
    return visibility.list_orders(
        current_actor(),
        status=args.get("status"),
        page=args["page"],
        page_size=args["page_size"],
    )


@blp.route("/<int:order_id>/", methods=["GET"])
@_guest_limit
@blp.arguments(OrderTokenHeaderSchema, location="headers")
@blp.response(200, OrderSchema)
@_errors(
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
    optional_auth=True,
)
def detail(headers, order_id):
    """One order, as the caller may see it (guests: with its X-Order-Token)."""
    return visibility.get_order(_caller(order_id, headers), order_id)


@blp.route("/<int:order_id>/", methods=["PUT", "PATCH"])
@blp.arguments(OrderUpdateSchema)
@blp.response(200, OrderSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    OrderError.ILLEGAL_TRANSITION,
    OrderError.ORDER_NOT_EDITABLE,
    OrderError.ORDER_REFUNDED,
    OrderError.STOCK_INCONSISTENT,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
)
def update(data, order_id):
    """Sellers and admins move the status (processing, shipped, delivered, completed); the
    customer changes notes or the address while the order is pending."""
    return lifecycle.update_order(current_actor(), order_id, OrderChanges(**data))


@blp.route("/<int:order_id>/cancel/", methods=["POST"])
@_guest_limit
@blp.arguments(OrderTokenHeaderSchema, location="headers")
@blp.arguments(OrderCancelSchema, required=False)
@blp.response(200, OrderSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    OrderError.ILLEGAL_TRANSITION,
    OrderError.STOCK_INCONSISTENT,
    PaymentError.REFUND_EXCEEDS_CAPTURED,
    PaymentError.INVALID_PAYMENT_STATUS,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
    PaymentError.GATEWAY_UNAVAILABLE,
    optional_auth=True,
)
def cancel(headers, data, order_id):
    """Cancel (pending, paid or processing): the stock is released and the payment voided or refunded."""
    return lifecycle.cancel_order(_caller(order_id, headers), order_id, (data or {}).get("reason"))


@blp.route("/<int:order_id>/tracking/", methods=["GET"])
@_guest_limit
@blp.arguments(OrderTokenHeaderSchema, location="headers")
@blp.response(200, OrderTrackingSchema)
@_errors(
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
    optional_auth=True,
)
def track(headers, order_id):
    """The status timeline and the shipments with their tracking events (guests: X-Order-Token)."""
    return shipments.order_tracking(_caller(order_id, headers), order_id)


@blp.route("/<int:order_id>/refund/", methods=["POST"])
@_guest_limit
@blp.arguments(OrderTokenHeaderSchema, location="headers")
@blp.arguments(OrderRefundSchema)
@blp.response(200, OrderSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    OrderError.ILLEGAL_TRANSITION,
    OrderError.NOTHING_TO_REFUND,
    OrderError.REFUND_DECIDED,
    OrderError.REFUND_FAILED,
    OrderError.STOCK_INCONSISTENT,
    PaymentError.REFUND_EXCEEDS_CAPTURED,
    PaymentError.INVALID_PAYMENT_STATUS,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
    PaymentError.GATEWAY_UNAVAILABLE,
    optional_auth=True,
)
def refund(headers, data, order_id):
    """Customers (and guests with X-Order-Token) request a refund or return: reason, and
    sub_order_id with an amount, or lines with units; a seller may request one for its own
    sub-order. The sub-order's seller or an admin decides (request_id: the id in the order's
    refund_requests, approve, restock); a request the seller made itself is for an admin. Approval
    refunds through payments; a refund the gateway refuses fails its request (409 refund_failed with
    details.failure_code; also later, by the gateway's webhook), whose units and money can then be
    asked for again. A sub-order may be asked at most its `refundable`: every refund counts, an
    Admin's refund through /api/v1/payments/refund/ too (409 nothing_to_refund once nothing is left,
    422 for more than is left)."""
    caller = _caller(order_id, headers)
    if "request_id" in data:
        return refunds.decide_refund(
            caller,
            order_id,
            data["request_id"],
            data["approve"],
            data.get("reason"),
            restock=data.get("restock", False),
        )
    return refunds.request_refund(caller, order_id, _refund_ask(data))
