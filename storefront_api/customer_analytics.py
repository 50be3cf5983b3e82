"""/api/v1/customer-analytics: the customer models' answers for the shop's staff: segments (and a
segment's customers), the behaviour summary, lifetime values and churn risks, read from the ACTIVE
model version's predictions (analytics/ml/customers; the models are trained by the nightly job or
the admin's "Train now", never by a request).

Admin role of the tenant only: customers belong to the platform, not to a seller (a customer buys
from many sellers, and a seller must not see who buys from its competitors), so a Seller gets 403
like every other role; 401 without a token. No model trained yet for the shop: 409 `conflict` with
details {"model": kind, "reason": "not_trained"} (an empty list means a model that found nobody).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from analytics.ml.customers import read
from app.core.errors import CoreError
from app.security import roles
from app.security.errors import SecurityError
from storefront_api.common import (
    Blueprint,
    PageArgs,
    ViewSchema,
    document_errors,
    page_schema,
    require_roles,
)
from storefront_api.fields import money

blp = Blueprint(
    "customer_analytics",
    __name__,
    url_prefix="/api/v1/customer-analytics",
    description="Customer segments, behaviour, lifetime value and churn risk (the shop's Admins)",
)

admin_only = require_roles(roles.ADMIN)


def _errors(*errors):
    """401 without a token, 403 for any role but Admin, 409 when no model is trained yet."""
    return document_errors(
        blp, SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.CONFLICT, *errors
    )


# --- schemas -------------------------------------------------------------------------------------


class ModelVersionSchema(ViewSchema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    version = fields.Integer(required=True)
    algorithm = fields.String(required=True)
    trained_at = fields.AwareDateTime(required=True)
    window_start = fields.AwareDateTime(allow_none=True)
    window_end = fields.AwareDateTime(allow_none=True)
    rows = fields.Integer(required=True, metadata={"description": "customers it was trained on"})
    features = fields.List(fields.String(), required=True)
    metrics = fields.Dict(required=True, metadata={"description": "on the holdout"})
    baseline = fields.Dict(
        required=True, metadata={"description": "the naive baseline's, on the same data"}
    )


class CustomerSchema(Schema):
    """A customer and their prediction row (`row`: dotted attributes read it)."""

    user_id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)


class SegmentSchema(ViewSchema):
    name = fields.String(
        required=True, metadata={"example": "champions", "description": "named from its centroid"}
    )
    size = fields.Integer(required=True)
    averages = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        required=True,
        metadata={"description": "its customers' average features (money: main currency)"},
    )
    centroid_z = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        required=True,
        metadata={"description": "the centroid in standard deviations from the average customer"},
    )


class SegmentArgs(PageArgs):
    segment = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "a segment's name: list its customers instead (paginated)"},
    )


class SegmentMemberSchema(CustomerSchema):
    segment = fields.Function(lambda o: o["row"].segment, required=True)
    recency_days = fields.Function(lambda o: o["row"].recency_days)
    frequency = fields.Function(lambda o: o["row"].frequency)
    monetary = money(attribute="row.monetary")
    currency = fields.Function(lambda o: o["row"].currency)
    tenure_days = fields.Function(lambda o: o["row"].tenure_days)


SegmentMemberPage = page_schema(SegmentMemberSchema, "SegmentMemberPage")


class SegmentsSchema(ViewSchema):
    model = fields.Nested(ModelVersionSchema, required=True)
    segments = fields.List(fields.Nested(SegmentSchema), required=True)
    customers = fields.Nested(
        SegmentMemberPage,
        allow_none=True,
        metadata={"description": "with `?segment=`: its customers, biggest spenders first"},
    )


class BehaviourSchema(ViewSchema):
    segment = fields.String(allow_none=True, metadata={"description": "null: every customer"})
    customers = fields.Integer(required=True)
    averages = fields.Dict(required=True, metadata={"description": "money as decimal strings"})
    purchase_intervals = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "customers by their average days between orders"},
    )
    activity_mix = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "activity-log events of the last 90 days by type"},
    )


class BehaviorSchema(ViewSchema):
    model = fields.Nested(ModelVersionSchema, required=True)
    currency = fields.String(allow_none=True)
    overall = fields.Nested(BehaviourSchema, required=True)
    segments = fields.List(fields.Nested(BehaviourSchema), required=True)


class LifetimeValueSchema(CustomerSchema):
    predicted_value = money(attribute="row.predicted_value", required=True)
    currency = fields.Function(lambda o: o["row"].currency, required=True)
    horizon_days = fields.Function(lambda o: o["row"].horizon_days, required=True)
    past_value = money(attribute="row.past_value", required=True)
    frequency = fields.Function(lambda o: o["row"].frequency, required=True)


class ReasonSchema(Schema):
    feature = fields.String(required=True)
    label = fields.String(required=True, metadata={"example": "a long time since the last order"})
    contribution = fields.Float(required=True)


class ChurnRiskSchema(CustomerSchema):
    probability = fields.Function(lambda o: o["row"].probability, required=True)
    reasons = fields.Function(
        lambda o: o["row"].reasons,
        required=True,
        metadata={"description": "what raises the probability most, largest first (at most 3)"},
    )
    recency_days = fields.Function(lambda o: o["row"].recency_days, required=True)
    frequency = fields.Function(lambda o: o["row"].frequency, required=True)


def _ranked_page(item, name):
    return Schema.from_dict(
        {
            "model": fields.Nested(ModelVersionSchema, required=True),
            "items": fields.List(fields.Nested(item), required=True),
            "page": fields.Integer(required=True),
            "page_size": fields.Integer(required=True),
            "total": fields.Integer(required=True),
        },
        name=name,
    )


LifetimeValuePage = _ranked_page(LifetimeValueSchema, "LifetimeValuePage")
ChurnRiskPage = _ranked_page(ChurnRiskSchema, "ChurnRiskPage")


class ChurnArgs(PageArgs):
    min_probability = fields.Float(
        load_default=0.0,
        validate=validate.Range(min=0, max=1),
        metadata={"description": "only customers at least this likely to leave (0..1)"},
    )


def _with_model(version, page):
    return {
        "model": version,
        "items": page.items,
        "page": page.page,
        "page_size": page.page_size,
        "total": page.total,
    }


# --- routes --------------------------------------------------------------------------------------


@blp.route("/segments/", methods=["GET"])
@admin_only
@blp.arguments(SegmentArgs, location="query", as_kwargs=False)
@blp.response(200, SegmentsSchema)
@_errors(CoreError.VALIDATION_ERROR)
def get_segments(args):
    """The active segmentation: each segment's size and traits, and the model (its silhouette
    against the RFM split's); with `?segment=`, that segment's customers (paginated)."""
    answer = read.segments()
    if args["segment"] is not None:
        answer["customers"] = read.segment_customers(
            args["segment"], args["page"], args["page_size"]
        )
    return answer


@blp.route("/behavior/", methods=["GET"])
@admin_only
@blp.response(200, BehaviorSchema)
@_errors()
def get_behavior():
    """Behaviour by segment and overall: averages, days between orders, the activity mix."""
    return read.behavior()


@blp.route("/lifetime-value/", methods=["GET"])
@admin_only
@blp.arguments(PageArgs, location="query", as_kwargs=False)
@blp.response(200, LifetimeValuePage)
@_errors(CoreError.VALIDATION_ERROR)
def get_lifetime_value(args):
    """Customers by predicted spend over the model's horizon (main currency), highest first;
    the model's holdout MAE against the mean-spend baseline."""
    version, page = read.lifetime_values(args["page"], args["page_size"])
    return _with_model(version, page)


@blp.route("/churn-prediction/", methods=["GET"])
@admin_only
@blp.arguments(ChurnArgs, location="query", as_kwargs=False)
@blp.response(200, ChurnRiskPage)
@_errors(CoreError.VALIDATION_ERROR)
def get_churn_prediction(args):
    """Customers by probability of placing no order in the model's horizon, likeliest first,
    with the top reasons; the model's ROC-AUC and Brier score against the naive baseline."""
    version, page = read.churn(args["min_probability"], args["page"], args["page_size"])
    return _with_model(version, page)
