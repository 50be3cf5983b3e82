"""Superset's configuration for the marketplace (issue 17). Every setting comes from the environment
(scripts/superset.sh points SUPERSET_CONFIG_PATH here):

  SUPERSET_SECRET_KEY          its Flask secret (>= 32 characters; required)
  SUPERSET_METADATA_DB_URI     its own metadata database (production: MariaDB, e.g.
                               mysql+mysqldb://superset:PW@mysql:3306/superset?charset=utf8mb4);
                               default: SQLite at $SUPERSET_HOME/superset.db
  SUPERSET_REDIS_URL           its cache (e.g. redis://127.0.0.1:6379/5); a null cache when unset
  SUPERSET_CACHE_KEY_PREFIX    its cache keys' prefix (default superset_)
  SUPERSET_ADMIN_ORIGIN        the marketplace admin's origin(s), space-separated: the only
                               frame-ancestors of its pages and the only CORS origin
  SUPERSET_GUEST_TOKEN_SECRET  the guest tokens' signing secret (default: SUPERSET_SECRET_KEY)
  SUPERSET_GUEST_TOKEN_TTL     guest tokens' lifetime in seconds (default 300)
  SUPERSET_PUBLIC_URL          the URL browsers reach it at (the guest tokens' audience)
"""

import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
_home = os.environ.get("SUPERSET_HOME", os.path.expanduser("~/.cache/marketplace/superset-home"))
SQLALCHEMY_DATABASE_URI = os.environ.get("SUPERSET_METADATA_DB_URI") or (
    f"sqlite:///{os.path.join(_home, 'superset.db')}?check_same_thread=false"
)
DATA_DIR = _home

_origins = (os.environ.get("SUPERSET_ADMIN_ORIGIN") or "").split()
_public_url = os.environ.get("SUPERSET_PUBLIC_URL") or (
    f"http://127.0.0.1:{os.environ.get('SUPERSET_PORT', '8088')}"
)

FEATURE_FLAGS = {"EMBEDDED_SUPERSET": True, "DASHBOARD_RBAC": False}

# guest tokens (the admin's embedded dashboards): the app asks for them with the service account,
# with a row-level-security clause; Superset signs them and checks the signature on every call
GUEST_ROLE_NAME = "Gamma"
GUEST_TOKEN_JWT_SECRET = os.environ.get("SUPERSET_GUEST_TOKEN_SECRET") or SECRET_KEY
GUEST_TOKEN_JWT_ALGO = "HS256"
GUEST_TOKEN_JWT_EXP_SECONDS = int(os.environ.get("SUPERSET_GUEST_TOKEN_TTL", "300"))
GUEST_TOKEN_JWT_AUDIENCE = _public_url
WEBDRIVER_BASEURL = _public_url

FAB_ADD_SECURITY_API = True

# its pages may be framed by the admin only; nothing else may frame them or call it cross-origin
TALISMAN_ENABLED = True
_csp = {
    "base-uri": ["'self'"],
    "default-src": ["'self'"],
    "img-src": ["'self'", "blob:", "data:"],
    "worker-src": ["'self'", "blob:"],
    "connect-src": ["'self'"],
    "object-src": "'none'",
    "style-src": ["'self'", "'unsafe-inline'"],
    "script-src": ["'self'", "'strict-dynamic'"],
    "frame-ancestors": _origins or ["'none'"],
}
TALISMAN_CONFIG = {
    "content_security_policy": _csp,
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
    "frame_options": None,  # frame-ancestors decides (X-Frame-Options cannot name an origin)
}
TALISMAN_DEV_CONFIG = TALISMAN_CONFIG
HTTP_HEADERS: dict = {}
ENABLE_CORS = bool(_origins)
CORS_OPTIONS = {"supports_credentials": True, "origins": _origins, "allow_headers": ["*"]}
# its own cookie name: cookies do not keep ports apart, so on one host (127.0.0.1:5000 and :8088)
# a Superset cookie named `session` would replace the admin's and sign the admin user out
SESSION_COOKIE_NAME = "superset_session"
SESSION_COOKIE_SAMESITE = "Lax"
WTF_CSRF_ENABLED = True

_redis = os.environ.get("SUPERSET_REDIS_URL")
_prefix = os.environ.get("SUPERSET_CACHE_KEY_PREFIX", "superset_")
if _redis:
    CACHE_CONFIG = {
        "CACHE_TYPE": "RedisCache",
        "CACHE_DEFAULT_TIMEOUT": 300,
        "CACHE_KEY_PREFIX": _prefix,
        "CACHE_REDIS_URL": _redis,
    }
    DATA_CACHE_CONFIG = {**CACHE_CONFIG, "CACHE_KEY_PREFIX": _prefix + "data_"}
    FILTER_STATE_CACHE_CONFIG = {**CACHE_CONFIG, "CACHE_KEY_PREFIX": _prefix + "filter_"}
    EXPLORE_FORM_DATA_CACHE_CONFIG = {**CACHE_CONFIG, "CACHE_KEY_PREFIX": _prefix + "explore_"}
    RATELIMIT_STORAGE_URI = _redis

SUPERSET_WEBSERVER_TIMEOUT = 60
