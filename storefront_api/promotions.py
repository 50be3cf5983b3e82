"""/api/v1/promotions: admins manage the tenant's platform promotions, sellers their own (funded
by them, discounting only their lines); the storefront reads the active automatic promotions and
checks a coupon against a basket (`/apply-coupon/`: the discount it gives, or 422
`coupon_not_applicable` / 409 `promotion_exhausted` / 409 `coupon_not_combinable` with the reason
in details.code)."""

from __future__ import annotations

from marshmallow import Schema, fields, post_load, validate

from app.core.errors import CoreError
from app.pricing import services as pricing
from app.pricing.errors import PricingError
from app.pricing.inputs import CouponQuestion
from app.promotions import services
from app.promotions.errors import PromotionError
from app.promotions.inputs import NewPromotion
from app.promotions.models import FUNDERS, KINDS
from app.security import roles
from app.security.errors import SecurityError
from app.sellers.errors import SellerError
from storefront_api.common import (
    Blueprint,
    PageArgs,
    current_actor,
    document_errors,
    page_schema,
    require_roles,
)
from storefront_api.errors import ApiError
from storefront_api.fields import MAX_MONEY, an_id, decimal_in, decimal_out, money
from storefront_api.pricing_schemas import DestinationSchema, lines_field

blp = Blueprint(
    "promotions", __name__, url_prefix="/api/v1/promotions", description="Promotions and coupons"
)

managers = require_roles(roles.ADMIN, roles.SUPER_ADMIN, roles.SELLER)


def _ids(**kwargs) -> fields.List:
    return fields.List(an_id(), validate=validate.Length(max=500), load_default=list, **kwargs)


class PromotionFieldsSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=5000))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    value = decimal_in(
        0,
        MAX_MONEY,
        load_default=0,
        metadata={
            "description": "percentage: percent off; fixed_amount: amount off; buy_x_get_y: percent off the "
            "free items (100 = free); free_shipping: unused"
        },
    )
    buy_quantity = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=1000)
    )
    get_quantity = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=1000)
    )
    code = fields.String(
        allow_none=True,
        validate=validate.Length(min=3, max=64),
        metadata={"description": "Coupon code (case-insensitive); none: automatic promotion"},
    )
    min_subtotal = decimal_in(0, MAX_MONEY, allow_none=True)
    product_ids = _ids()
    category_ids = _ids(metadata={"description": "A category covers its descendants"})
    seller_ids = _ids()
    customer_role = fields.String(allow_none=True, validate=validate.OneOf(services.CUSTOMER_ROLES))
    first_order_only = fields.Boolean(load_default=False)
    starts_at = fields.AwareDateTime(allow_none=True)
    ends_at = fields.AwareDateTime(allow_none=True)
    usage_limit = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1)
    )
    usage_limit_per_customer = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1)
    )
    stackable = fields.Boolean(load_default=True)
    priority = fields.Integer(
        strict=True, load_default=0, validate=validate.Range(min=-1000, max=1000)
    )
    is_active = fields.Boolean(load_default=True)


class PromotionSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    kind = fields.String(required=True, metadata={"enum": list(KINDS)})
    value = decimal_out(required=True)
    buy_quantity = fields.Integer(allow_none=True)
    get_quantity = fields.Integer(allow_none=True)
    code = fields.String(allow_none=True)
    min_subtotal = money(allow_none=True)
    product_ids = fields.List(fields.Integer(), required=True)
    category_ids = fields.List(fields.Integer(), required=True)
    seller_ids = fields.List(fields.Integer(), required=True)
    customer_role = fields.String(allow_none=True)
    first_order_only = fields.Boolean(required=True)
    starts_at = fields.DateTime(allow_none=True)
    ends_at = fields.DateTime(allow_none=True)
    usage_limit = fields.Integer(allow_none=True)
    usage_limit_per_customer = fields.Integer(allow_none=True)
    uses_count = fields.Integer(required=True)
    stackable = fields.Boolean(required=True)
    priority = fields.Integer(required=True)
    funded_by = fields.String(required=True, metadata={"enum": list(FUNDERS)})
    seller_id = fields.Integer(allow_none=True)
    is_active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class PublicPromotionSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    kind = fields.String(required=True)
    value = decimal_out(required=True)
    buy_quantity = fields.Integer(allow_none=True)
    get_quantity = fields.Integer(allow_none=True)
    min_subtotal = money(allow_none=True)
    product_ids = fields.List(fields.Integer(), required=True)
    category_ids = fields.List(fields.Integer(), required=True)
    seller_ids = fields.List(fields.Integer(), required=True)
    customer_role = fields.String(allow_none=True)
    first_order_only = fields.Boolean(required=True)
    starts_at = fields.DateTime(allow_none=True)
    ends_at = fields.DateTime(allow_none=True)
    funded_by = fields.String(required=True)
    seller_id = fields.Integer(allow_none=True)


class PromotionListArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf(KINDS))
    active = fields.Boolean()


class ApplyCouponSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    lines = lines_field()
    destination = fields.Nested(DestinationSchema, allow_none=True)

    @post_load
    def _question(self, data, **kwargs) -> CouponQuestion:
        return CouponQuestion(
            code=data["code"], lines=tuple(data["lines"]), destination=data.get("destination")
        )


class CouponLineSchema(Schema):
    variant_id = fields.Integer(required=True)
    discount = money(required=True)


class CouponResultSchema(Schema):
    code = fields.String(required=True)
    promotion_id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    discount_total = money(
        required=True, metadata={"description": "what this coupon takes off (lines and shipping)"}
    )
    free_shipping = fields.Boolean(required=True)
    lines = fields.List(fields.Nested(CouponLineSchema), required=True)
    subtotal = money(required=True)
    basket_discount_total = money(
        required=True, metadata={"description": "item discounts of every promotion"}
    )
    shipping_total = money(required=True)
    tax_total = money(required=True)
    total = money(required=True)


@blp.route("/", methods=["GET"])
@managers
@blp.arguments(PromotionListArgs, location="query")
@blp.response(200, page_schema(PromotionSchema))
@document_errors(blp, SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.VALIDATION_ERROR)
def list_promotions(args):
    """Admins: every promotion of the storefront; sellers: their own."""
    return services.list_promotions(
        current_actor(),
        page=args["page"],
        page_size=args["page_size"],
        kind=args.get("kind"),
        active=args.get("active"),
    )


@blp.route("/", methods=["POST"])
@managers
@blp.arguments(PromotionFieldsSchema)
@blp.response(201, PromotionSchema)
@document_errors(
    blp,
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    SellerError.SELLER_NOT_APPROVED,
    PromotionError.COUPON_CODE_TAKEN,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
)
def create_promotion(data):
    """Admins create platform promotions; sellers create their own, funded by them (409
    coupon_code_taken when the code is used already)."""
    return services.create_promotion(current_actor(), NewPromotion(**data))


@blp.route("/<int:promotion_id>/", methods=["GET"])
@managers
@blp.response(200, PromotionSchema)
@document_errors(blp, SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.NOT_FOUND)
def get_promotion(promotion_id):
    """One promotion (sellers: only their own)."""
    return services.get_promotion(current_actor(), promotion_id)


@blp.route("/apply-coupon/", methods=["POST"])
@blp.arguments(ApplyCouponSchema)
@blp.response(200, CouponResultSchema)
@document_errors(
    blp,
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    PromotionError.PROMOTION_EXHAUSTED,
    PricingError.COUPON_NOT_COMBINABLE,
    CoreError.VALIDATION_ERROR,
    PricingError.COUPON_NOT_APPLICABLE,
    ApiError.RATE_LIMITED,
    optional_auth=True,
)
def apply_coupon(data):
    """What a coupon takes off a basket (automatic promotions applied too)."""
    return pricing.apply_coupon(current_actor(optional=True), data)


@blp.route("/active/", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(PublicPromotionSchema, name="PublicPromotionPage"))
@document_errors(blp, CoreError.VALIDATION_ERROR)
def active_promotions(args):
    """Live automatic promotions (public)."""
    return services.active_promotions(page=args["page"], page_size=args["page_size"])
