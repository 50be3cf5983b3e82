"""/api/v1/cart: the caller's cart, priced on every read (promotions, tax, shipping estimate).

Signed-in customers (Customer, Premium Customer) have one persistent cart. Guests send no token
and get a cart token back (the `X-Cart-Token` response header and the `cart_token` field) on
their first add; they send it as the `X-Cart-Token` request header afterwards. At login the
guest cart is merged into the customer's cart (send the same header to /api/v1/auth/login/).
Sellers and admins have no cart (403).
"""

from __future__ import annotations

from flask import after_this_request, request
from marshmallow import Schema, fields, validate

from app.cart import services
from app.cart.errors import CartError
from app.core.errors import CoreError
from app.pricing_contract import Destination
from app.security.errors import SecurityError
from storefront_api.common import Blueprint, current_actor, current_api_user, document_errors
from storefront_api.errors import ApiError
from storefront_api.fields import an_id, country, money, rate

CART_TOKEN_HEADER = "X-Cart-Token"

blp = Blueprint(
    "cart",
    __name__,
    url_prefix="/api/v1/cart",
    description="The shopping cart of a customer or a guest (cart token)",
)


class PricedDiscountSchema(Schema):
    promotion_id = fields.Integer(required=True)
    code = fields.String(allow_none=True)
    amount = money(required=True)
    funded_by = fields.String(required=True, metadata={"enum": ["platform", "seller"]})


class PricedTaxSchema(Schema):
    rule_id = fields.Integer(required=True)
    name = fields.String(required=True)
    rate = rate(required=True)
    amount = money(required=True)


class CartItemSchema(Schema):
    id = fields.Integer(required=True)
    variant_id = fields.Integer(required=True)
    product_id = fields.Integer(required=True)
    seller_id = fields.Integer(required=True)
    sku = fields.String(required=True)
    title = fields.String(required=True)
    options = fields.Dict(required=True)
    quantity = fields.Integer(required=True)
    available = fields.Integer(
        required=True, metadata={"description": "units that can be sold now"}
    )
    in_stock = fields.Boolean(required=True)
    for_sale = fields.Boolean(
        required=True,
        metadata={
            "description": "false: no longer sold (withdrawn, or its seller is suspended); "
            "available is 0 and checkout answers 409 item_unavailable until it is removed"
        },
    )
    unit_price = money(required=True)
    subtotal = money(required=True)
    discount_total = money(required=True)
    discounts = fields.List(fields.Nested(PricedDiscountSchema), required=True)
    tax_total = money(required=True)
    tax = fields.List(fields.Nested(PricedTaxSchema), required=True)
    total = money(required=True)


class CartShippingQuoteSchema(Schema):
    seller_id = fields.Integer(required=True)
    method_id = fields.Integer(allow_none=True)
    method_name = fields.String(allow_none=True)
    carrier = fields.String(allow_none=True)
    cost = money(required=True)
    tax_total = money(required=True)


class CartAppliedPromotionSchema(Schema):
    promotion_id = fields.Integer(required=True)
    code = fields.String(allow_none=True)
    discount_total = money(required=True)


class CartQuantityLimitsSchema(Schema):
    """Dumps app.cart.services.QuantityLimits."""

    max_line_quantity = fields.Integer(
        required=True,
        attribute="line",
        metadata={
            "description": "units of one item a cart or order may hold (more: 422 line_quantity_limit)"
        },
    )
    max_order_units = fields.Integer(
        required=True,
        attribute="order",
        metadata={
            "description": "units in all a cart or order may hold (more: 422 order_quantity_limit)"
        },
    )


class CartSchema(Schema):
    id = fields.Integer(
        allow_none=True, metadata={"description": "null until the first item is added"}
    )
    cart_token = fields.String(
        allow_none=True, metadata={"description": "guests: send it as X-Cart-Token"}
    )
    currency = fields.String(required=True)
    prices_include_tax = fields.Boolean(required=True)
    items = fields.List(fields.Nested(CartItemSchema), required=True)
    item_count = fields.Integer(required=True)
    subtotal = money(required=True)
    discount_total = money(required=True)
    tax_total = money(required=True)
    shipping_total = money(
        required=True, metadata={"description": "an estimate; needs a destination"}
    )
    total = money(required=True)
    shipping = fields.List(fields.Nested(CartShippingQuoteSchema), required=True)
    applied_promotions = fields.List(fields.Nested(CartAppliedPromotionSchema), required=True)
    rejected_coupons = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    quantity_limits = fields.Nested(CartQuantityLimitsSchema, required=True)


