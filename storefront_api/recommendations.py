"""/api/v1/products/<id>/recommendations/: "bought together" and "similar items" for a product
page, from the tenant's active recommendations model (analytics.ml.recommendations says what each
list means and how it was trained and measured).

Public like the product pages (guests allowed). Only products the storefront shows are answered
and recommended (active, of a seller not suspended: the catalog's rule); another product is a 404.
A product without a list of its own (new, never bought with another) answers the shop's popular
products and says so (`"source": "popular"`); before any model was trained the list is empty
(`"source": "none"`).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from analytics.ml import recommendations
from app.core.errors import CoreError
from storefront_api.common import Blueprint, ViewSchema, document_errors
from storefront_api.products import ProductCardSchema

blp = Blueprint(
    "product_recommendations",
    __name__,
    url_prefix="/api/v1/products",
    description="Recommendations for a product page: bought together, similar items",
)


class RecommendationArgs(Schema):
    kind = fields.String(
        load_default=recommendations.BOUGHT_TOGETHER,
        validate=validate.OneOf(recommendations.LISTS),
        metadata={"description": "bought_together (default) or similar"},
    )
    limit = fields.Integer(
        load_default=10, validate=validate.Range(min=1, max=recommendations.MAX_LIMIT)
    )


class RecommendedSchema(ViewSchema):
    score = fields.Float(
        required=True,
        metadata={"description": "cosine similarity (lists) or units sold in the window (popular)"},
    )
    product = fields.Nested(ProductCardSchema, required=True)


class RecommendationsSchema(ViewSchema):
    product_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    source = fields.String(
        required=True,
        metadata={
            "description": "the list answered: the kind asked for, popular (the product has "
            "none of its own) or none (no model trained yet)"
        },
    )
    model_version = fields.Integer(allow_none=True, required=True)
    items = fields.List(fields.Nested(RecommendedSchema), required=True)


@blp.route("/<int:product_id>/recommendations/", methods=["GET"])
@blp.arguments(RecommendationArgs, location="query", as_kwargs=True)
@blp.response(200, RecommendationsSchema)
@document_errors(blp, CoreError.NOT_FOUND, CoreError.VALIDATION_ERROR)
def get_recommendations(product_id, kind, limit):
    """Products to show beside a product: bought together with it, or similar to it"""
    return recommendations.recommendations_for(product_id, kind, limit)
