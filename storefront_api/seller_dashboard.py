"""/api/v1/sellers/me/dashboard: the signed-in seller's figures over a period (sales, orders, top
products, low stock, the work waiting), compared with the period before it.

Seller role with an approved seller profile only (another role: 403 forbidden; a profile not
approved yet: 403 seller_not_approved). Every figure is the caller's own; what each means is
app.dashboards' docstring, summed up in the schemas' descriptions.
"""

from __future__ import annotations

from marshmallow import Schema, fields, post_load

from app import dashboards
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
from storefront_api.seller_ledger import BalanceSchema, in_currency

blp = Blueprint(
    "seller_dashboard",
    __name__,
    url_prefix="/api/v1/sellers/me/dashboard",
    description="The signed-in seller's dashboard: sales, orders, top products, low stock",
)

seller_only = require_roles(roles.SELLER)


def _errors(*errors):
    """The caller's own figures: 401 without a token, 403 for another role or an unapproved
    seller."""
    return document_errors(
        blp,
        SecurityError.UNAUTHORIZED,
        CoreError.FORBIDDEN,
        SellerError.SELLER_NOT_APPROVED,
        *errors,
    )


# --- schemas -------------------------------------------------------------------------------------


class PeriodArgs(Schema):
    """The period, whole UTC days: `from` to `to` inclusive (default: the last 30 days to today;
    30 days from `from` or up to `to` when only one is given; at most 366 days)."""

    start = fields.Date(data_key="from", load_default=None, metadata={"example": "2026-11-01"})
    end = fields.Date(data_key="to", load_default=None, metadata={"example": "2026-11-30"})

    @post_load
    def _period(self, data, **kwargs) -> dashboards.Period:
        return dashboards.Period.of(data["start"], data["end"])


class PeriodSchema(ViewSchema):
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")
    days = fields.Integer(required=True)


class SalesSchema(ViewSchema):
    gross = money(required=True, metadata={"description": "totals of the sub-orders paid"})
    refunded = money(required=True, metadata={"description": "what was paid back of them"})
    commission = money(
        required=True,
        metadata={"description": "the platform's commission on what was not refunded"},
    )
    net = money(required=True, metadata={"description": "gross - refunded - commission"})
    orders = fields.Integer(required=True, metadata={"description": "sub-orders paid"})
    average_order_value = money(required=True)


class SalesComparisonSchema(ViewSchema):
    currency = fields.String(required=True, metadata={"example": "USD"})
    current = fields.Nested(SalesSchema, required=True)
    previous = fields.Nested(SalesSchema, required=True)
    gross_change_pct = decimal_out(
        allow_none=True, required=True, metadata={"description": "null: nothing sold before"}
    )
    orders_change_pct = decimal_out(allow_none=True, required=True)


class DaySalesSchema(ViewSchema):
    day = fields.Date(required=True)
    currency = fields.String(required=True)
    gross = money(required=True)
    orders = fields.Integer(required=True)


class ProductSalesSchema(ViewSchema):
    product_id = fields.Integer(allow_none=True, required=True)
    title = fields.String(required=True)
    currency = fields.String(required=True)
    revenue = money(required=True)
    units = fields.Integer(required=True)


class TopProductsSchema(ViewSchema):
    by_revenue = fields.List(fields.Nested(ProductSalesSchema), required=True)
    by_units = fields.List(fields.Nested(ProductSalesSchema), required=True)


class LowStockItemSchema(ViewSchema):
    stock_level_id = fields.Integer(required=True)
    sku = fields.String(required=True)
    title = fields.String(required=True)
    warehouse = fields.String(required=True)
    available = fields.Integer(required=True, metadata={"description": "on hand - reserved"})
    reorder_point = fields.Integer(required=True)


class LowStockSchema(ViewSchema):
    total = fields.Integer(required=True, metadata={"description": "stock levels at or below"})
    items = fields.List(fields.Nested(LowStockItemSchema), required=True)


class WaitingSubOrderSchema(ViewSchema):
    sub_order_id = fields.Integer(required=True)
    order_id = fields.Integer(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True)
    currency = fields.String(required=True)
    total = money(required=True)
    placed_at = fields.AwareDateTime(required=True)


class ActionsSchema(ViewSchema):
    to_process = fields.Integer(required=True, metadata={"description": "sub-orders paid"})
    to_ship = fields.Integer(required=True, metadata={"description": "sub-orders processing"})
    refund_requests = fields.Integer(required=True, metadata={"description": "waiting a decision"})
    recent = fields.List(fields.Nested(WaitingSubOrderSchema), required=True)


class PayableNowSchema(ViewSchema):
    currency = fields.String(required=True)
    amount = in_currency("amount", metadata={"description": "what the job would pay now"})
    would_pay = fields.Boolean(required=True)
    reason = fields.String(
        allow_none=True,
        metadata={"description": "why it would not: no_bank_account, below_minimum, ..."},
    )


class NextPayoutSchema(ViewSchema):
    run_at = fields.DateTime(required=True, metadata={"description": "the payout job's next run"})
    currencies = fields.List(fields.Nested(PayableNowSchema), required=True)


class SellerDashboardSchema(ViewSchema):
    currency = fields.String(required=True, metadata={"description": "the shop's own currency"})
    period = fields.Nested(PeriodSchema, required=True)
    previous_period = fields.Nested(PeriodSchema, required=True)
    sales = fields.List(
        fields.Nested(SalesComparisonSchema),
        required=True,
        metadata={"description": "one entry per currency sold in (never added together)"},
    )
    sales_by_day = fields.List(fields.Nested(DaySalesSchema), required=True)
    orders_by_status = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "every sub-order placed in the period, by status"},
    )
    top_products = fields.Nested(TopProductsSchema, required=True)
    low_stock = fields.Nested(LowStockSchema, required=True)
    actions = fields.Nested(ActionsSchema, required=True)
    balances = fields.List(
        fields.Nested(BalanceSchema),
        required=True,
        metadata={"description": "the seller's money by state, one entry per currency"},
    )
    next_payout = fields.Nested(NextPayoutSchema, allow_none=True)


# --- routes --------------------------------------------------------------------------------------


@blp.route("/", methods=["GET"])
@seller_only
@blp.arguments(PeriodArgs, location="query", as_kwargs=False)
@blp.response(200, SellerDashboardSchema)
@_errors(CoreError.VALIDATION_ERROR)
def get_dashboard(period):
    """The caller's figures over the period and the one before it."""
    return dashboards.seller_dashboard(current_actor(), period)


@blp.route("/top-products/", methods=["GET"])
@seller_only
@blp.arguments(PeriodArgs, location="query", as_kwargs=False)
@blp.response(200, TopProductsSchema)
@_errors(CoreError.VALIDATION_ERROR)
def get_top_products(period):
    """The caller's best sellers of the period: five by revenue, five by units."""
    return dashboards.seller_top_products(current_actor(), period)


@blp.route("/low-stock/", methods=["GET"])
@seller_only
@blp.response(200, LowStockSchema)
@_errors()
def get_low_stock():
    """The caller's stock levels at or below their reorder point, lowest first (ten shown)."""
    return dashboards.seller_low_stock(current_actor())