class CartQueryArgs(Schema):
    country = country(metadata={"description": "destination, for tax and shipping"})
    region = fields.String(validate=validate.Length(min=1, max=100))
    postal_code = fields.String(validate=validate.Length(min=1, max=20))
    coupon = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        validate=validate.Length(max=5),
        metadata={"description": "coupon codes to try (repeat the parameter)"},
    )


class CartAddSchema(Schema):
    variant_id = an_id(required=True)
    quantity = fields.Integer(
        strict=True, load_default=1, validate=validate.Range(min=1, max=services.MAX_LINE_QUANTITY)
    )


class CartUpdateSchema(Schema):
    item_id = an_id(required=True)
    quantity = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=0, max=services.MAX_LINE_QUANTITY),
        metadata={"description": "0 removes the item"},
    )


def _errors(*errors):
    return document_errors(blp, *errors, optional_auth=True)


def cart_ref() -> services.CartRef:
    """The caller: a customer's bearer token, or a guest's X-Cart-Token header."""
    actor = current_actor(optional=True)
    token = (
        None if actor is not None else (request.headers.get(CART_TOKEN_HEADER) or "")[:200] or None
    )
    email = current_api_user(optional=True).email if actor is not None else None
    return services.CartRef(actor=actor, token=token, email=email)


def _hand_out_token(ref: services.CartRef, previous: str | None) -> None:
    if ref.actor is None and ref.token and ref.token != previous:

        @after_this_request
        def _header(response):
            response.headers[CART_TOKEN_HEADER] = ref.token
            return response


@blp.route("/", methods=["GET"])
@blp.arguments(CartQueryArgs, location="query")
@blp.response(200, CartSchema)
@_errors(SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.VALIDATION_ERROR)
def get_cart(args):
    """The cart, priced now; with a destination, tax and the shipping estimate are included."""
    destination = (
        Destination(
            country=args["country"], region=args.get("region"), postal_code=args.get("postal_code")
        )
        if args.get("country")
        else None
    )
    return services.get_cart(
        cart_ref(), destination=destination, coupon_codes=tuple(args.get("coupon") or ())
    )


@blp.route("/add/", methods=["POST"])
@blp.arguments(CartAddSchema)
@blp.response(200, CartSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    CoreError.OUT_OF_STOCK,
    CoreError.VALIDATION_ERROR,
    CartError.LINE_QUANTITY_LIMIT,
    CartError.ORDER_QUANTITY_LIMIT,
    ApiError.RATE_LIMITED,
)
def add(data):
    """Add a variant (quantities add up; the total must be in stock). Guests get a cart token."""
    ref = cart_ref()
    previous = ref.token
    body = services.add_item(ref, data["variant_id"], data["quantity"])
    _hand_out_token(ref, previous)
    return body


@blp.route("/update/", methods=["PUT"])
@blp.arguments(CartUpdateSchema)
@blp.response(200, CartSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    CoreError.OUT_OF_STOCK,
    CoreError.VALIDATION_ERROR,
    CartError.LINE_QUANTITY_LIMIT,
    CartError.ORDER_QUANTITY_LIMIT,
    ApiError.RATE_LIMITED,
)
def update(data):
    """Set an item's quantity (0 removes it)."""
    return services.update_item(cart_ref(), data["item_id"], data["quantity"])


@blp.route("/remove/<int:item_id>/", methods=["DELETE"])
@blp.response(200, CartSchema)
@_errors(
    SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.NOT_FOUND, ApiError.RATE_LIMITED
)
def remove(item_id):
    """Remove one item."""
    return services.remove_item(cart_ref(), item_id)


@blp.route("/clear/", methods=["DELETE"])
@blp.response(200, CartSchema)
@_errors(SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, ApiError.RATE_LIMITED)
def clear():
    """Remove every item."""
    return services.clear(cart_ref())
