"""/api/v1/analytics: the shop's figures for Admins, a Seller's own for Sellers (same endpoints,
scoped), read from the daily aggregates (analytics.metrics; their meanings in
analytics.aggregates' docstring). Any other role 403, no token 401; a period that ends before it
starts or is too long (366 days at day granularity, 1096 at week or month) 422.

Periods are whole local days of the tenant (its time zone, UTC when unset), `from` to `to`
inclusive, default the last 30 days to today. Money is per currency, never added across them.
"""

from __future__ import annotations

from marshmallow import Schema, fields, post_load, validate

from analytics import metrics
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
from storefront_api.fields import decimal_out, money

blp = Blueprint(
    "analytics",
    __name__,
    url_prefix="/api/v1/analytics",
    description="Sales, products and customers analytics: the shop's (admins), a seller's own",
)

staff_or_seller = require_roles(roles.ADMIN, roles.SUPER_ADMIN, roles.SELLER)


def _errors():
    return document_errors(
        blp,
        SecurityError.UNAUTHORIZED,
        CoreError.FORBIDDEN,
        SellerError.SELLER_NOT_APPROVED,
        CoreError.VALIDATION_ERROR,
    )


# --- arguments ---------------------------------------------------------------------------------


class AnalyticsPeriodArgs(Schema):
    """`from`/`to`: local days of the shop, inclusive (default: the last 30 days to today)."""

    start = fields.Date(data_key="from", load_default=None, metadata={"example": "2026-11-01"})
    end = fields.Date(data_key="to", load_default=None, metadata={"example": "2026-11-30"})

    def _period(self, data, granularity: str = "day") -> metrics.Period:
        return metrics.period_of(data.pop("start"), data.pop("end"), granularity=granularity)

    @post_load
    def _with_period(self, data, **kwargs):
        data["period"] = self._period(data, data.get("granularity", "day"))
        return data


class AnalyticsSalesArgs(AnalyticsPeriodArgs):
    granularity = fields.String(
        load_default="day",
        validate=validate.OneOf(metrics.GRANULARITIES),
        metadata={"description": "day (period <= 366 days), week or month (<= 1096 days)"},
    )
    group_by = fields.String(
        load_default=None,
        validate=validate.OneOf(metrics.GROUPS),
        metadata={"description": "one series per seller, category or channel (none: one)"},
    )


class AnalyticsProductsArgs(AnalyticsPeriodArgs):
    limit = fields.Integer(
        load_default=metrics.DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=metrics.MAX_LIMIT),
        metadata={"description": "products per list (per currency for top_by_revenue)"},
    )


class AnalyticsCustomersArgs(AnalyticsPeriodArgs):
    granularity = fields.String(
        load_default="month",
        validate=validate.OneOf(metrics.GRANULARITIES),
        metadata={"description": "the acquisition's buckets"},
    )


# --- responses ---------------------------------------------------------------------------------


class AnalyticsPeriodSchema(ViewSchema):
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")
    days = fields.Integer(required=True)


def _change(value_field):
    class ChangeSchema(ViewSchema):
        current = value_field(allow_none=True, required=True)
        previous = value_field(allow_none=True, required=True)
        change = value_field(
            allow_none=True, required=True, metadata={"description": "current - previous"}
        )
        change_pct = decimal_out(
            allow_none=True,
            required=True,
            metadata={"description": "in percent of previous; null when previous is 0"},
        )

    return ChangeSchema


MoneyChange = _change(money)
CountChange = _change(fields.Integer)
RateChange = _change(decimal_out)
MoneyChange.__name__, CountChange.__name__ = "AnalyticsMoneyChange", "AnalyticsCountChange"
RateChange.__name__ = "AnalyticsRateChange"


class AnalyticsCurrencyFiguresSchema(ViewSchema):
    currency = fields.String(required=True, metadata={"example": "USD"})
    gmv = fields.Nested(MoneyChange, required=True, metadata={"description": "sales' totals"})
    net_revenue = fields.Nested(
        MoneyChange, required=True, metadata={"description": "gmv - refunded"}
    )
    orders = fields.Nested(
        CountChange,
        required=True,
        metadata={"description": "orders paid (a seller's: its sub-orders)"},
    )
    units = fields.Nested(CountChange, required=True)
    average_order_value = fields.Nested(MoneyChange, required=True)


class AnalyticsConversionSchema(ViewSchema):
    views = fields.Nested(CountChange, required=True)
    purchases = fields.Nested(
        CountChange, required=True, metadata={"description": "products bought (per order)"}
    )
    rate = fields.Nested(RateChange, required=True, metadata={"description": "purchases / views"})


class AnalyticsCustomerCountsSchema(ViewSchema):
    new = fields.Nested(CountChange, required=True, metadata={"description": "first purchase"})
    returning = fields.Nested(
        CountChange, required=True, metadata={"description": "bought before the period too"}
    )


class AnalyticsDashboardSchema(ViewSchema):
    period = fields.Nested(AnalyticsPeriodSchema, required=True)
    previous_period = fields.Nested(AnalyticsPeriodSchema, required=True)
    currencies = fields.List(fields.Nested(AnalyticsCurrencyFiguresSchema), required=True)
    conversion = fields.Nested(AnalyticsConversionSchema, required=True)
    customers = fields.Nested(AnalyticsCustomerCountsSchema, required=True)


