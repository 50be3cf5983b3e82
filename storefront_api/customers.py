"""/api/v1/customers: the signed-in customer's own profile, addresses, wishlist, activity and analytics.

Customer and Premium Customer only (other roles: 403). Every resource is the caller's own; another
customer's address answers 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from marshmallow import Schema, fields, pre_dump, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from app import customer_analytics
from app.core.errors import CoreError
from app.customers import services
from app.customers.engagement_models import ACTIVITY_TYPES
from app.customers.errors import CustomerError
from app.customers.inputs import AddressInput, ProfileChanges
from app.security import roles
from app.security.errors import SecurityError
from storefront_api.common import (
    Blueprint,
    PageArgs,
    current_actor,
    document_errors,
    page_schema,
    require_roles,
)
from storefront_api.errors import ApiError
from storefront_api.fields import AddressSchema, an_id, decimal_out, money, phone

blp = Blueprint(
    "customers",
    __name__,
    url_prefix="/api/v1/customers",
    description="The signed-in customer's profile, addresses, wishlist and activity",
)

customer_only = require_roles(roles.CUSTOMER, roles.PREMIUM_CUSTOMER)

LANGUAGE = validate.Regexp(
    r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$", error="a language code such as en or pt-BR"
)
CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="an ISO 4217 code such as USD")


def _errors(*errors):
    """A customer's own resource: 401 without a token, 403 for another role."""
    return document_errors(blp, SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, *errors)


# --- schemas -------------------------------------------------------------------------------------


class StrictBoolean(fields.Boolean):
    """A JSON true or false only (marshmallow would also take 0, 1, "yes", ...)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise SchemaError("must be true or false")
        return value


def _in_the_past(value: dt.date) -> None:
    if not (dt.date(1900, 1, 1) <= value <= dt.datetime.now(dt.timezone.utc).date()):
        raise SchemaError("must be a date in the past (after 1900)")


class CustomerProfileSchema(Schema):
    id = fields.Integer(dump_only=True)
    user_id = fields.Integer(dump_only=True)
    email = fields.String(dump_only=True, attribute="user.email")
    first_name = fields.String(
        dump_only=True,
        attribute="user.first_name",
        metadata={"description": "Names live on the user account"},
    )
    last_name = fields.String(dump_only=True, attribute="user.last_name")
    phone = phone(allow_none=True)
    date_of_birth = fields.Date(
        allow_none=True,
        validate=_in_the_past,
        metadata={"description": "A date in the past, after 1900-01-01 (422 otherwise)"},
    )
    preferred_language = fields.String(allow_none=True, validate=LANGUAGE)
    preferred_currency = fields.String(allow_none=True, validate=CURRENCY)
    marketing_opt_in = StrictBoolean()
    loyalty_points = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class CustomerAddressSchema(AddressSchema):
    """A saved address: the postal fields of storefront_api.fields.AddressSchema and these."""

    id = fields.Integer(dump_only=True)
    label = fields.String(load_default="Home", validate=validate.Length(min=1, max=50))
    is_default = StrictBoolean(
        metadata={
            "description": "true makes it the default (exactly one address is the default; the first address always "
            "is). false is ignored: to move the default, set another address as default."
        }
    )
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class WishlistProductSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    slug = fields.String(required=True)
    status = fields.String(required=True)
    rating_avg = decimal_out(places=2, required=True, metadata={"example": "4.50"})
    rating_count = fields.Integer(required=True)


class WishlistItemSchema(Schema):
    id = fields.Integer(required=True)
    product_id = fields.Integer(required=True)
    product = fields.Nested(WishlistProductSchema, required=True)
    added_at = fields.DateTime(attribute="created_at", required=True)


class WishlistAddSchema(Schema):
    product_id = an_id(required=True)


class WishlistCheckSchema(Schema):
    product_id = fields.Integer(required=True)
    in_wishlist = fields.Boolean(required=True)
    added_at = fields.DateTime(allow_none=True)


class ActivityPayloadSchema(Schema):
    product_id = an_id()
    category_id = an_id()
    query = fields.String(validate=validate.Length(min=1, max=200))
    quantity = fields.Integer(strict=True, validate=validate.Range(min=1, max=10_000))
    referrer = fields.String(validate=validate.Length(max=500))


class LogActivitySchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(ACTIVITY_TYPES))
    payload = fields.Nested(
        ActivityPayloadSchema,
        load_default=dict,
        metadata={
            "description": "Required by type (422 otherwise): product_view, wishlist_add, "
            "wishlist_remove, add_to_cart: product_id; search: query; category_view: category_id. "
            "An unknown product or category: 404"
        },
    )

    @validates_schema
    def _payload_fits_type(self, data, **kwargs):
        kind, payload = data.get("type"), data.get("payload") or {}
        if kind in services.PRODUCT_ACTIVITIES and "product_id" not in payload:
            raise SchemaError({"payload": {"product_id": ["required for this activity type"]}})
        if kind == "search" and "query" not in payload:
            raise SchemaError({"payload": {"query": ["required for a search"]}})
        if kind == "category_view" and "category_id" not in payload:
            raise SchemaError({"payload": {"category_id": ["required for a category view"]}})


class CustomerActivitySchema(Schema):
    id = fields.Integer(required=True)
    type = fields.String(required=True)
    product_id = fields.Integer(allow_none=True)
    payload = fields.Dict(required=True)
    created_at = fields.DateTime(required=True)


class CustomerActivityArgs(PageArgs):
    type = fields.String(validate=validate.OneOf(ACTIVITY_TYPES))


class CustomerAnalyticsSchema(Schema):
    wishlist_count = fields.Integer(required=True)
    reviews_count = fields.Integer(required=True)
    activity_counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    orders_tracked = fields.Boolean(
        required=True,
        metadata={
            "description": "Always true now that orders exist: orders_count counts paid orders, total_spent is "
            "what they cost minus refunds"
        },
    )
    orders_count = fields.Integer(required=True)
    total_spent = money(required=True, metadata={"example": "0.00"})
    orders_note = fields.String(required=True)

    @pre_dump
    def _orders_explained(self, figures, **kwargs):
        """app.customer_analytics.CustomerFigures, and what its order figures mean."""
        return {
            **asdict(figures),
            "orders_tracked": True,
            "orders_note": "paid orders of this storefront; spend is what was paid minus what was refunded",
        }


# --- profile -------------------------------------------------------------------------------------


@blp.route("/profile/", methods=["GET"])
@customer_only
@blp.response(200, CustomerProfileSchema)
@_errors()
def get_profile():
    """The caller's customer profile (created on first use)."""
    return services.get_profile(current_actor())


