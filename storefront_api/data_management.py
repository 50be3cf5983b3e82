"""/api/v1/admin/data-management: bulk import of products (with variants, attributes, categories,
brands and image URLs), stock levels, customers (with addresses) and prices, from CSV or XLSX.

`templates/<entity>/?format=csv|xlsx` downloads a template (header and one example row);
`validate/` is a dry run answering every problem by row and column and writing nothing (a file
larger than DATA_IMPORT_SYNC_VALIDATE_BYTES: 202 and a `dry_run` job to follow at `imports/<id>/`,
its problems at `imports/<id>/report/`);
`import/` starts an import job (`all_or_nothing` or `row_by_row`); `imports/` and
`imports/<id>/` show status and progress; `imports/<id>/errors/` is the error file (the failed
rows as uploaded plus an `error` column, in the uploaded format) to correct and upload again.

Staff of the storefront import everything; a seller imports into its own catalog only (products,
stock, prices; customers are staff only: 403) and sees only its own imports (another's: 404).
Uploads: multipart `file`, at most DATA_IMPORT_MAX_BYTES (413), XLSX or UTF-8 CSV by their
bytes, whatever their name (415). Rules: app.dataio.imports and app.dataio.import_rows.
"""

from __future__ import annotations

import tempfile

from flask import jsonify, request, send_file
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from app.core.errors import CoreError
from app.dataio import import_files, imports
from app.dataio.errors import DataioError
from app.dataio.import_rows import ENTITIES
from app.dataio.models import IMPORT_MODES
from app.security import roles
from app.security.errors import SecurityError
from app.sellers.errors import SellerError
from storefront_api.common import (
    Blueprint,
    PageArgs,
    ViewSchema,
    current_actor,
    document_errors,
    page_schema,
    require_roles,
)
from storefront_api.errors import ApiError

blp = Blueprint(
    "data_management",
    __name__,
    url_prefix="/api/v1/admin/data-management",
    description="Bulk import from CSV or XLSX: templates, dry-run validation, import jobs with "
    "progress and error files (staff: the storefront's data; a seller: its own catalog)",
)

importers = require_roles(roles.SELLER, roles.ADMIN, roles.SUPER_ADMIN)
UPLOAD_SLACK = 64 * 1024  # the multipart envelope around the file
UPLOADS = ("data_management.validate_file", "data_management.start_import")
ENTITY = validate.OneOf(list(ENTITIES))


def _errors(*errors):
    return document_errors(blp, SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, *errors)


@blp.before_request
def _room_for_an_upload() -> None:
    """An upload may be larger than the API's MAX_CONTENT_LENGTH: up to DATA_IMPORT_MAX_BYTES
    (the service refuses more in its own words); a body far beyond is refused unread (413)."""
    if request.endpoint in UPLOADS:
        request.max_content_length = import_files.max_bytes() + UPLOAD_SLACK


UPLOAD_ERRORS = (
    ApiError.BAD_REQUEST,
    CoreError.VALIDATION_ERROR,
    CoreError.NOT_FOUND,
    SellerError.SELLER_NOT_APPROVED,
    DataioError.FILE_TOO_LARGE,
    DataioError.UNSUPPORTED_FILE_TYPE,
    ApiError.PAYLOAD_TOO_LARGE,
    ApiError.RATE_LIMITED,
)


# --- schemas -------------------------------------------------------------------------------------


class FormatArgs(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "xlsx"]))


class ValidateFormSchema(Schema):
    entity = fields.String(
        required=True, validate=ENTITY, metadata={"description": ", ".join(ENTITIES)}
    )


class ImportFormSchema(ValidateFormSchema):
    mode = fields.String(
        load_default="row_by_row",
        validate=validate.OneOf(IMPORT_MODES),
        metadata={
            "description": "all_or_nothing: one bad row and nothing is written; row_by_row: "
            "good rows are written, bad ones go to the error file"
        },
    )


class UploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV (UTF-8) or XLSX"})


class ProblemSchema(ViewSchema):
    row = fields.Integer(required=True, metadata={"description": "in the file; 1 is the header"})
    column = fields.String(required=True)
    message = fields.String(required=True)


class ReportSchema(ViewSchema):
    entity = fields.String(required=True)
    format = fields.String(required=True)
    ok = fields.Boolean(required=True, metadata={"description": "no problem found"})
    rows_total = fields.Integer(required=True)
    rows_valid = fields.Integer(required=True)
    rows_invalid = fields.Integer(required=True)
    problems_total = fields.Integer(required=True)
    problems = fields.List(
        fields.Nested(ProblemSchema),
        required=True,
        metadata={"description": f"the first {imports.REPORT_LIMIT}, in file order"},
    )


