"""The admin UI (Flask-AppBuilder): security manager, role policy, views per domain, pages.

Admin pages live under /admin/...; FAB's login is /login/ and refuses customers.
"""

from __future__ import annotations

from flask import Flask
from flask_appbuilder import AppBuilder


def init_app(app: Flask, appbuilder: AppBuilder) -> None:
    from admin.cli import register_cli
    from admin.views import register_views

    register_views(appbuilder)
    register_cli(app)