@blp.route("/profile/", methods=["PUT"])
@customer_only
@blp.arguments(CustomerProfileSchema, required=False)
@blp.response(200, CustomerProfileSchema)
@_errors(ApiError.BAD_REQUEST, CoreError.VALIDATION_ERROR, ApiError.RATE_LIMITED)
def put_profile(data):
    """Update phone, date of birth, preferred language and currency, marketing consent."""
    return services.update_profile(current_actor(), ProfileChanges(**(data or {})))


# --- addresses -----------------------------------------------------------------------------------


@blp.route("/addresses/", methods=["GET"])
@customer_only
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(CustomerAddressSchema))
@_errors(CoreError.VALIDATION_ERROR)
def list_addresses(args):
    """The caller's addresses, the default first."""
    return services.list_addresses(current_actor(), args["page"], args["page_size"])


@blp.route("/addresses/", methods=["POST"])
@customer_only
@blp.arguments(CustomerAddressSchema)
@blp.response(201, CustomerAddressSchema)
@_errors(
    ApiError.BAD_REQUEST,
    CustomerError.DUPLICATE_LABEL,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
)
def create_address(data):
    """Add an address (labels are unique per customer: 409 on a duplicate)."""
    return services.create_address(current_actor(), AddressInput(**data))


@blp.route("/addresses/<int:address_id>/", methods=["GET"])
@customer_only
@blp.response(200, CustomerAddressSchema)
@_errors(CoreError.NOT_FOUND)
def get_address(address_id):
    """One of the caller's addresses."""
    return services.get_address(current_actor(), address_id)


@blp.route("/addresses/<int:address_id>/", methods=["PUT"])
@customer_only
@blp.arguments(CustomerAddressSchema)
@blp.response(200, CustomerAddressSchema)
@_errors(
    ApiError.BAD_REQUEST,
    CoreError.NOT_FOUND,
    CustomerError.DUPLICATE_LABEL,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
)
def update_address(data, address_id):
    """Replace one of the caller's addresses."""
    return services.update_address(current_actor(), address_id, AddressInput(**data))


