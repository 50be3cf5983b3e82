"""/api/v1/inventory/analytics: stock value (now and per day), turnover, days of cover, dead stock,
low stock and the demand model's reorder suggestions, per variant (paged) or grouped by warehouse
or seller.

Admins (and Super Admins at a storefront) see the storefront's stock, optionally one seller's
(`?seller_id=`); a seller exactly its own (naming another seller is a 404); anyone else 403, 401
without a token. What each figure means: analytics.inventory's docstring; the demand model:
analytics.ml.demand's.
"""

from __future__ import annotations

from marshmallow import fields, validate

from analytics import inventory
from app.core.errors import CoreError
from app.security import roles
from app.security.errors import SecurityError
from storefront_api.common import (
    Blueprint,
    PageArgs,
    ViewSchema,
    current_actor,
    document_errors,
    require_roles,
)
from storefront_api.fields import an_id, decimal_out, money

blp = Blueprint(
    "inventory_analytics",
    __name__,
    url_prefix="/api/v1/inventory/analytics",
    description="Inventory analytics: stock value, turnover, days of cover, dead and low stock, "
    "demand-based reorder suggestions (staff: the storefront's; a seller: its own)",
)

readers = require_roles(roles.SELLER, roles.ADMIN, roles.SUPER_ADMIN)


class AnalyticsArgs(PageArgs):
    start = fields.Date(
        data_key="from",
        load_default=None,
        metadata={"description": "first local day (default: 30 days up to today)"},
    )
    end = fields.Date(data_key="to", load_default=None, metadata={"description": "last local day"})
    by = fields.String(
        load_default="variant",
        validate=validate.OneOf(inventory.GROUPS),
        metadata={"description": "variant (paged), warehouse or seller"},
    )
    dead_days = fields.Integer(
        load_default=inventory.DEFAULT_DEAD_DAYS,
        validate=validate.Range(min=1, max=inventory.MAX_DEAD_DAYS),
        metadata={"description": "dead stock: no sale in this many days (default 90)"},
    )
    seller_id = an_id(strict=False, metadata={"description": "staff: one seller's stock"})


class InvPeriodSchema(ViewSchema):
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")
    days = fields.Integer(required=True)


class InvValueSchema(ViewSchema):
    currency = fields.String(required=True, metadata={"example": "USD"})
    value = money(required=True, metadata={"description": "units on hand x the variant's price"})
    units = fields.Integer(required=True)


class InvDayValueSchema(InvValueSchema):
    day = fields.Date(required=True)


class InvDemandSchema(ViewSchema):
    expected_daily_demand = decimal_out(required=True)
    lead_time_days = fields.Integer(required=True)
    service_level = decimal_out(required=True)
    safety_stock = fields.Integer(required=True)
    reorder_point = fields.Integer(
        required=True, metadata={"description": "demand over the lead time + safety stock"}
    )
    reorder_quantity = fields.Integer(required=True, metadata={"description": "30 days' demand"})


class InvRowSchema(ViewSchema):
    key = fields.Integer(
        required=True, metadata={"description": "the variant's, warehouse's or seller's id"}
    )
    label = fields.String(required=True)
    seller_id = fields.Integer(allow_none=True, required=True)
    stock_value = fields.List(fields.Nested(InvValueSchema), required=True)
    on_hand = fields.Integer(required=True)
    reserved = fields.Integer(required=True)
    available = fields.Integer(required=True)
    units_sold = fields.Integer(
        allow_none=True, required=True, metadata={"description": "null per warehouse"}
    )
    average_on_hand = decimal_out(allow_none=True, required=True)
    turnover = decimal_out(
        allow_none=True,
        required=True,
        metadata={"description": "units sold / average units on hand in the period"},
    )
    days_of_cover = decimal_out(
        allow_none=True,
        required=True,
        metadata={"description": "on hand / average daily units sold; null: nothing sold"},
    )
    low_stock = fields.Integer(required=True, metadata={"description": "stock levels low"})
    dead_stock = fields.Integer(required=True, metadata={"description": "stock levels dead"})
    last_sold_on = fields.Date(allow_none=True)
    sku = fields.String(allow_none=True)
    reorder_point = fields.Integer(allow_none=True)
    demand = fields.Nested(InvDemandSchema, allow_none=True)


class InvModelSchema(ViewSchema):
    version_id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    trained_at = fields.AwareDateTime(required=True)
    metrics = fields.Dict(required=True)
    baseline = fields.Dict(required=True)


class InventoryAnalyticsSchema(ViewSchema):
    today = fields.Date(required=True, metadata={"description": "in the storefront's time zone"})
    time_zone = fields.String(required=True)
    period = fields.Nested(InvPeriodSchema, required=True)
    by = fields.String(required=True)
    dead_days = fields.Integer(required=True)
    seller_id = fields.Integer(allow_none=True, required=True)
    stock_value = fields.List(fields.Nested(InvValueSchema), required=True)
    stock_value_series = fields.List(fields.Nested(InvDayValueSchema), required=True)
    snapshot_days = fields.Integer(required=True)
    totals = fields.Nested(InvRowSchema, required=True)
    dead_stock_value = fields.List(fields.Nested(InvValueSchema), required=True)
    demand_model = fields.Nested(InvModelSchema, allow_none=True, required=True)
    items = fields.List(fields.Nested(InvRowSchema), required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)


@blp.route("/", methods=["GET"])
@readers
@blp.arguments(AnalyticsArgs, location="query", as_kwargs=True)
@blp.response(200, InventoryAnalyticsSchema)
@document_errors(
    blp,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    CoreError.VALIDATION_ERROR,
)
def get_inventory_analytics(**args):
    """Stock value, turnover, days of cover, dead and low stock, reorder suggestions."""
    return inventory.inventory_analytics(current_actor(), **args)
