"""The JSON API: /api/v1 for storefronts and /api/core for operations, described by OpenAPI.

OpenAPI 3: /api/schema/ (JSON) and /api/schema.yaml; Swagger UI /api/docs/; ReDoc /api/redoc/.
"""

from __future__ import annotations

import json
import logging

import yaml
from flask import Flask, Response, current_app, request
from flask_limiter.util import get_remote_address
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from app.core.db import is_database_unavailable
from app.core.errors import DomainError
from app.extensions import csrf, limiter
from storefront_api.common import ApiErrorSchema, describe_errors
from storefront_api.errors import (
    ANY_OPERATION,
    envelope_for_http_exception,
    error_response,
    internal_error_envelope,
    unavailable_envelope,
)

log = logging.getLogger(__name__)


class MarketplaceApi(Api):
    """flask-smorest's Api with our error envelope, applied to /api/ paths only (its handler is
    app-wide, and FAB's HTML pages must keep their own error pages)."""

    # every operation's documented `default` error response is our envelope
    ERROR_SCHEMA = ApiErrorSchema

    def _register_responses(self):
        """flask-smorest's, but the `default` error response every operation refers to names the
        codes any operation may answer (errors.ANY_OPERATION), from the catalogues."""
        super()._register_responses()
        default = self.spec.components.responses_lazy[self.DEFAULT_ERROR_RESPONSE_NAME]
        default["description"] = "Any operation may also answer: " + describe_errors(
            ANY_OPERATION, with_statuses=True
        )

    def register_blueprint(self, blp, **options):
        super().register_blueprint(blp, **options)
        # JSON with bearer tokens, which a browser never sends on its own: the admin's form CSRF
        # does not apply (the API's cookie mode checks its own double-submit header instead)
        csrf.exempt(blp)

    def handle_http_exception(self, error: HTTPException):
        if not request.path.startswith("/api/"):
            return html_error(error)
        return envelope_for_http_exception(error)


def html_error(error: HTTPException):
    """An HTTP error outside /api/: the HTML pages' own error page (the admin registers it as the
    app's "html_error_page": the admin's layout and a way back), else werkzeug's."""
    page = current_app.extensions.get("html_error_page")
    if page is None or error.code is None:
        return error
    detail = error.description if error.description != type(error).description else None
    response = page(error.code, detail)
    if error.code == 405:
        return (*response, {"Allow": ", ".join(error.valid_methods or ())})
    return response


def limit_writes(blueprint) -> None:
    """Every write of a blueprint is rate limited per client IP (API_WRITE_RATE_LIMIT)."""
    if getattr(blueprint, "_writes_limited", False):
        return
    limiter.limit(
        lambda: current_app.config["API_WRITE_RATE_LIMIT"],
        key_func=get_remote_address,
        methods=["POST", "PUT", "PATCH", "DELETE"],
    )(blueprint)
    blueprint._writes_limited = True


