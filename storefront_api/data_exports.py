"""/api/v1/admin/data-management/export/<entity>/: products (one row per variant), stock levels,
customers and orders as CSV or XLSX, streamed. Staff export the whole storefront; a seller its own
products and stock (customers and orders: staff only, 403); never another tenant's rows.
Formulas are neutralised in both formats (app.dataio.exports).

More than DATA_EXPORT_SYNC_MAX_ROWS rows: 202 and a background job (a sync worker would time out
on a file that size); `exports/<id>/` tells its status and, once done, a download link signed for
the caller that expires after DATA_EXPORT_LINK_SECONDS (another user's token: 404; expired: 403)."""

from __future__ import annotations

from flask import Response, current_app, jsonify, send_file, stream_with_context, url_for
from marshmallow import Schema, fields, validate

from app.core.errors import CoreError
from app.dataio import exports
from app.dataio.models import DONE, ENTITY, EXPORT_STATUSES
from app.events.bus import get_bus
from app.security import roles
from app.security.errors import SecurityError
from storefront_api.common import Blueprint, current_actor, document_errors, require_roles

blp = Blueprint(
    "data_exports",
    __name__,
    url_prefix="/api/v1/admin/data-management",
    description="Exports of the storefront's data as CSV or XLSX (staff: the storefront's; a "
    "seller: its own products and stock)",
)

exporters = require_roles(roles.SELLER, roles.ADMIN, roles.SUPER_ADMIN)


class ExportArgs(Schema):
    format = fields.String(
        load_default="csv",
        validate=validate.OneOf(exports.FORMATS),
        metadata={"description": "csv (UTF-8 with a byte order mark) or xlsx"},
    )


class ExportJobSchema(Schema):
    id = fields.Integer(required=True)
    entity = fields.String(required=True, attribute="source")
    format = fields.String(required=True)
    status = fields.String(
        required=True,
        metadata={
            "enum": list(EXPORT_STATUSES),
            "description": "expired: the file was deleted DATA_EXPORT_KEEP_HOURS after it was made",
        },
    )
    row_count = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)
    status_url = fields.String(required=True)
    download_url = fields.String(
        allow_none=True,
        metadata={"description": "once done: the file, for the caller only, while it is valid"},
    )


def export_job(export) -> dict:
    """The export's fields for ExportJobSchema, with its links."""
    body = {
        name: getattr(export, name)
        for name in ("id", "source", "format", "status", "row_count", "error")
        + ("created_at", "finished_at")
    }
    body["status_url"] = url_for("data_exports.export_status", export_id=export.id)
    body["download_url"] = (
        url_for("data_exports.download", token=exports.download_token(export))
        if export.status == DONE
        else None
    )
    return body


@blp.route("/export/<entity>/", methods=["GET"])
@exporters
@blp.arguments(ExportArgs, location="query")
@blp.response(
    200,
    description="The file (text/csv or an XLSX workbook), streamed; entity is one of "
    + ", ".join(exports.ENTITIES),
)
@blp.alt_response(
    202,
    schema=ExportJobSchema,
    description="More rows than DATA_EXPORT_SYNC_MAX_ROWS: the file is made by a job",
)
@document_errors(
    blp,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    CoreError.VALIDATION_ERROR,
)
def export_entity(args, entity):
    """Every row of `entity` the caller may see, in id order, as a file."""
    fmt = args["format"]
    actor = current_actor()
    table = exports.entity_table(actor, entity)
    if table.count > current_app.config["DATA_EXPORT_SYNC_MAX_ROWS"]:
        export = exports.request_export(actor.user_id, ENTITY, entity, {}, fmt, table.title)
        get_bus().runner.enqueue("jobs.tasks.run_data_export", export.id, queue="low")
        return jsonify(ExportJobSchema().dump(export_job(export))), 202
    name = exports.file_name(table.title, fmt)
    body = exports.chunks(fmt, table.header, table.rows, table.title)
    return Response(
        stream_with_context(exports.in_this_scope(body)),
        mimetype=exports.MIMETYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@blp.route("/exports/<int:export_id>/", methods=["GET"])
@exporters
@blp.response(200, ExportJobSchema)
@document_errors(blp, SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.NOT_FOUND)
def export_status(export_id):
    """One of the caller's background exports: its status, and its download link once done."""
    return export_job(exports.export_of(current_actor().user_id, export_id))


@blp.route("/exports/download/<token>/", methods=["GET"])
@exporters
@blp.response(200, description="The file of a finished background export")
@document_errors(blp, SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.NOT_FOUND)
def download(token):
    """The file behind a download link, for the user it was made for, while it is valid."""
    export, path = exports.read_token(token, current_actor().user_id)
    return send_file(
        path,
        mimetype=exports.MIMETYPES.get(export.format, "application/octet-stream"),
        as_attachment=True,
        download_name=exports.download_name(export),
        max_age=0,
    )
