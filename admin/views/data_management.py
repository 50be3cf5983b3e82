"""/admin/data-management: bulk import in the admin (the API's twin: app.dataio.imports).

Pick an entity, download its template (CSV or XLSX), upload a file, choose the mode, validate
(the dry run's report by row and column) or import (an RQ job), and follow the list of imports:
admin/static/admin/data_management.js polls `imports.json` every few seconds while one is queued
or running (no inline script). The error file of an import downloads here too. Staff see every
import of the storefront; a Seller imports into its own catalog and sees its own imports."""

from __future__ import annotations

import tempfile

from flask import current_app, flash, jsonify, redirect, request, send_file, url_for
from flask_appbuilder import AppBuilder, BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name

from admin.base import current_actor
from app.core.errors import DomainError
from app.dataio import import_files, imports
from app.dataio.import_rows import ENTITIES
from app.dataio.models import IMPORT_MODES

PAGE_SIZE = 20
UPLOAD_SLACK = 64 * 1024
MODE_LABELS = {
    "row_by_row": "Row by row: import the good rows, list the bad ones in an error file",
    "all_or_nothing": "All or nothing: one bad row and nothing is imported",
}


def _as_dict(row) -> dict:
    return {
        "id": row.id,
        "entity": row.entity,
        "format": row.format,
        "mode": row.mode,
        "status": row.status,
        "file_name": row.file_name,
        "rows_total": row.rows_total,
        "rows_done": row.rows_done,
        "rows_failed": row.rows_failed,
        "message": row.message,
        "has_error_file": row.has_error_file,
        "created_at": row.created_at.isoformat(),
    }


class DataManagementView(BaseView):
    route_base = "/admin/data-management"
    default_view = "index"
    base_permissions = ["can_list", "can_import"]

    def _page(self, report=None, entity: str = "products", mode: str = "row_by_row"):
        actor = current_actor()
        found = imports.list_imports(actor, 1, PAGE_SIZE)
        return self.render_template(
            "admin/data_management/index.html",
            title="Data management",
            entities=imports.allowed_entities(actor),
            entity=entity,
            modes=IMPORT_MODES,
            mode=mode,
            mode_labels=MODE_LABELS,
            report=report,
            found=found,
            max_mb=round(import_files.max_bytes() / 1024 / 1024, 1),
            columns={
                name: [c.name for c in ENTITIES[name].columns if actor.is_admin or not c.staff_only]
                for name in imports.allowed_entities(actor)
            },
        )

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        return self._page()

    @expose("/imports.json")
    @has_access
    @permission_name("list")
    def imports_json(self):
        found = imports.list_imports(current_actor(), 1, PAGE_SIZE)
        return jsonify({"items": [_as_dict(row) for row in found.items]})

    @expose("/template/<entity>.<fmt>")
    @has_access
    @permission_name("list")
    def template(self, entity, fmt):
        out = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
        try:
            name = imports.template(current_actor(), entity, fmt, out)
        except DomainError as exc:
            flash(exc.message, "danger")
            return redirect(url_for(f"{self.endpoint}.index"))
        out.seek(0)
        return send_file(
            out, mimetype=import_files.CONTENT_TYPES[fmt], as_attachment=True, download_name=name
        )

    @expose("/upload", methods=["POST"])
    @has_access
    @permission_name("import")
    def upload(self):
        """Validate (the dry run) or import the uploaded file, as the button pressed says."""
        entity = request.form.get("entity", "")
        mode = request.form.get("mode", "row_by_row")
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("Choose a file to upload.", "warning")
            return self._page(entity=entity, mode=mode)
        actor = current_actor()
        try:
            if request.form.get("action") == "import":
                import_id = imports.start_import(
                    actor, entity, mode, upload.stream, upload.filename
                )
                flash(f"Import {import_id} started; its progress shows below.", "success")
                return redirect(url_for(f"{self.endpoint}.index"))
            outcome = imports.dry_run(actor, entity, upload.stream, upload.filename)
        except DomainError as exc:
            flash(f"Nothing was imported: {exc.message}.", "danger")
            return self._page(entity=entity, mode=mode)
        if outcome.import_id is not None:
            flash(
                f"The file is large, so it is checked in the background (#{outcome.import_id} "
                "below, marked check only): nothing is written, and its problems go to its error "
                "file.",
                "info",
            )
            return redirect(url_for(f"{self.endpoint}.index"))
        return self._page(report=outcome.report, entity=entity, mode=mode)

    @expose("/imports/<int:import_id>/errors")
    @has_access
    @permission_name("list")
    def errors(self, import_id):
        actor = current_actor()
        out = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
        try:
            row = imports.get_import(actor, import_id)
            name = imports.error_file(actor, import_id, out)
        except DomainError as exc:
            flash(exc.message, "warning")
            return redirect(url_for(f"{self.endpoint}.index"))
        out.seek(0)
        return send_file(
            out,
            mimetype=import_files.CONTENT_TYPES[row.format],
            as_attachment=True,
            download_name=name,
        )


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(DataManagementView, "Data management", icon="fa-upload", category="Catalog")

    def room_for_an_import_upload() -> None:
        """An import file may be larger than MAX_CONTENT_LENGTH: up to DATA_IMPORT_MAX_BYTES. First
        of the before-request functions: CSRF protection reads the form (and so the body)."""
        if request.path == "/admin/data-management/upload":
            request.max_content_length = import_files.max_bytes() + UPLOAD_SLACK

    current_app.before_request_funcs.setdefault(None, []).insert(0, room_for_an_import_upload)