def init_app(app: Flask) -> Api:
    from storefront_api import request_guard

    request_guard.install(app)  # body size, JSON nesting, unencodable and NUL text: refused first
    api = MarketplaceApi(
        app,
        spec_kwargs={
            "info": {"description": "Storefront and operations API of the marketplace platform."},
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
        },
    )
    app.extensions["api"] = api

    from storefront_api import (
        auth,
        core,
        customers,
        payments,
        products,
        promotions,
        reviews,
        search,
        shipping,
    )

    for module in (products, customers, reviews, payments, search):
        limit_writes(module.blp)
    for module in (core, auth, products, customers, reviews, payments, search):
        api.register_blueprint(module.blp)
    api.register_blueprint(payments.webhooks_blp)  # not write-limited: providers send bursts

    from storefront_api import cart, orders, shipments  # issue 4: orders

    for module in (cart, orders, shipments):
        limit_writes(module.blp)
        api.register_blueprint(module.blp)
    for module in (promotions, shipping):
        limit_writes(module.blp)
        api.register_blueprint(module.blp)

    # issue 14, sellers as a business: onboarding and KYC, bank accounts, the ledger and
    # statements, the dashboard (read-only: not write-limited)
    from storefront_api import (
        seller_banking,
        seller_dashboard,
        seller_ledger,
        seller_payouts,
        sellers,
    )

    for module in (sellers, seller_banking, seller_ledger, seller_payouts):
        limit_writes(module.blp)
        api.register_blueprint(module.blp)
    api.register_blueprint(seller_dashboard.blp)

    # issue 15, live chat between customers and sellers (its messages also CHAT_MESSAGE_RATE_LIMIT)
    from storefront_api import chat

    limit_writes(chat.blp)
    api.register_blueprint(chat.blp)
    # issue 15: the notification centre (each user's own notifications, staff sends)
    from storefront_api import notifications

    limit_writes(notifications.blp)
    api.register_blueprint(notifications.blp)
    # issue 18: the Inventory API (stock, bulk updates, transfers, movements, suppliers and
    # purchase orders)
    from storefront_api import inventory

    limit_writes(inventory.blp)
    api.register_blueprint(inventory.blp)
    from storefront_api import inventory_analytics  # issue 16: inventory analytics (read-only)

    api.register_blueprint(inventory_analytics.blp)
    from storefront_api import data_exports  # issue 18: exports (read-only)

    api.register_blueprint(data_exports.blp)
    # issue 18: bulk import (templates, dry run, import jobs, error files)
    from storefront_api import data_management

    limit_writes(data_management.blp)
    api.register_blueprint(data_management.blp)
    from storefront_api import analytics  # issue 16: the Analytics API (read-only)

    api.register_blueprint(analytics.blp)

    # issue 16: product recommendations and the sales forecast (read-only: not write-limited)
    from storefront_api import analytics_forecast, recommendations

    api.register_blueprint(recommendations.blp)
    api.register_blueprint(analytics_forecast.blp)
    from storefront_api import customer_analytics  # issue 16: customer models (read-only)

    api.register_blueprint(customer_analytics.blp)
    from storefront_api import analytics_reports  # issue 16: analytics reports (read-only)

    api.register_blueprint(analytics_reports.blp)

    @app.route("/api/schema.yaml")
    def openapi_yaml():
        # the JSON document's data (Decimals as the JSON encoder writes them), as plain YAML:
        # apispec's to_yaml() wrote Python tags (!!python/object/apply:decimal.Decimal) for
        # Decimal defaults, which no YAML client can read
        document = json.loads(app.json.dumps(api.spec.to_dict()))
        return Response(
            yaml.safe_dump(document, sort_keys=False, allow_unicode=True),
            mimetype="application/yaml",
        )

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        """Business-rule errors: the envelope on /api/ paths, plain text on FAB's HTML pages."""
        if request.path.startswith("/api/"):
            return error_response(exc.code, exc.message, exc.status, exc.details)
        page = current_app.extensions.get("html_error_page")
        if page is not None:
            return page(exc.status, exc.message)
        return Response(exc.message, status=exc.status, mimetype="text/plain")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            if not request.path.startswith("/api/"):
                return html_error(exc)
            return envelope_for_http_exception(exc)
        if is_database_unavailable(exc):
            return _unavailable(exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return internal_error_envelope()
        page = current_app.extensions.get("html_error_page")
        if page is not None:
            return page(500, None)
        return Response("Internal Server Error", status=500, mimetype="text/plain")

    return api


def _unavailable(exc: Exception):
    """The database could not serve this request (app.core.db.is_database_unavailable): 503 with
    Retry-After, in the envelope on /api/ paths and the admin's page elsewhere; logged as a warning
    without the statement's parameters. The session's transaction is dropped (nothing was
    committed) so the pool hands out a fresh connection next time."""
    log.warning(
        "database unavailable on %s %s: %s", request.method, request.path, type(exc).__name__
    )
    try:
        from app.extensions import db

        db.session.rollback()
    except Exception:  # noqa: BLE001  (the connection is gone; the teardown removes the session)
        pass
    retry_after = int(current_app.config.get("DB_UNAVAILABLE_RETRY_AFTER", 5))
    if request.path.startswith("/api/"):
        return unavailable_envelope(retry_after)
    page = current_app.extensions.get("html_error_page")
    if page is not None:
        body, status = page(503, None)
    else:
        body, status = "Service Unavailable", 503
    return Response(body, status=status, headers={"Retry-After": str(retry_after)})
