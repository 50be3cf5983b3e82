"""The admin UI (Flask-AppBuilder): security manager, role policy, views per domain, pages.

Admin pages live under /admin/...; FAB's login is /login/ and refuses customers.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask
from flask_appbuilder import AppBuilder


def init_app(app: Flask, appbuilder: AppBuilder) -> None:
    from admin.cli import register_cli
    from admin.views import register_views

    # the admin's own scripts (admin/static), served at /admin/static/...; no CDN at runtime
    app.register_blueprint(Blueprint("market_admin", __name__, static_folder=str(Path(__file__).parent / "static"),
                                     static_url_path="/admin/static"))
    register_views(appbuilder)
    register_cli(app)
