"""The extension singletons, created unbound and wired in create_app().

FAB's AppBuilder and flask-smorest's Api keep per-app state (views, spec), so create_app()
makes one of each per app: reach them as current_app.appbuilder and current_app.extensions["api"].
Redis is current_app.extensions["redis"] (None in the embedded default).
"""

from __future__ import annotations

import flask
from flask.sessions import SecureCookieSessionInterface
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


class _Limiter(Limiter):
    """Flask-Limiter, its before-request pass skipped when that pass has nothing to count: no
    application, default or meta limits, no limits learnt for the endpoint, the storage up, and
    every limit of the request's blueprint (and its parents) for other methods (limit_writes: a
    GET on a write-limited blueprint). That pass would then resolve and drop every limit (about
    0.1 ms a request); a route's own @limiter.limit is checked by its decorator as before, and the
    response headers and context are the ones an empty pass leaves."""

    def _check_request_limit(self, callable_name=None, in_middleware=True):
        if in_middleware and callable_name is None and self._nothing_to_count():
            return
        super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)

    def _nothing_to_count(self) -> bool:
        manager = self.limit_manager
        request = flask.request
        if (
            manager._application_limits
            or manager._default_limits
            or self._meta_limits
            or self._storage_dead
            or manager.has_hints(request.endpoint or "")
        ):
            return False
        if not request.blueprint:
            return True
        names = set(request.blueprint.split("."))
        blueprint = flask.current_app.blueprints.get(request.blueprint)
        if blueprint is not None:
            names.add(blueprint.name)
        method = request.method.lower()
        for name in names:
            for limit in manager._blueprint_limits.get(name, ()):
                methods = getattr(limit, "methods", None)
                if methods is None or method in methods or getattr(limit, "meta_limits", None):
                    return False
        return True


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions with the signing serializer made once per set of keys, not
    twice a request: itsdangerous checks a serializer's output type by dumping a sample each time
    one is made (about 0.03 ms a request). Same keys (SECRET_KEY, then SECRET_KEY_FALLBACKS),
    same salt and digest, same cookies."""

    def __init__(self) -> None:
        self._serializers: dict = {}

    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
        return serializer


class _Talisman(Talisman):
    """flask-talisman with its per-request work done once: a view's options (its own or the app's)
    are resolved once per view instead of three times a request, the redirect check is skipped
    when no option asks for HTTPS, and the Content-Security-Policy text is built once per policy
    and joined with the request's nonce. The same headers, the same per-request nonce."""

    def init_app(self, app, **kwargs):
        self._options_by_view: dict = {}
        self._policy_parts: dict = {}
        super().init_app(app, **kwargs)

    def _get_local_options(self):
        view = flask.current_app.view_functions.get(flask.request.endpoint)
        options = self._options_by_view.get(view)
        if options is None:
            options = self._options_by_view[view] = super()._get_local_options()
        return options

    def _force_https(self):
        if self.session_cookie_secure and not self.app.debug:
            self.app.config["SESSION_COOKIE_SECURE"] = True
        if self._get_local_options()["force_https"]:
            return super()._force_https()
        return None

    def _parse_policy(self, policy):
        if not isinstance(policy, dict):  # a string policy: parsed as flask-talisman does
            return super()._parse_policy(policy)
        nonce_in = self._get_local_options()["content_security_policy_nonce_in"] or ()
        key = (id(policy), tuple(nonce_in))
        hit = self._policy_parts.get(key)
        if hit is None or hit[0] is not policy:
            parts = [
                (
                    f"{section} {content if isinstance(content, str) else ' '.join(content)}",
                    section in nonce_in,
                )
                for section, content in policy.items()
            ]
            hit = self._policy_parts[key] = (policy, parts)
        nonce = getattr(flask.request, "csp_nonce", None)
        if nonce is None:
            return "; ".join(part for part, _ in hit[1])
        return "; ".join(f"{part} 'nonce-{nonce}'" if wants else part for part, wants in hit[1])


# One metadata for FAB's tables and ours, so Alembic sees both.
db = SQLA(model_class=Model)
migrate = Migrate()
limiter = _Limiter(key_func=get_remote_address)
socketio = SocketIO()
# Every POST/PUT/PATCH/DELETE of the admin needs the session's CSRF token; the JSON API's
# blueprints are exempt (bearer tokens; its cookie mode has its own double submit).
csrf = CSRFProtect()
# Security headers on every response: CSP with a per-request script nonce, frame protection,
# nosniff, Referrer-Policy, HSTS in production (config.py, "Security headers").
talisman = _Talisman()
