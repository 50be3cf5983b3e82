"""/api/v1/reviews: public reading of approved reviews; customers write their own; Admins moderate.

One review per customer and product (409 already_reviewed on a second one). Helpful votes: once
per user (a second vote is 409 already_voted), never on one's own review (403 own_review).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.core.errors import CoreError
from app.reviews import services
from app.reviews.errors import ReviewError
from app.reviews.inputs import NewReview, ReviewChanges
from app.reviews.models import REVIEW_STATUSES
from app.security import roles
from app.security.errors import SecurityError
from storefront_api.common import (
    Blueprint,
    PageArgs,
    current_actor,
    document_errors,
    login_required,
    page_schema,
    require_roles,
)
from storefront_api.errors import ApiError
from storefront_api.fields import an_id

blp = Blueprint("reviews", __name__, url_prefix="/api/v1/reviews", description="Product reviews")

customer_only = require_roles(roles.CUSTOMER, roles.PREMIUM_CUSTOMER)
# the author (a customer) or a moderator (Admin, Super Admin); ownership is checked by the service
author_or_moderator = require_roles(
    roles.CUSTOMER, roles.PREMIUM_CUSTOMER, roles.ADMIN, roles.SUPER_ADMIN
)


def _errors(*errors, optional_auth: bool = False):
    return document_errors(blp, *errors, optional_auth=optional_auth)


class ReviewSchema(Schema):
    id = fields.Integer(required=True)
    product_id = fields.Integer(required=True)
    rating = fields.Integer(required=True)
    title = fields.String(required=True)
    body = fields.String(allow_none=True)
    status = fields.String(
        required=True, metadata={"description": "approved (shown), pending or hidden"}
    )
    verified_purchase = fields.Boolean(
        required=True,
        metadata={
            "description": "Whether the author bought the product: a paid order of theirs, not wholly "
            "refunded, held it when the review was written"
        },
    )
    helpful_count = fields.Integer(required=True)
    author_name = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class ReviewCreateSchema(Schema):
    product_id = an_id(required=True)
    rating = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=5))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(allow_none=True, validate=validate.Length(max=5000))


class ReviewUpdateSchema(Schema):
    """PUT: the author sends rating, title and body; a moderator sends only status. Fields left out
    keep their value (an empty body changes nothing)."""

    rating = fields.Integer(strict=True, validate=validate.Range(min=1, max=5))
    title = fields.String(validate=validate.Length(min=1, max=200))
    body = fields.String(allow_none=True, validate=validate.Length(max=5000))
    status = fields.String(
        validate=validate.OneOf(REVIEW_STATUSES),
        metadata={"description": "Moderators only: approve, hold or hide"},
    )


class ReviewPatchSchema(ReviewUpdateSchema):
    """PATCH: any subset of the fields."""


class ReviewListArgs(PageArgs):
    product_id = an_id(strict=False)
    rating = fields.Integer(validate=validate.Range(min=1, max=5))
    sort = fields.String(load_default="newest", validate=validate.OneOf(tuple(services.SORTS)))


@blp.route("/", methods=["GET"])
@blp.arguments(ReviewListArgs, location="query")
@blp.response(200, page_schema(ReviewSchema))
@_errors(CoreError.NOT_FOUND, CoreError.VALIDATION_ERROR)
def list_reviews(args):
    """Approved reviews of this storefront's active products (public)."""
    return services.list_reviews(
        product_id=args.get("product_id"),
        rating=args.get("rating"),
        sort=args["sort"],
        page=args["page"],
        page_size=args["page_size"],
    )


@blp.route("/", methods=["POST"])
@customer_only
@blp.arguments(ReviewCreateSchema)
@blp.response(201, ReviewSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    ReviewError.ALREADY_REVIEWED,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
)
def create_review(data):
    """Review an active product (once per product: 409 already_reviewed on a second review)."""
    return services.create_review(current_actor(), NewReview(**data))


@blp.route("/<int:review_id>/", methods=["GET"])
@blp.response(200, ReviewSchema)
@_errors(SecurityError.UNAUTHORIZED, CoreError.NOT_FOUND, optional_auth=True)
def get_review(review_id):
    """One review: an approved one (public), or the caller's own, or any (moderators)."""
    return services.get_review(review_id, current_actor(optional=True))


@blp.route("/<int:review_id>/", methods=["PUT"])
@author_or_moderator
@blp.arguments(ReviewUpdateSchema, required=False)
@blp.response(200, ReviewSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
)
def put_review(data, review_id):
    """Edit one's own review; a moderator sets its status."""
    return services.update_review(current_actor(), review_id, ReviewChanges(**(data or {})))


@blp.route("/<int:review_id>/", methods=["PATCH"])
@author_or_moderator
@blp.arguments(ReviewPatchSchema, required=False)
@blp.response(200, ReviewSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
)
def patch_review(data, review_id):
    """Edit some fields of one's own review; a moderator sets its status."""
    return services.update_review(current_actor(), review_id, ReviewChanges(**(data or {})))


@blp.route("/<int:review_id>/", methods=["DELETE"])
@author_or_moderator
@blp.response(204)
@_errors(
    SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.NOT_FOUND, ApiError.RATE_LIMITED
)
def delete_review(review_id):
    """Delete one's own review (moderators: any review of this storefront)."""
    services.delete_review(current_actor(), review_id)


@blp.route("/<int:review_id>/helpful/", methods=["POST"])
@login_required
@blp.response(200, ReviewSchema)
@_errors(
    SecurityError.UNAUTHORIZED,
    ReviewError.OWN_REVIEW,
    CoreError.NOT_FOUND,
    ReviewError.ALREADY_VOTED,
    ApiError.RATE_LIMITED,
)
def mark_helpful(review_id):
    """Find a review helpful: once per user (409 already_voted), not one's own (403 own_review)."""
    return services.mark_helpful(current_actor(), review_id)
