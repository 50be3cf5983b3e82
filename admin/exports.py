"""CSV and XLSX export of every admin list (MarketModelView mixes ListExport in: one place).

`<list>/export/csv/?<the list's query>` exports what the list shows: its columns (a seller's
without the Seller column, a Super Admin's with the Tenant), the user's filters (`_flt_*`), order
(`_oc_*`, `_od_*`) and chosen tenant (`_tenant`), within the view's scope (tenant, seller: the
view's base filters), every page of it. Values are plain (a related row by its name, a code as
stored, money as a number, times in ISO 8601 UTC: app.dataio.exports.plain).

Up to DATA_EXPORT_SYNC_MAX_ROWS rows the file streams back at once; beyond, a job writes it
(app.dataio.exports.run_export, which replays the same list as the same user: `replay_list`) and
the user finds it under My exports (admin/views/data_exports.py), with a link that expires.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from flask import (
    Response,
    current_app,
    flash,
    g,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask_appbuilder import expose, has_access, permission_name
from flask_appbuilder.urltools import get_filter_args, get_order_args
from flask_login import current_user, login_user
from markupsafe import Markup

from app.core.tenancy import tenant_scope, unscoped
from app.dataio import exports
from app.dataio.models import LIST, DataExport
from app.events.bus import get_bus
from app.extensions import db
from app.security.models import User
from app.tenants.models import Tenant

EXPORT_BATCH = 500


class ListExport:
    """The export route of a FAB ModelView (MarketModelView), with the list's permission."""

    # list columns a file leaves out (a thumbnail is a picture on the page, nothing in a sheet)
    export_skip_columns: tuple[str, ...] = ("thumbnail",)

    @expose("/export/<fmt>/")
    @has_access
    @permission_name("list")
    def export(self, fmt):
        if fmt not in exports.FORMATS:
            flash("Exports are CSV or XLSX.", "danger")
            return redirect(url_for(f"{self.endpoint}.list"))
        table = self.export_table()
        if table.count > current_app.config["DATA_EXPORT_SYNC_MAX_ROWS"]:
            return self._export_later(fmt, table.count)
        name = exports.file_name(self.list_title, fmt)
        body = exports.chunks(fmt, table.header, table.rows, self.list_title)
        return Response(
            stream_with_context(exports.in_this_scope(body)),
            mimetype=exports.MIMETYPES[fmt],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    def export_urls(self) -> dict[str, str]:
        """The list's export links, with its current filters, order and tenant."""
        query = request.query_string.decode("ascii", "replace")
        return {
            fmt: url_for(f"{self.endpoint}.export", fmt=fmt) + (f"?{query}" if query else "")
            for fmt in exports.FORMATS
        }

    def _export_later(self, fmt: str, count: int):
        export = exports.request_export(
            current_user.id,
            LIST,
            type(self).__name__,
            request.args.to_dict(flat=False),
            fmt,
            self.list_title,
        )
        get_bus().runner.enqueue("jobs.tasks.run_data_export", export.id, queue="low")
        flash(
            f"{count:,} rows are more than one download carries: the file is being prepared. "
            "It will be listed under My exports, with its download link.",
            "info",
        )
        return redirect(url_for("DataExportsView.list"))

    def export_table(self) -> exports.Table:
        """Every row of the list as the request's filters, order and tenant choose it (no
        paging), its shown columns and labels."""
        get_filter_args(self._filters)
        order_column, order_direction = get_order_args().get(type(self).__name__, ("", ""))
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        filters = self.tenant_filtered(self._filters.get_joined_filters(self._base_filters))
        model = self.datamodel.obj
        query = self.datamodel.session.query(model)
        count = self.datamodel.query_count(query, filters)
        pk = getattr(model, self.datamodel.get_pk_name())
        # built now (the view's filters are shared by its requests), read when the rows are
        ordered = self.datamodel.apply_all(query, filters, order_column, order_direction)
        columns = [c for c in self.shown_list_columns() if c not in self.export_skip_columns]
        labels = self.shown_labels()
        header = [labels.get(c) or self._prettify_column(c) for c in columns]
        rows = self._export_rows(ordered.with_entities(pk), columns)
        return exports.Table(self.list_title, header, rows, count)

    def _export_rows(self, ordered_ids, columns: list[str]) -> Iterator[tuple]:
        """The rows, EXPORT_BATCH at a time: the ids in the list's order first (one query), then
        each batch's rows and the rows they name (a few queries a batch, as a page of the list)."""
        from admin.base import preload_related
        from admin.formatting import referenced_rows

        model = self.datamodel.obj
        pk = getattr(model, self.datamodel.get_pk_name())
        ids = [row[0] for row in ordered_ids.all()]
        for start in range(0, len(ids), EXPORT_BATCH):
            chunk = ids[start : start + EXPORT_BATCH]
            loaded = {
                row.id: row for row in self.datamodel.session.query(model).filter(pk.in_(chunk))
            }
            items = [loaded[i] for i in chunk if i in loaded]
            related = preload_related(model, items, columns)  # noqa: F841  (held while read)
            values = self._export_values(items, columns)
            names = {
                column: referenced_rows(db.session, ref, (row.get(column) for row in values))
                for column, ref in self.references.items()
                if column in columns
            }
            for row in values:
                yield tuple(
                    self._export_value(column, row.get(column), names) for column in columns
                )

    def _export_values(self, items: list, columns: list[str]) -> list[dict]:
        """The rows' values as the list shows them; a view whose list draws pictures, links or
        badges may give plain values instead (ProductView)."""
        return self._values(items, columns)

    def _export_value(self, column: str, value, names: dict):
        if column == "tenant":
            return value.name if value is not None else None
        if column in names:
            found = names[column].get(value)
            return self.references[column].text(found) if found is not None else value
        if isinstance(value, Markup):
            return value.striptags()
        if isinstance(value, list | tuple) and value and all(_is_row(v) for v in value):
            return ", ".join(str(v) for v in value)
        if _is_row(value):
            return str(value)
        return value


def _is_row(value) -> bool:
    return hasattr(type(value), "__mapper__")


def replay_list(export: DataExport, path: Path) -> int:
    """The job's side of a large list export: the same list, as the same user, with the same
    query arguments, in a request of its own; the file written to `path`."""
    app = current_app._get_current_object()
    view = next((v for v in app.appbuilder.baseviews if type(v).__name__ == export.source), None)
    if view is None:
        raise KeyError(f"no admin list {export.source}")
    with unscoped():
        user = db.session.get(User, export.user_id)
        tenant = db.session.get(Tenant, export.tenant_id)
    if user is None or tenant is None or not user.is_active:
        raise KeyError("the user who asked for this export is gone")
    with app.test_request_context(
        f"{view.route_base}/list/",
        query_string=export.params,
        headers={"X-Tenant": tenant.slug},
    ):
        login_user(user)
        g.user = user
        g.pop("admin_actor", None)
        with tenant_scope(export.tenant_id):
            if user.is_super_admin:
                with unscoped():
                    return exports.write_table(path, export.format, view.export_table())
            return exports.write_table(path, export.format, view.export_table())


def register(app) -> None:
    exports.register_source(LIST, replay_list)
