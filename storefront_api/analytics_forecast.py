"""/api/v1/analytics/forecast/: the daily sales forecast of the next days, per currency, from the
tenant's active sales_forecast model (analytics.ml.forecast says what is forecast, how the model
was trained and how it did against seasonal-naive).

An Admin reads the tenant's total, or a seller's with `seller_id`; a Seller its own only (another
seller's id is a 404, as any resource not its own); other roles 403; 401 without a token.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from analytics.ml import forecast
from app.core.errors import CoreError
from app.security import roles
from app.security.errors import SecurityError
from app.sellers.errors import SellerError
from storefront_api.common import (
    Blueprint,
    ViewSchema,
    current_actor,
    document_errors,
    require_roles,
)
from storefront_api.fields import money

blp = Blueprint(
    "analytics_forecast",
    __name__,
    url_prefix="/api/v1/analytics/forecast",
    description="The sales forecast: daily revenue of the next days per currency",
)


class ForecastArgs(Schema):
    seller_id = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "an admin: that seller's forecast (default: the tenant's)"},
    )
    days = fields.Integer(
        load_default=14,
        validate=validate.Range(min=1, max=forecast.HORIZON),
        metadata={"description": f"days ahead from today (UTC), 1 to {forecast.HORIZON}"},
    )


class ForecastDaySchema(ViewSchema):
    day = fields.Date(required=True)
    predicted = money(required=True, metadata={"description": "gross sales paid that day"})
    lower = money(required=True, metadata={"description": "about 90 % interval, low end"})
    upper = money(required=True)


class CurrencyForecastSchema(ViewSchema):
    currency = fields.String(required=True, metadata={"example": "USD"})
    days = fields.List(fields.Nested(ForecastDaySchema), required=True)


class ForecastSchema(ViewSchema):
    seller_id = fields.Integer(
        allow_none=True, required=True, metadata={"description": "null: the tenant's total"}
    )
    model_version = fields.Integer(
        allow_none=True, required=True, metadata={"description": "null: nothing trained yet"}
    )
    trained_at = fields.AwareDateTime(allow_none=True, required=True)
    series = fields.List(
        fields.Nested(CurrencyForecastSchema),
        required=True,
        metadata={"description": "one entry per currency (never added together)"},
    )


@blp.route("/", methods=["GET"])
@require_roles(roles.SELLER, roles.ADMIN, roles.SUPER_ADMIN)
@blp.arguments(ForecastArgs, location="query", as_kwargs=True)
@blp.response(200, ForecastSchema)
@document_errors(
    blp,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    SellerError.SELLER_NOT_APPROVED,
    CoreError.NOT_FOUND,
    CoreError.VALIDATION_ERROR,
)
def get_forecast(seller_id, days):
    """The daily sales forecast of the tenant, or of one seller, for the next days"""
    return forecast.forecast(current_actor(), seller_id, days)
