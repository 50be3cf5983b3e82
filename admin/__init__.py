"""The admin UI (Flask-AppBuilder): security manager, role policy, views per domain, pages.

Admin pages live under /admin/...; FAB's login is /login/ and refuses customers.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, g, render_template, request
from flask_appbuilder import AppBuilder
from flask_login import current_user
from flask_wtf.csrf import CSRFError

MAX_LIST_PAGE = 1_000_000
MAX_LIST_PAGE_SIZE = 100  # the list's page-size menu offers 25 to 100
_NUMBER = re.compile(r"[0-9]{1,7}")


def _view_named(name: str):
    views = current_app.extensions.get("admin_views_by_class")
    if views is None:
        views = current_app.extensions["admin_views_by_class"] = {
            type(view).__name__: view for view in current_app.appbuilder.baseviews
        }
    return views.get(name)


def _refuse_bad_list_arguments() -> None:
    """FAB reads a list's page_<View> and psize_<View> with a bare int() and hands _oc_<View> to
    the query as a column name: a non-number, a negative or huge number, or a column the view
    does not sort by answered 500 on every list and show page. They are a 400 here, first."""
    if request.path.startswith("/api/"):
        return
    for key, value in request.args.items(multi=True):
        if key.startswith(("page_", "psize_")):
            limit = MAX_LIST_PAGE if key.startswith("page_") else MAX_LIST_PAGE_SIZE
            if not (_NUMBER.fullmatch(value) and int(value) <= limit):
                abort(
                    400, description=f"{key.split('_')[0]} must be a whole number from 0 to {limit}"
                )
        elif key.startswith("_oc_"):
            view = _view_named(key[4:])
            if view is not None and value not in (getattr(view, "order_columns", None) or ()):
                abort(400, description="the list cannot be sorted by that column")


def init_app(app: Flask, appbuilder: AppBuilder) -> None:
    from admin.cli import register_cli
    from admin.views import register_views

    # the admin's own scripts (admin/static), served at /admin/static/...; no CDN at runtime
    app.register_blueprint(
        Blueprint(
            "market_admin",
            __name__,
            static_folder=str(Path(__file__).parent / "static"),
            static_url_path="/admin/static",
        )
    )
    register_views(appbuilder)
    from admin import exports as list_exports

    list_exports.register(app)  # the jobs of large list exports replay the user's list
    from admin.realtime import bp as realtime_bp

    app.register_blueprint(realtime_bp)  # the pages' socket token (bell, toasts, live figures)
    register_cli(app)
    from admin.base import register_filters

    register_filters(app)
    # every HTML page's error (403, 404, 500, ...) inside the admin's layout; storefront_api's
    # handlers keep the JSON envelope on /api/ and hand the other paths' errors to this
    from admin.errors import error_page

    app.extensions["html_error_page"] = error_page
    app.before_request(_refuse_bad_list_arguments)

    @app.errorhandler(CSRFError)
    def _csrf_refused(exc: CSRFError):
        # a form posted without this session's token (an old tab after signing in again, or a
        # page of another site): nothing was changed; say so and offer the way back. The check
        # runs before FAB's own before_request, which sets g.user for the menu.
        g.user = current_user
        page = render_template(
            "admin/csrf_error.html",
            appbuilder=appbuilder,
            base_template=appbuilder.base_template,
            reason=exc.description,
            back=request.referrer if _same_origin(request.referrer) else None,
        )
        return page, 400


def _same_origin(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)