@blp.route("/addresses/<int:address_id>/", methods=["DELETE"])
@customer_only
@blp.response(204)
@_errors(CoreError.NOT_FOUND, ApiError.RATE_LIMITED)
def delete_address(address_id):
    """Delete one of the caller's addresses (if it was the default, the oldest other one becomes it)."""
    services.delete_address(current_actor(), address_id)


@blp.route("/addresses/<int:address_id>/set-default/", methods=["POST"])
@customer_only
@blp.response(200, CustomerAddressSchema)
@_errors(CoreError.NOT_FOUND, ApiError.RATE_LIMITED)
def set_default_address(address_id):
    """Make this address the default; every other address of the caller stops being it."""
    return services.set_default_address(current_actor(), address_id)


# --- wishlist ------------------------------------------------------------------------------------


@blp.route("/wishlist/", methods=["GET"])
@customer_only
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(WishlistItemSchema))
@_errors(CoreError.VALIDATION_ERROR)
def list_wishlist(args):
    """The caller's wishlist, the latest additions first."""
    return services.list_wishlist(current_actor(), args["page"], args["page_size"])


def _add(product_id: int):
    item, created = services.add_to_wishlist(current_actor(), product_id)
    return item, (201 if created else 200)


@blp.route("/wishlist/", methods=["POST"])
@customer_only
@blp.arguments(WishlistAddSchema)
@blp.response(201, WishlistItemSchema, description="Added")
@blp.alt_response(
    200, schema=WishlistItemSchema, description="Already in the wishlist (adding is idempotent)"
)
@_errors(
    ApiError.BAD_REQUEST, CoreError.NOT_FOUND, CoreError.VALIDATION_ERROR, ApiError.RATE_LIMITED
)
def add_to_wishlist(data):
    """Add an active product of this storefront to the wishlist."""
    return _add(data["product_id"])


@blp.route("/wishlist/items/<int:product_id>/", methods=["POST"])
@customer_only
@blp.response(201, WishlistItemSchema, description="Added")
@blp.alt_response(
    200, schema=WishlistItemSchema, description="Already in the wishlist (adding is idempotent)"
)
@_errors(CoreError.NOT_FOUND, ApiError.RATE_LIMITED)
def add_wishlist_item(product_id):
    """Add an active product of this storefront to the wishlist."""
    return _add(product_id)


@blp.route("/wishlist/items/<int:product_id>/", methods=["DELETE"])
@customer_only
@blp.response(204)
@_errors(CoreError.NOT_FOUND, ApiError.RATE_LIMITED)
def remove_wishlist_item(product_id):
    """Remove a product from the wishlist (404 if it is not in it)."""
    services.remove_from_wishlist(current_actor(), product_id)


@blp.route("/wishlist/check/<int:product_id>/", methods=["GET"])
@customer_only
@blp.response(200, WishlistCheckSchema)
@_errors(CoreError.NOT_FOUND)
def check_wishlist(product_id):
    """Whether a product of this storefront is in the caller's wishlist."""
    return services.wishlist_check(current_actor(), product_id)


# --- activity and analytics ----------------------------------------------------------------------


@blp.route("/activities/", methods=["GET"])
@customer_only
@blp.arguments(CustomerActivityArgs, location="query")
@blp.response(200, page_schema(CustomerActivitySchema))
@_errors(CoreError.VALIDATION_ERROR)
def list_activities(args):
    """The caller's recent activity (product views, searches, wishlist changes), newest first."""
    return services.list_activities(
        current_actor(), args["page"], args["page_size"], args.get("type")
    )


@blp.route("/log-activity/", methods=["POST"])
@customer_only
@blp.arguments(LogActivitySchema)
@blp.response(201, CustomerActivitySchema)
@_errors(
    ApiError.BAD_REQUEST, CoreError.NOT_FOUND, CoreError.VALIDATION_ERROR, ApiError.RATE_LIMITED
)
def log_activity(data):
    """Record a storefront event of the caller (the product or category it names must exist here)."""
    return services.log_activity(current_actor(), data["type"], data["payload"])


@blp.route("/analytics/", methods=["GET"])
@customer_only
@blp.response(200, CustomerAnalyticsSchema)
@_errors()
def get_analytics():
    """The caller's own figures: wishlist, reviews, activity by type (orders: not tracked yet)."""
    return customer_analytics.analytics(current_actor())
