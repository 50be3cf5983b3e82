"""The application factory: wires extensions, API, admin, socket handlers and event subscribers.

Only this module of app/ imports the outer layers (storefront_api, admin, jobs, analytics).
"""

from __future__ import annotations

import logging
import os

from flask import Flask, g, request
from flask_appbuilder import AppBuilder
from redis import Redis
from werkzeug.routing import IntegerConverter

from app.core.errors import PermissionDenied
from app.core.tenancy import reset_tenant, reset_unscoped, set_tenant
from app.extensions import SessionInterface, csrf, db, limiter, migrate, socketio, talisman
from app.tenants.errors import TenancyError
from app.tenants.services import resolve_tenant
from config import BASE_DIR, INSTANCE_DIR, ProductionConfig, get_config

log = logging.getLogger(__name__)


def create_app(config_name: str | None = None, **overrides) -> Flask:
    config = get_config(config_name)
    if issubclass(config, ProductionConfig):
        config.validate()
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(BASE_DIR / "admin" / "templates"),
    )
    # ids are INT columns: a path id above 2**31-1 matches no route (404) instead of reaching the
    # database (SQLite cannot even bind integers above 2**63)
    app.url_map.converters["int"] = _BoundedInt
    app.session_interface = SessionInterface()
    app.config.from_object(config)
    app.config.update(overrides)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("mysql"):
        # Each statement sees what others committed (as Django does on MySQL); REPEATABLE READ
        # would let a long transaction miss rows that workers committed meanwhile.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "isolation_level": "READ COMMITTED",
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        }
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config.get("PROXY_FIX_HOPS"):
        # behind N trusted proxies: the client IP (rate limits, audit) comes from X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    # Imported when an app is made, not when the package is: every `import app.<module>` runs this
    # file first, and these (every model, the session hooks, the event bus) import app's modules.
    from app import (
        hooks,
        models,  # noqa: F401  (every model registered on the metadata)
    )
    from app.core.db import install_sqlite_rules
    from app.events.bus import EventBus
    from app.inventory.queries import install as install_stock_reads

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True, compare_type=True
    )
    app.extensions["redis"] = (
        Redis.from_url(app.config["REDIS_URL"]) if app.config.get("REDIS_URL") else None
    )

    install_sqlite_rules()  # SQLite enforces foreign keys, as MariaDB does
    hooks.install()  # every session hook, once per process, in the order they must run
    install_stock_reads()  # product lists and pages read stock through inventory
    app.extensions["event_bus"] = EventBus()
    # first-order promotions (pricing, below orders) ask orders' rule
    from app.orders.history import has_no_order
    from app.pricing import first_order

    first_order.set_resolver(has_no_order)

    import jobs

    jobs.init_app(app)  # task runner (RQ or in-process) and the event subscriptions

    _register_tenant_hooks(app)
    _init_web_security(app)
    limiter.init_app(app)
    socketio.init_app(
        app,
        async_mode="threading",
        message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE"),
        channel=app.config.get("SOCKETIO_CHANNEL", "flask-socketio"),
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS", []),
    )
    # this app's own Socket.IO server (the `socketio` singleton points at the latest app's): the
    # embedded default's in-process emits and the revocation check go through it
    app.extensions["socketio_server"] = socketio.server

    import storefront_api

    storefront_api.init_app(app)
    from storefront_api import realtime as socket_handlers

    socket_handlers.register(app, socketio)  # on this app's Socket.IO server (made just above)

    import admin

    with app.app_context():
        appbuilder = AppBuilder(update_perms=False)
        appbuilder.init_app(app, db.session)
        admin.init_app(app, appbuilder)

    from app.cli import register_cli

    register_cli(app)
    return app


class _BoundedInt(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _init_web_security(app: Flask) -> None:
    """CSRF for every form post (the API's blueprints are exempted where they are registered) and
    the security headers of every response; settings in config.py ("CSRF", "Security headers")."""
    csrf.init_app(app)
    cfg = app.config
    talisman.init_app(
        app,
        force_https=False,  # TLS ends at the proxy in front; redirecting is its job
        session_cookie_secure=cfg.get("SESSION_COOKIE_SECURE", False),
        content_security_policy=_content_security_policy(cfg),
        content_security_policy_nonce_in=["script-src"],
        frame_options=cfg["FRAME_OPTIONS"],
        referrer_policy=cfg["REFERRER_POLICY"],
        strict_transport_security=cfg["HSTS_ENABLED"],
        strict_transport_security_max_age=cfg["HSTS_MAX_AGE"],
        strict_transport_security_include_subdomains=cfg["HSTS_INCLUDE_SUBDOMAINS"],
        strict_transport_security_preload=False,
        x_xss_protection=False,  # obsolete header; the CSP does its job
    )


def _content_security_policy(cfg) -> dict:
    """config.py's policy, plus frame-src naming Superset's origin when it is configured: the BI
    dashboards page (Analytics > BI dashboards) frames its embedded dashboards, nothing else."""
    from urllib.parse import urlsplit

    policy = dict(cfg["CONTENT_SECURITY_POLICY"])
    url = urlsplit(cfg.get("SUPERSET_PUBLIC_URL") or "")
    if url.scheme in ("http", "https") and url.netloc and "frame-src" not in policy:
        policy["frame-src"] = f"'self' {url.scheme}://{url.netloc}"
    return policy


def _register_tenant_hooks(app: Flask) -> None:
    @app.before_request
    def _resolve_tenant():
        g._tenant_token = None
        # every request, static files included: FAB loads the signed-in user on each one. An
        # unknown X-Tenant raises NotFound (tenant_not_found); the Host counts only without one.
        header = request.headers.get("X-Tenant")
        tenant_id, status = resolve_tenant(
            None if header else request.host, header, app.config["DEFAULT_TENANT"]
        )
        g.tenant_id = tenant_id
        g._tenant_token = set_tenant(tenant_id)
        if status != "active" and request.path.startswith("/api/v1"):
            raise PermissionDenied(
                "this storefront is suspended", code=TenancyError.TENANT_SUSPENDED
            )
        return None

    @app.teardown_request
    def _reset_tenant(exc):
        token = g.pop("_tenant_token", None)
        if token is not None:
            reset_tenant(token)
        unscoped_token = g.pop("_unscoped_token", None)
        if unscoped_token is not None:
            reset_unscoped(unscoped_token)
