"""The extension singletons, created unbound and wired in create_app().

FAB's AppBuilder and flask-smorest's Api keep per-app state (views, spec), so create_app()
makes one of each per app: reach them as current_app.appbuilder and current_app.extensions["api"].
Redis is current_app.extensions["redis"] (None in the embedded default).
"""

from __future__ import annotations

from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

# Named constraints everywhere (set before any model, FAB's included, is imported).
Model.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# One metadata for FAB's tables and ours, so Alembic sees both.
db = SQLA(model_class=Model)
migrate = Migrate()
limiter = Limiter(key_func=get_remote_address)
socketio = SocketIO()
# Every POST/PUT/PATCH/DELETE of the admin needs the session's CSRF token; the JSON API's
# blueprints are exempt (bearer tokens; its cookie mode has its own double submit).
csrf = CSRFProtect()
# Security headers on every response: CSP with a per-request script nonce, frame protection,
# nosniff, Referrer-Policy, HSTS in production (config.py, "Security headers").
talisman = Talisman()
