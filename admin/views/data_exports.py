"""My exports: the files the signed-in user asked for that were made in the background (a list of
more than DATA_EXPORT_SYNC_MAX_ROWS rows, a Super Admin's tenant backup), newest first, each with
a download link signed for that user that expires (app.dataio.exports)."""

from __future__ import annotations

from flask import abort, current_app, send_file
from flask_appbuilder import AppBuilder, BaseView, expose, has_access, permission_name
from flask_login import current_user

from app.core.errors import NotFound, PermissionDenied
from app.dataio import exports
from app.dataio.models import DONE


class DataExportsView(BaseView):
    route_base = "/admin/exports"
    default_view = "list"

    @expose("/")
    @has_access
    @permission_name("list")
    def list(self):
        rows = exports.exports_of(current_user.id)
        links = {row.id: exports.download_token(row) for row in rows if row.status == DONE}
        minutes = current_app.config["DATA_EXPORT_LINK_SECONDS"] // 60
        return self.render_template(
            "admin/exports/mine.html",
            title="My exports",
            rows=rows,
            links=links,
            minutes=minutes,
            kept=_kept(current_app.config["DATA_EXPORT_KEEP_HOURS"]),
        )

    @expose("/download/<token>")
    @has_access
    @permission_name("download")
    def download(self, token):
        """The file behind a signed link: only for the user it was made for, while it is valid
        (403 once expired, 404 for anyone else or a forged link)."""
        try:
            export, path = exports.read_token(token, current_user.id)
        except PermissionDenied as exc:
            abort(403, description=exc.message)
        except NotFound:
            abort(404)
        return send_file(
            path,
            mimetype=exports.MIMETYPES.get(export.format, "application/octet-stream"),
            as_attachment=True,
            download_name=exports.download_name(export),
            max_age=0,
        )


def _kept(hours: int) -> str:
    """How long a file is kept, as people say it: "7 days", "36 hours"."""
    if hours % 24 == 0:
        days = hours // 24
        return f"{days} day" if days == 1 else f"{days} days"
    return f"{hours} hour" if hours == 1 else f"{hours} hours"


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(DataExportsView, "My exports", icon="fa-download", category="People")
