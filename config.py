"""Configuration classes. Every setting comes from the environment, with safe defaults for dev.

Pick one with APP_CONFIG=development|testing|production (default: development).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))

DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    """Settings shared by every mode."""

    APP_NAME = _env("APP_NAME", "Marketplace")
    APP_ICON = ""
    SECRET_KEY = _env("SECRET_KEY", DEV_SECRET_KEY)
    # Fernet key (urlsafe base64, 32 bytes) for secrets at rest; derived from SECRET_KEY if unset.
    ENCRYPTION_KEY = _env("ENCRYPTION_KEY")

    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'marketplace.db'}")
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # a request the database cannot serve for a moment (down, restarting, every pooled connection
    # busy past pool_timeout) answers 503 with this Retry-After, not a 500 (app.core.db)
    DB_UNAVAILABLE_RETRY_AFTER = _env_int("DB_UNAVAILABLE_RETRY_AFTER", 5)

    REDIS_URL = _env("REDIS_URL")
    ELASTICSEARCH_URL = _env("ELASTICSEARCH_URL")
    # Apache Superset, the analysts' BI service (its own process: scripts/superset.sh). The app
    # fetches guest tokens server-side (analytics.bi) with this service account; the admin's BI
    # page embeds its dashboards from SUPERSET_PUBLIC_URL (what browsers reach; default the same).
    SUPERSET_URL = _env("SUPERSET_URL")
    SUPERSET_PUBLIC_URL = _env("SUPERSET_PUBLIC_URL", _env("SUPERSET_URL"))
    SUPERSET_USERNAME = _env("SUPERSET_USERNAME", _env("SUPERSET_ADMIN_USERNAME", "admin"))
    SUPERSET_PASSWORD = _env("SUPERSET_PASSWORD", _env("SUPERSET_ADMIN_PASSWORD"))
    SUPERSET_TIMEOUT_SECONDS = float(_env("SUPERSET_TIMEOUT_SECONDS", "5"))
    # the read-only database user Superset queries with (`flask bi grant`): SELECT on the bi_*
    # views only (migration 0038); BI_DATABASE_URL is the URI Superset connects with (default: the
    # app's database with that user)
    BI_DB_USER = _env("BI_DB_USER", "shop_bi")
    BI_DB_PASSWORD = _env("BI_DB_PASSWORD")
    BI_DB_HOST = _env("BI_DB_HOST", "%")  # the host part of the MariaDB account
    BI_DATABASE_URL = _env("BI_DATABASE_URL")
    # the admin's origin, the one domain the dashboards may be embedded in (empty: any)
    BI_EMBED_ORIGIN = _env("BI_EMBED_ORIGIN")
    SEARCH_INDEX_DIR = _env("SEARCH_INDEX_DIR", str(INSTANCE_DIR / "search"))
    ELASTICSEARCH_INDEX_PREFIX = _env(
        "ELASTICSEARCH_INDEX_PREFIX", "marketplace-"
    )  # alias <prefix>products
    SEARCH_LOG_QUERIES = _env_bool("SEARCH_LOG_QUERIES", True)  # search analytics
    # With JOBS_MODE=rq a search is logged by one Redis call (app/search/log_buffer.py) and the
    # cron writes the rows in batches every 10 s (jobs/schedule.py): the search pays ~0.1 ms,
    # not an outbox row, a commit and a job. A Redis that loses its data loses those seconds of
    # search analytics (never an order or a payment); `false` logs through the outbox instead.
    SEARCH_LOG_BUFFER = _env_bool("SEARCH_LOG_BUFFER", True)

    # "inline": jobs run in-process right after commit (embedded default, no Redis needed).
    # "rq": jobs are enqueued on Redis and run by `flask worker`.
    JOBS_MODE = _env("JOBS_MODE", "rq" if _env("REDIS_URL") else "inline")
    # RQ workers (jobs/worker.py): a worker that dies hard (SIGKILL, OOM, a lost machine) leaves
    # its job in the queue's StartedJobRegistry; the job is found abandoned once its heartbeat
    # lapses (RQ_JOB_MONITORING_INTERVAL + 60 s) by the next registry cleanup of a live worker,
    # which runs every RQ_MAINTENANCE_INTERVAL seconds, and is retried (jobs/runner.py RETRY).
    # RQ's own default cleanup interval is 600 s: a killed worker's mails waited up to 11 minutes.
    RQ_MAINTENANCE_INTERVAL = _env_int("RQ_MAINTENANCE_INTERVAL", 60)
    RQ_JOB_MONITORING_INTERVAL = _env_int("RQ_JOB_MONITORING_INTERVAL", 30)
    # Outbox rows older than this that are still undispatched are redelivered by the cron job.
    OUTBOX_REDELIVER_AFTER_SECONDS = _env_int("OUTBOX_REDELIVER_AFTER_SECONDS", 30)
    # Unpaid orders hold their stock this long; then the cron job cancels them and releases it.
    ORDER_RESERVATION_TTL_MINUTES = _env_int("ORDER_RESERVATION_TTL_MINUTES", 30)
    # ... except an order paid by hand (bank transfer, cash on delivery: an admin marks the money
    # received), which waits this many days for the money (app.orders.pay_later.reservation_window)
    ORDER_PAY_BY_HAND_DAYS = _env_int("ORDER_PAY_BY_HAND_DAYS", 7)

    # Number of trusted reverse proxies in front of the app (0: none). With N > 0 the client IP,
    # scheme and host come from the X-Forwarded-* headers the last N proxies set.
    PROXY_FIX_HOPS = _env_int("PROXY_FIX_HOPS", 0)

    # Tenancy: the tenant is resolved from the Host header (Tenant.domain) or the X-Tenant
    # header (Tenant.slug); DEFAULT_TENANT is used when neither matches.
    DEFAULT_TENANT = _env("DEFAULT_TENANT", "default")
    # the time zone the admin shows times in for a tenant without one of its own (Tenant.time_zone,
    # an IANA name): stored times are UTC, shown to the minute with the exact value on hover
    DISPLAY_TIME_ZONE = _env("DISPLAY_TIME_ZONE", "UTC")

    # Flask-AppBuilder
    AUTH_TYPE = AUTH_DB
    FAB_SECURITY_MANAGER_CLASS = "admin.security.MarketSecurityManager"
    FAB_INDEX_VIEW = "admin.views.home.AdminIndexView"
    FAB_CREATE_DB = False  # the schema is made by `flask db upgrade` only
    FAB_UPDATE_PERMS = False  # permissions are synced by `flask init`
    FAB_ADD_SECURITY_API = False
    FAB_API_SWAGGER_UI = False
    AUTH_ROLE_ADMIN = "Super Admin"
    AUTH_ROLE_PUBLIC = "Guest"
    AUTH_USER_REGISTRATION = False
    AUTH_RATE_LIMITED = True
    AUTH_RATE_LIMIT = _env("AUTH_RATE_LIMIT", "10 per 20 second")
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # CSRF (Flask-WTF's CSRFProtect, the whole admin): every admin state change is a POST that
    # carries the session's token; FAB then refuses its GET delete/action URLs. The token lives as
    # long as the session (PERMANENT_SESSION_LIFETIME), so a form left open for an hour still saves.
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = True  # over HTTPS the Referer must be this origin too

    # origins of product pictures the admin shows (space-separated; the img-src below)
    ADMIN_IMAGE_ORIGINS = _env("ADMIN_IMAGE_ORIGINS", "")

    # Security headers (Flask-Talisman) on every response. Scripts: this origin plus a nonce made
    # per request, which FAB's inline scripts carry (csp_nonce()); no inline event handlers, no
    # eval, nothing from another origin. Styles allow inline attributes (FAB's templates use them).
    CONTENT_SECURITY_POLICY = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self' 'unsafe-inline'",
        # product images are URLs (ProductImage.url): the admin shows those of the origins an
        # operator names in ADMIN_IMAGE_ORIGINS (its CDN, e.g. "https://cdn.example.com"); by
        # default none, so no page loads anything from another origin (a thumbnail of another
        # origin is an empty box). The admin's <img> send no Referer.
        "img-src": " ".join(["'self' data: blob:", *(_env("ADMIN_IMAGE_ORIGINS") or "").split()]),
        "worker-src": "'self' blob:",  # ReDoc (/api/redoc/) parses the spec in a worker from a blob
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    FRAME_OPTIONS = "DENY"
    REFERRER_POLICY = "strict-origin-when-cross-origin"
    # HSTS is sent on HTTPS requests (request.is_secure, or X-Forwarded-Proto https from a trusted
    # proxy, PROXY_FIX_HOPS) when enabled: on in production.
    HSTS_ENABLED = _env_bool("HSTS_ENABLED", False)
    HSTS_MAX_AGE = _env_int("HSTS_MAX_AGE", 31536000)  # one year
    HSTS_INCLUDE_SUBDOMAINS = _env_bool("HSTS_INCLUDE_SUBDOMAINS", False)

    # JWT (FAB's own JWT manager; see admin/security.py)
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=15)
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=7)
    # Bearer headers; the optional cookie mode (login with {"use_cookies": true}) sets HttpOnly
    # cookies and needs the CSRF double-submit header (X-CSRF-TOKEN) on writes.
    JWT_TOKEN_LOCATION = ["headers", "cookies"]
    JWT_COOKIE_SECURE = _env_bool("JWT_COOKIE_SECURE", False)
    JWT_COOKIE_SAMESITE = "Lax"
    JWT_COOKIE_CSRF_PROTECT = True
    JWT_ACCESS_COOKIE_PATH = "/api/"
    JWT_REFRESH_COOKIE_PATH = "/api/v1/auth/"

    # Authentication API (storefront_api/auth.py, app/security/auth.py)
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)  # then the account is locked ...
    LOGIN_LOCKOUT_MINUTES = _env_int("LOGIN_LOCKOUT_MINUTES", 15)  # ... for this long
    PASSWORD_RESET_TOKEN_MINUTES = _env_int("PASSWORD_RESET_TOKEN_MINUTES", 60)
    EMAIL_VERIFY_TOKEN_HOURS = _env_int("EMAIL_VERIFY_TOKEN_HOURS", 48)
    # Flask-Limiter limits (per client IP) on the API's login and on register/reset/resend
    API_LOGIN_RATE_LIMIT = _env("API_LOGIN_RATE_LIMIT", "5 per minute")
    # per client IP: searches, and every write (POST/PUT/PATCH/DELETE) of the catalog, customer
    # and review APIs
    API_SEARCH_RATE_LIMIT = _env("API_SEARCH_RATE_LIMIT", "60 per minute")
    API_WRITE_RATE_LIMIT = _env("API_WRITE_RATE_LIMIT", "120 per minute")
    API_AUTH_EMAIL_RATE_LIMIT = _env("API_AUTH_EMAIL_RATE_LIMIT", "5 per minute")
    # per client IP: guests' requests with an order access token (X-Order-Token) to /api/v1/orders
    API_GUEST_ORDER_RATE_LIMIT = _env("API_GUEST_ORDER_RATE_LIMIT", "30 per minute")
    # per signed-in user: chat messages posted and conversations started (storefront_api/chat.py)
    CHAT_MESSAGE_RATE_LIMIT = _env("CHAT_MESSAGE_RATE_LIMIT", "30 per minute")

    # E-mail: SMTP when MAIL_SERVER is set, else .eml files in MAIL_OUTBOX_DIR (embedded default)
    MAIL_SERVER = _env("MAIL_SERVER")
    MAIL_PORT = _env_int("MAIL_PORT", 587)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)  # STARTTLS
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "Marketplace <no-reply@marketplace.local>")
    MAIL_TIMEOUT = _env_int("MAIL_TIMEOUT", 10)
    MAIL_OUTBOX_DIR = _env("MAIL_OUTBOX_DIR", str(INSTANCE_DIR / "outbox"))

    # The notification centre's channel adapters (app/inbox/channels.py): "mail" (the mail path
    # above), "record" (records what it would send in notification_recorded_messages, sends
    # nothing), or a provider's class as "package.module:ClassName" (built with this config)
    NOTIFY_EMAIL_ADAPTER = _env("NOTIFY_EMAIL_ADAPTER", "mail")
    NOTIFY_SMS_ADAPTER = _env("NOTIFY_SMS_ADAPTER", "record")
    NOTIFY_PUSH_ADAPTER = _env("NOTIFY_PUSH_ADAPTER", "record")

    # Sellers' KYC documents (app/sellers/kyc.py): files under this root, outside every static
    # folder (only the authorised download routes read them); at most KYC_MAX_FILE_BYTES each
    KYC_STORAGE_ROOT = _env("KYC_STORAGE_ROOT", str(INSTANCE_DIR / "kyc"))
    KYC_MAX_FILE_BYTES = _env_int("KYC_MAX_FILE_BYTES", 5 * 1024 * 1024)
    # Exports (app.dataio.exports): a list of more rows than this is written by a background job
    # into DATA_EXPORT_DIR, downloaded through a signed link valid DATA_EXPORT_LINK_SECONDS
    DATA_EXPORT_SYNC_MAX_ROWS = _env_int("DATA_EXPORT_SYNC_MAX_ROWS", 5000)
    DATA_EXPORT_DIR = _env("DATA_EXPORT_DIR", str(INSTANCE_DIR / "exports"))
    DATA_EXPORT_LINK_SECONDS = _env_int("DATA_EXPORT_LINK_SECONDS", 3600)
    # an export's file is deleted this long after it was made (the cron's purge; the row says so)
    DATA_EXPORT_KEEP_HOURS = _env_int("DATA_EXPORT_KEEP_HOURS", 168)
    # Bulk import (app/dataio/imports.py): uploads up to DATA_IMPORT_MAX_BYTES, kept under
    # DATA_IMPORT_DIR until the import ends (at most DATA_IMPORT_KEEP_HOURS); rows written in
    # chunks of DATA_IMPORT_CHUNK_ROWS; a running import silent for DATA_IMPORT_STALE_SECONDS is
    # taken as dead and resumed from its checkpoint
    DATA_IMPORT_MAX_BYTES = _env_int("DATA_IMPORT_MAX_BYTES", 100 * 1024 * 1024)
    DATA_IMPORT_DIR = _env("DATA_IMPORT_DIR", str(INSTANCE_DIR / "data-imports"))
    DATA_IMPORT_CHUNK_ROWS = _env_int("DATA_IMPORT_CHUNK_ROWS", 500)
    # a dry run of a larger file is a job (a 200,000-row XLSX takes ~48 s to check: past
    # gunicorn's 30 s timeout); a smaller one answers in the request
    DATA_IMPORT_SYNC_VALIDATE_BYTES = _env_int("DATA_IMPORT_SYNC_VALIDATE_BYTES", 2 * 1024 * 1024)
    DATA_IMPORT_STALE_SECONDS = _env_int("DATA_IMPORT_STALE_SECONDS", 300)
    DATA_IMPORT_KEEP_HOURS = _env_int("DATA_IMPORT_KEEP_HOURS", 48)
    API_SELLER_REGISTER_RATE_LIMIT = _env("API_SELLER_REGISTER_RATE_LIMIT", "5 per minute")
    # the storefront front end: links in e-mails point there (/auth/verify-email/<token>, ...)
    FRONTEND_URL = _env("FRONTEND_URL", "http://localhost:3000")

    # Flask-Limiter (FAB turns it off unless told otherwise)
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI") or (_env("REDIS_URL") or "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down (the limits' storage): the limits fall back to each process's memory (the same
    # limits, counted per process, so login guessing stays limited) and go back to Redis once it
    # answers again; any other storage error lets the request through (fails open) rather than
    # answering 500. README, "Faults"; tests/faults/test_redis_outage.py
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True

    # Hostile input (storefront_api/request_guard.py): a request body above MAX_CONTENT_LENGTH bytes
    # is a 413, a JSON body nested deeper than API_MAX_JSON_DEPTH levels a 400
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 1024 * 1024)
    API_MAX_JSON_DEPTH = _env_int("API_MAX_JSON_DEPTH", 64)

    # flask-smorest / OpenAPI
    API_TITLE = "Marketplace API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "schema/"
    OPENAPI_SWAGGER_UI_PATH = "docs/"
    # Swagger UI and ReDoc from this origin (npm packages vendored by `make install`, no CDN)
    OPENAPI_SWAGGER_UI_URL = "/admin/static/vendor/swagger-ui/"
    OPENAPI_REDOC_PATH = "redoc/"
    OPENAPI_REDOC_URL = "/admin/static/vendor/redoc/redoc.standalone.js"

    # Flask-SocketIO: Redis message queue when Redis is configured (several web processes, workers)
    SOCKETIO_MESSAGE_QUEUE = _env("SOCKETIO_MESSAGE_QUEUE", _env("REDIS_URL"))
    # the Redis pub/sub channel the Socket.IO processes and the workers' emitters share
    SOCKETIO_CHANNEL = _env("SOCKETIO_CHANNEL", "flask-socketio")
    # Real-time (app/realtime, `flask realtime`): how often the Socket.IO process drops connections
    # whose token or session was revoked; the lifetime of the socket token an admin page mints
    # (enough to connect); the threads of `flask realtime` (one per open connection, plus one each
    # for its WebSocket: size it to the connections one process holds)
    REALTIME_REVOCATION_CHECK_SECONDS = float(_env("REALTIME_REVOCATION_CHECK_SECONDS", "2"))
    REALTIME_SOCKET_TOKEN_SECONDS = _env_int("REALTIME_SOCKET_TOKEN_SECONDS", 60)
    REALTIME_THREADS = _env_int("REALTIME_THREADS", 1000)

    # Payments: methods a tenant without its own settings offers, automatic capture after a
    # successful authorization, and Stripe (the adapter is off until a secret key is set)
    PAYMENT_METHODS = _env(
        "PAYMENT_METHODS", "bank_transfer,cash_on_delivery,test_card,stripe_card"
    )
    PAYMENTS_AUTO_CAPTURE = _env_bool("PAYMENTS_AUTO_CAPTURE", True)
    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = _env("STRIPE_API_BASE")  # None: api.stripe.com
    # seconds Stripe has to answer a call; under gunicorn's timeout (GUNICORN_TIMEOUT, 30 s), so a
    # hanging gateway fails the payment instead of getting the web worker killed mid-checkout
    STRIPE_TIMEOUT_SECONDS = float(_env("STRIPE_TIMEOUT_SECONDS", "20"))

    # Payout adapters staff may pay a payout through (app/payouts/adapters.py): name ->
    # "module:Class". PAYOUT_ADAPTERS="manual=app.payouts.adapters:ManualAdapter,stripe_connect=..."
    PAYOUT_ADAPTERS = dict(
        item.split("=", 1)
        for item in _env("PAYOUT_ADAPTERS", "manual=app.payouts.adapters:ManualAdapter").split(",")
        if "=" in item
    )

    # Demo data and the first admin made by `flask init`
    ADMIN_USERNAME = _env("ADMIN_USERNAME", "admin")
    ADMIN_EMAIL = _env("ADMIN_EMAIL", "admin@example.com")
    ADMIN_PASSWORD = _env("ADMIN_PASSWORD")


class DevelopmentConfig(Config):
    """Embedded default: SQLite file, in-process jobs, embedded search, no Redis needed."""

    DEBUG = False
    ADMIN_PASSWORD = _env("ADMIN_PASSWORD", "admin")


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = _env(
        "TEST_DATABASE_URL", "mysql+mysqldb://root@127.0.0.1:3306/shop_test?charset=utf8mb4"
    )
    REDIS_URL = _env("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    JOBS_MODE = _env("TEST_JOBS_MODE", "inline")
    RATELIMIT_STORAGE_URI = "memory://"
    # the suite logs in hundreds of times from 127.0.0.1; rate-limit tests set their own limits
    AUTH_RATE_LIMIT = "10000 per second"
    # the Socket.IO test client refuses a message queue; the real-time tests that start a server
    # process, a worker and a private Redis set one for those processes
    SOCKETIO_MESSAGE_QUEUE = _env("TEST_SOCKETIO_MESSAGE_QUEUE")
    ADMIN_PASSWORD = "admin-password-1"
    SEARCH_INDEX_DIR = _env("TEST_SEARCH_INDEX_DIR", str(INSTANCE_DIR / "test-search"))
    API_LOGIN_RATE_LIMIT = "10000 per second"
    API_SEARCH_RATE_LIMIT = "10000 per second"
    API_WRITE_RATE_LIMIT = "10000 per second"
    API_AUTH_EMAIL_RATE_LIMIT = "10000 per second"
    API_GUEST_ORDER_RATE_LIMIT = "10000 per second"
    CHAT_MESSAGE_RATE_LIMIT = "10000 per second"
    MAIL_SERVER = _env(
        "TEST_MAIL_SERVER"
    )  # tests that read mails point it at their own SMTP server
    MAIL_USE_TLS = False
    MAIL_OUTBOX_DIR = _env("TEST_MAIL_OUTBOX_DIR", str(INSTANCE_DIR / "test-outbox"))
    KYC_STORAGE_ROOT = _env("TEST_KYC_STORAGE_ROOT", str(INSTANCE_DIR / "test-kyc"))
    DATA_IMPORT_DIR = _env("TEST_DATA_IMPORT_DIR", str(INSTANCE_DIR / "test-data-imports"))
    API_SELLER_REGISTER_RATE_LIMIT = "10000 per second"
    FRONTEND_URL = "http://shop.test"


class ProductionConfig(Config):
    """Everything from the environment; refuses to start with missing or default secrets."""

    REQUIRED = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL")
    # no test cards in production unless PAYMENT_METHODS says so
    PAYMENT_METHODS = _env("PAYMENT_METHODS", "bank_transfer,cash_on_delivery,stripe_card")
    SESSION_COOKIE_SECURE = True
    HSTS_ENABLED = _env_bool("HSTS_ENABLED", True)
    JWT_COOKIE_SECURE = _env_bool("JWT_COOKIE_SECURE", True)  # cookie mode over HTTPS only
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_recycle": 280, "pool_size": 10}

    @classmethod
    def validate(cls) -> None:
        missing = [name for name in cls.REQUIRED if not _env(name)]
        if missing:
            raise RuntimeError(f"Production configuration is missing: {', '.join(missing)}")
        secret = _env("SECRET_KEY") or ""
        if secret == DEV_SECRET_KEY or len(secret) < 32:
            raise RuntimeError(
                "Refusing to start in production with a default or short SECRET_KEY "
                "(at least 32 characters)"
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def get_config(name: str | None = None) -> type[Config]:
    name = name or _env("APP_CONFIG", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown APP_CONFIG {name!r}; use one of {sorted(CONFIGS)}") from None