class ImportSchema(ViewSchema):
    id = fields.Integer(required=True)
    entity = fields.String(required=True)
    format = fields.String(required=True)
    mode = fields.String(
        required=True,
        metadata={"description": "all_or_nothing, row_by_row, or dry_run (validate/)"},
    )
    status = fields.String(
        required=True,
        metadata={
            "description": "queued, running, completed, completed_with_errors, failed "
            "(all_or_nothing: nothing written), error (the job broke; resumable), validated (a "
            "dry_run job checked every row; nothing written)"
        },
    )
    file_name = fields.String(required=True)
    seller_id = fields.Integer(allow_none=True, required=True)
    user_id = fields.Integer(allow_none=True, required=True)
    rows_total = fields.Integer(allow_none=True, required=True)
    rows_done = fields.Integer(required=True, metadata={"description": "rows imported"})
    rows_failed = fields.Integer(required=True)
    rows_created = fields.Integer(required=True)
    rows_updated = fields.Integer(required=True)
    message = fields.String(allow_none=True, required=True)
    has_error_file = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(allow_none=True, required=True)
    finished_at = fields.DateTime(allow_none=True, required=True)


# --- endpoints -----------------------------------------------------------------------------------


def _file_response(fmt: str, write) -> object:
    """A file written by `write(out)` (which returns its name), spooled to disk past 1 MB."""
    out = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
    name = write(out)
    out.seek(0)
    response = send_file(
        out, mimetype=import_files.CONTENT_TYPES[fmt], as_attachment=True, download_name=name
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route("/templates/<entity>/", methods=["GET"])
@blp.arguments(FormatArgs, location="query")
@blp.response(200, description="The template: a header row and one example row")
@_errors(CoreError.NOT_FOUND, CoreError.VALIDATION_ERROR)
@importers
def template(args, entity):
    """Download the import template of an entity (products, stock, customers, prices)."""
    actor = current_actor()
    return _file_response(
        args["format"], lambda out: imports.template(actor, entity, args["format"], out)
    )


@blp.route("/validate/", methods=["POST"])
@blp.arguments(ValidateFormSchema, location="form")
@blp.arguments(UploadSchema, location="files")
@blp.response(200, ReportSchema)
@blp.alt_response(
    202,
    schema=ImportSchema,
    description="A file larger than DATA_IMPORT_SYNC_VALIDATE_BYTES: a `dry_run` job checks it; "
    "follow it at imports/<id>/ and read its problems at imports/<id>/report/",
)
@_errors(*UPLOAD_ERRORS)
@importers
def validate_file(form, files):
    """Dry run (multipart: `entity`, `file`): every problem of the file by row and column;
    nothing is written. A large file is checked by a job (202)."""
    upload = files["file"]
    actor = current_actor()
    outcome = imports.dry_run(actor, form["entity"], upload.stream, upload.filename or "")
    if outcome.report is not None:
        return outcome.report
    response = jsonify(ImportSchema().dump(imports.get_import(actor, outcome.import_id)))
    response.status_code = 202
    return response


@blp.route("/imports/<int:import_id>/report/", methods=["GET"])
@blp.response(200, ReportSchema)
@_errors(CoreError.NOT_FOUND)
@importers
def import_report(import_id):
    """The problems an import has found so far by row and column (a dry run's report once it is
    `validated`; an import's failed rows)."""
    return imports.report(current_actor(), import_id)


@blp.route("/import/", methods=["POST"])
@blp.arguments(ImportFormSchema, location="form")
@blp.arguments(UploadSchema, location="files")
@blp.response(202, ImportSchema)
@_errors(*UPLOAD_ERRORS)
@importers
def start_import(form, files):
    """Start an import job (multipart: `entity`, `mode`, `file`); follow it at imports/<id>/."""
    upload = files["file"]
    import_id = imports.start_import(
        current_actor(), form["entity"], form["mode"], upload.stream, upload.filename or ""
    )
    return imports.get_import(current_actor(), import_id)


@blp.route("/imports/", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(ImportSchema, "DataImportPage"))
@_errors(CoreError.VALIDATION_ERROR)
@importers
def list_imports(args):
    """The storefront's imports (a seller: its own), newest first."""
    return imports.list_imports(current_actor(), args["page"], args["page_size"])


@blp.route("/imports/<int:import_id>/", methods=["GET"])
@blp.response(200, ImportSchema)
@_errors(CoreError.NOT_FOUND)
@importers
def get_import(import_id):
    """An import's status and progress."""
    return imports.get_import(current_actor(), import_id)


@blp.route("/imports/<int:import_id>/resume/", methods=["POST"])
@blp.response(202, ImportSchema)
@_errors(CoreError.NOT_FOUND, DataioError.IMPORT_NOT_RESUMABLE, ApiError.RATE_LIMITED)
@importers
def resume_import(import_id):
    """Run a stalled import again from its checkpoint (its worker died, or the job broke)."""
    imports.resume_import(current_actor(), import_id)
    return imports.get_import(current_actor(), import_id)


@blp.route("/imports/<int:import_id>/errors/", methods=["GET"])
@blp.response(200, description="The failed rows as uploaded plus an `error` column")
@_errors(CoreError.NOT_FOUND)
@importers
def error_file(import_id):
    """The error file, in the format uploaded: correct it and upload it again."""
    actor = current_actor()
    row = imports.get_import(actor, import_id)
    return _file_response(row.format, lambda out: imports.error_file(actor, import_id, out))
