"""/api/v1/shipping: the methods serving a destination and the per-seller quotes of a basket
(public: guests check out too). Labels and tracking (/create-label/, /tracking/<id>/) belong to
the shipments of the orders module, which calls `app.shipping.carriers`."""

from __future__ import annotations

from marshmallow import Schema, fields, post_load, validate

from app.core.errors import CoreError
from app.pricing import services as pricing
from app.pricing.inputs import ShippingQuestion
from app.security.errors import SecurityError
from app.shipping import services
from app.shipping.models import RATE_TYPES
from storefront_api.common import Blueprint, current_actor, document_errors
from storefront_api.errors import ApiError
from storefront_api.fields import REGION, an_id, country, decimal_out, money
from storefront_api.pricing_schemas import DestinationSchema, lines_field

blp = Blueprint(
    "shipping", __name__, url_prefix="/api/v1/shipping", description="Shipping methods and quotes"
)


class MethodArgs(Schema):
    country = country(required=True)
    region = fields.String(validate=REGION)
    seller_id = an_id(
        strict=False, metadata={"description": "Only the methods offered to this seller's parcels"}
    )


class BracketSchema(Schema):
    min_value = decimal_out(required=True)
    max_value = decimal_out(allow_none=True)
    rate = money(required=True)


class ShippingMethodSchema(Schema):
    """Dumps app.shipping.quotes.Method."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    carrier = fields.String(required=True, attribute="carrier_code")
    rate_type = fields.String(required=True, metadata={"enum": list(RATE_TYPES)})
    zone = fields.String(required=True, attribute="zone_name")
    seller_id = fields.Integer(
        allow_none=True, metadata={"description": "None: every seller may use it"}
    )
    flat_rate = money(allow_none=True)
    free_over = money(allow_none=True)
    min_days = fields.Integer(allow_none=True)
    max_days = fields.Integer(allow_none=True)
    brackets = fields.List(
        fields.Nested(BracketSchema),
        required=True,
        metadata={
            "description": "weight (kg) or goods amount brackets: min_value <= x < max_value"
        },
    )


class MethodListSchema(Schema):
    items = fields.List(fields.Nested(ShippingMethodSchema), required=True)


class CalculateSchema(Schema):
    lines = lines_field()
    destination = fields.Nested(DestinationSchema, required=True)
    coupon_codes = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        validate=validate.Length(max=10),
        load_default=list,
    )
    shipping_method_ids = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[1-9][0-9]{0,9}$")),
        values=an_id(),
        load_default=dict,
        metadata={"description": "seller id -> chosen method id"},
    )

    @post_load
    def _question(self, data, **kwargs) -> ShippingQuestion:
        return ShippingQuestion(
            lines=tuple(data["lines"]),
            destination=data["destination"],
            coupon_codes=tuple(data["coupon_codes"]),
            shipping_method_ids={int(k): v for k, v in data["shipping_method_ids"].items()},
        )


class OptionSchema(Schema):
    method_id = fields.Integer(required=True)
    name = fields.String(required=True)
    carrier = fields.String(required=True)
    rate_type = fields.String(required=True)
    cost = money(required=True, metadata={"description": "after the free-over threshold"})
    base_cost = money(required=True)
    free_over = money(allow_none=True)
    min_days = fields.Integer(allow_none=True)
    max_days = fields.Integer(allow_none=True)


class SellerQuoteSchema(Schema):
    seller_id = fields.Integer(required=True)
    goods_amount = money(required=True)
    weight_kg = decimal_out(required=True)
    method_id = fields.Integer(
        allow_none=True, metadata={"description": "None: no method serves this parcel"}
    )
    method_name = fields.String(allow_none=True)
    carrier = fields.String(allow_none=True)
    cost = money(
        required=True, metadata={"description": "after free-over and free-shipping promotions"}
    )
    tax_total = money(required=True)
    free_shipping_promotion_id = fields.Integer(allow_none=True)
    options = fields.List(fields.Nested(OptionSchema), required=True)


class CalculationSchema(Schema):
    currency = fields.String(required=True)
    prices_include_tax = fields.Boolean(required=True)
    shipping_total = money(required=True)
    sellers = fields.List(fields.Nested(SellerQuoteSchema), required=True)


@blp.route("/methods/", methods=["GET"])
@blp.arguments(MethodArgs, location="query")
@blp.response(200, MethodListSchema)
@document_errors(blp, CoreError.VALIDATION_ERROR)
def list_methods(args):
    """Active shipping methods serving a destination."""
    methods = services.list_methods(
        country=args["country"], region=args.get("region"), seller_id=args.get("seller_id")
    )
    return {"items": methods}


@blp.route("/calculate/", methods=["POST"])
@blp.arguments(CalculateSchema)
@blp.response(200, CalculationSchema)
@document_errors(
    blp,
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
    optional_auth=True,
)
def calculate(data):
    """Shipping quotes of a basket: one shipment per seller, the chosen (or cheapest) method and
    every option offered, after free-over thresholds and free-shipping promotions."""
    return pricing.calculate_shipping(current_actor(optional=True), data)
