"""The admin UI (Flask-AppBuilder): security manager, role policy, views per domain, pages.

Admin pages live under /admin/...; FAB's login is /login/ and refuses customers.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, g, render_template, request
from flask_appbuilder import AppBuilder
from flask_login import current_user
from flask_wtf.csrf import CSRFError


def init_app(app: Flask, appbuilder: AppBuilder) -> None:
    from admin.cli import register_cli
    from admin.views import register_views

    # the admin's own scripts (admin/static), served at /admin/static/...; no CDN at runtime
    app.register_blueprint(Blueprint("market_admin", __name__, static_folder=str(Path(__file__).parent / "static"),
                                     static_url_path="/admin/static"))
    register_views(appbuilder)
    register_cli(app)

    @app.errorhandler(CSRFError)
    def _csrf_refused(exc: CSRFError):
        # a form posted without this session's token (an old tab after signing in again, or a
        # page of another site): nothing was changed; say so and offer the way back. The check
        # runs before FAB's own before_request, which sets g.user for the menu.
        g.user = current_user
        page = render_template("admin/csrf_error.html", appbuilder=appbuilder, base_template=appbuilder.base_template,
                               reason=exc.description,
                               back=request.referrer if _same_origin(request.referrer) else None)
        return page, 400


def _same_origin(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)