class AnalyticsSalesPointSchema(ViewSchema):
    period_start = fields.Date(required=True)
    orders = fields.Integer(required=True)
    units = fields.Integer(required=True)
    gross = money(required=True)
    refunded = money(required=True)
    commission = money(required=True)
    net = money(required=True, metadata={"description": "gross - refunded - commission"})


class AnalyticsSalesSeriesSchema(ViewSchema):
    currency = fields.String(required=True)
    group = fields.String(allow_none=True, required=True)
    label = fields.String(allow_none=True, required=True)
    totals = fields.Nested(AnalyticsSalesPointSchema, required=True)
    points = fields.List(fields.Nested(AnalyticsSalesPointSchema), required=True)


class AnalyticsSalesSchema(ViewSchema):
    period = fields.Nested(AnalyticsPeriodSchema, required=True)
    granularity = fields.String(required=True)
    group_by = fields.String(allow_none=True, required=True)
    series = fields.List(fields.Nested(AnalyticsSalesSeriesSchema), required=True)


class AnalyticsProductFiguresSchema(ViewSchema):
    product_id = fields.Integer(required=True)
    title = fields.String(allow_none=True, required=True)
    currency = fields.String(allow_none=True, required=True)
    revenue = money(required=True)
    units = fields.Integer(required=True)
    orders = fields.Integer(required=True)
    units_refunded = fields.Integer(required=True)
    views = fields.Integer(required=True)
    view_to_purchase_rate = decimal_out(allow_none=True, required=True)
    refund_rate = decimal_out(allow_none=True, required=True)


class AnalyticsProductsSchema(ViewSchema):
    period = fields.Nested(AnalyticsPeriodSchema, required=True)
    limit = fields.Integer(required=True)
    top_by_revenue = fields.List(fields.Nested(AnalyticsProductFiguresSchema), required=True)
    top_by_units = fields.List(fields.Nested(AnalyticsProductFiguresSchema), required=True)
    slow_movers = fields.List(fields.Nested(AnalyticsProductFiguresSchema), required=True)
    views = fields.Integer(required=True)
    purchases = fields.Integer(required=True)
    view_to_purchase_rate = decimal_out(allow_none=True, required=True)
    units = fields.Integer(required=True)
    units_refunded = fields.Integer(required=True)
    refund_rate = decimal_out(allow_none=True, required=True)


class AnalyticsAcquisitionSchema(ViewSchema):
    period_start = fields.Date(required=True)
    new_customers = fields.Integer(required=True)


class AnalyticsCohortSchema(ViewSchema):
    month = fields.Date(required=True)
    customers = fields.Integer(required=True)
    active = fields.List(fields.Integer(), required=True)
    retention = fields.List(decimal_out(allow_none=True), required=True)


class AnalyticsCustomersSchema(ViewSchema):
    period = fields.Nested(AnalyticsPeriodSchema, required=True)
    granularity = fields.String(required=True)
    acquisition = fields.List(fields.Nested(AnalyticsAcquisitionSchema), required=True)
    cohorts = fields.List(fields.Nested(AnalyticsCohortSchema), required=True)
    customers = fields.Integer(required=True)
    repeat_customers = fields.Integer(required=True)
    repeat_rate = decimal_out(allow_none=True, required=True)


# --- routes ------------------------------------------------------------------------------------


@blp.route("/dashboard/", methods=["GET"])
@staff_or_seller
@blp.arguments(AnalyticsPeriodArgs, location="query", as_kwargs=False)
@blp.response(200, AnalyticsDashboardSchema)
@_errors()
def get_dashboard(args):
    """Per currency GMV, net revenue, orders, units, average order value; conversion from
    product views to purchases; new and returning customers: each with the previous period."""
    return metrics.dashboard(current_actor(), args["period"])


@blp.route("/sales/", methods=["GET"])
@staff_or_seller
@blp.arguments(AnalyticsSalesArgs, location="query", as_kwargs=False)
@blp.response(200, AnalyticsSalesSchema)
@_errors()
def get_sales(args):
    """Sales series per currency by day, week or month, optionally one per seller, category or
    channel (category series: the category's lines, no shipping)."""
    return metrics.sales(current_actor(), args["period"], args["granularity"], args["group_by"])


@blp.route("/products/", methods=["GET"])
@staff_or_seller
@blp.arguments(AnalyticsProductsArgs, location="query", as_kwargs=False)
@blp.response(200, AnalyticsProductsSchema)
@_errors()
def get_products(args):
    """Top sellers by revenue and units, slow movers, view-to-purchase and refund rates."""
    return metrics.products(current_actor(), args["period"], args["limit"])


@blp.route("/customers/", methods=["GET"])
@staff_or_seller
@blp.arguments(AnalyticsCustomersArgs, location="query", as_kwargs=False)
@blp.response(200, AnalyticsCustomersSchema)
@_errors()
def get_customers(args):
    """New customers per bucket, monthly retention cohorts, repeat rate (a seller: its own
    customers, those who bought from it)."""
    return metrics.customers(current_actor(), args["period"], args["granularity"])
