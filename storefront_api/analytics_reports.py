"""/api/v1/analytics/reports: the analytics figures as CSV or XLSX files (analytics.reports).

`GET /` lists the reports; `GET /<report>/?from=&to=&format=` answers one: a report of at most
DATA_EXPORT_SYNC_MAX_ROWS rows (5,000 by default) is the file itself (200, streamed); a larger one
is a background export (202, with a status_url whose answer carries the download_url once done;
the file shows in the admin's "My exports" and is purged like every export).

The figures are the Analytics API's (and the inventory analytics', for inventory-snapshot), with
their scoping: Admins the shop's, a Seller exactly its own; any other role 403, no token 401; a bad
period, format or option 422, an unknown report 404. Money per currency (a currency column beside
it on each row), dates in the tenant's local days, formulas neutralised.
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, stream_with_context
from marshmallow import Schema, fields, validate

from analytics import metrics, reports
from app.core.errors import CoreError
from app.dataio import exports
from app.events.bus import get_bus
from app.security import roles
from app.security.errors import SecurityError
from app.sellers.errors import SellerError
from storefront_api.common import (
    Blueprint,
    PageArgs,
    ViewSchema,
    current_actor,
    document_errors,
    require_roles,
)
from storefront_api.data_exports import ExportJobSchema, export_job

blp = Blueprint(
    "analytics_reports",
    __name__,
    url_prefix="/api/v1/analytics/reports",
    description="Analytics reports as CSV or XLSX files (the shop's for admins, a seller's own)",
)

staff_or_seller = require_roles(roles.ADMIN, roles.SUPER_ADMIN, roles.SELLER)


class ReportArgs(Schema):
    start = fields.Date(data_key="from", load_default=None, metadata={"example": "2026-11-01"})
    end = fields.Date(data_key="to", load_default=None, metadata={"example": "2026-11-30"})
    format = fields.String(
        load_default="csv",
        validate=validate.OneOf(exports.FORMATS),
        metadata={"description": "csv (UTF-8 with a byte order mark) or xlsx"},
    )
    limit = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=metrics.MAX_LIMIT),
        metadata={"description": "products: rows per list (default 10); no other report"},
    )


class ReportInfoSchema(ViewSchema):
    name = fields.String(required=True, metadata={"example": "sales-by-day"})
    title = fields.String(required=True)
    description = fields.String(required=True)
    max_days = fields.Integer(required=True, metadata={"description": "the longest period"})
    options = fields.List(fields.String(), required=True)


class ReportListSchema(Schema):
    items = fields.List(fields.Nested(ReportInfoSchema), required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)


@blp.route("/", methods=["GET"])
@staff_or_seller
@blp.arguments(PageArgs, location="query", as_kwargs=True)
@blp.response(200, ReportListSchema)
@document_errors(blp, SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.VALIDATION_ERROR)
def list_reports(page, page_size):
    """The reports there are, their options and longest period."""
    found = reports.catalogue()
    items = found[(page - 1) * page_size : page * page_size]
    return {"items": items, "page": page, "page_size": page_size, "total": len(found)}


@blp.route("/<report>/", methods=["GET"])
@staff_or_seller
@blp.arguments(ReportArgs, location="query")
@blp.response(200, description="The report's file (text/csv or an XLSX workbook), streamed")
@blp.alt_response(
    202,
    schema=ExportJobSchema,
    description="More rows than DATA_EXPORT_SYNC_MAX_ROWS: the file is made by a job",
)
@document_errors(
    blp,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    SellerError.SELLER_NOT_APPROVED,
    CoreError.NOT_FOUND,
    CoreError.VALIDATION_ERROR,
)
def download_report(args, report):
    """One report for the period (local days, `from` to `to` inclusive; default the last 30)."""
    actor, fmt = current_actor(), args["format"]
    spec = reports.report_of(report)
    options = reports.options_of(spec, args["start"], args["end"], args["limit"])
    table = reports.report_table(actor, report, options)
    if table.count > current_app.config["DATA_EXPORT_SYNC_MAX_ROWS"]:
        export = exports.request_export(
            actor.user_id, reports.ANALYTICS_REPORT, report, options.params(), fmt, table.title
        )
        get_bus().runner.enqueue("jobs.tasks.run_data_export", export.id, queue="low")
        return jsonify(ExportJobSchema().dump(export_job(export))), 202
    body = exports.chunks(fmt, table.header, table.rows, table.title)
    return Response(
        stream_with_context(exports.in_this_scope(body)),
        mimetype=exports.MIMETYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{exports.file_name(table.title, fmt)}"'
        },
    )
