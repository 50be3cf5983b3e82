"""Apache Superset, the analysts' BI layer (issue 17): the read-only BI schema's database user,
the dashboards bundle (analytics/superset/, imported by uuid) and guest tokens for the admin's
embedded dashboards.

- The BI schema is the bi_* views (migration 0038): every one carries tenant_id and seller_id and no
  secret, raw payment or users column. `grant_readonly_user` (`flask bi grant`) creates the
  read-only MariaDB account Superset queries with and gives it SELECT on those views only.
- `SupersetClient` talks to Superset's REST API as its service account: it imports the bundle
  (overwrite by uuid, so a second import changes nothing), makes sure each dashboard is embeddable
  from the admin's origin, and asks for guest tokens whose row-level-security clause limits every
  dataset to the user's tenant and, for a Seller, to its seller_id.
- Guest tokens are fetched server-side and handed to the page in its body (never a URL); Superset
  signs them with its GUEST_TOKEN_JWT_SECRET and refuses one whose clause was altered.
"""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
import yaml
from sqlalchemy import text
from sqlalchemy.engine import make_url

from analytics.metrics import scope_of
from app.core.errors import NotFound, PermissionDenied

BUNDLE_DIR = Path(__file__).resolve().parent / "superset" / "bundle"
VIEW_PREFIX = "bi_"
# the dashboards of the bundle: slug -> title (the slug is how the app finds each one)
DASHBOARDS = {
    "sales": "Sales",
    "products": "Products",
    "customers": "Customers and segments",
    "sellers": "Sellers",
    "inventory": "Inventory",
    "search": "Search",
}
SELLER_DASHBOARDS = ("sales", "products", "customers", "sellers", "inventory", "search")


class SupersetError(Exception):
    """Superset cannot be reached or refused a request: the caller shows it as unavailable."""


# --- the read-only database user -----------------------------------------------------------------


def bi_views(connection) -> list[str]:
    """The BI views of the connected database, by name."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(
            text(
                "SELECT name FROM sqlite_master WHERE type = 'view' AND name LIKE 'bi\\_%' ESCAPE '\\'"
            )
        )
    else:
        rows = connection.execute(
            text(
                "SELECT TABLE_NAME FROM information_schema.VIEWS"
                " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'bi\\_%'"
            )
        )
    return sorted(row[0] for row in rows)


def _quote_account_part(value: str) -> str:
    if not value or any(ch in value for ch in "'\\\"`\n\r\0"):
        raise ValueError(f"unusable account name part: {value!r}")
    return f"'{value}'"


def grant_readonly_user(engine, user: str, password: str | None, host: str = "%") -> dict:
    """Create (or update) the read-only account `user`@`host` and give it SELECT on the bi_* views
    (and SHOW VIEW, for reflection) of the engine's database and on nothing
    else (every earlier grant is revoked first). On SQLite
    there are no accounts: the views exist and this does nothing."""
    with engine.begin() as conn:
        views = bi_views(conn)
        if conn.dialect.name == "sqlite":
            return {"user": None, "views": views, "skipped": "SQLite has no database users"}
        if not password:
            raise ValueError("set BI_DB_PASSWORD: the read-only user needs a password")
        database = conn.execute(text("SELECT DATABASE()")).scalar()
        account = f"{_quote_account_part(user)}@{_quote_account_part(host)}"
        conn.execute(
            text(f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY :pw"), {"pw": password}
        )
        conn.execute(text(f"ALTER USER {account} IDENTIFIED BY :pw"), {"pw": password})
        conn.execute(text(f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account}"))
        for view in views:
            # SHOW VIEW: SQLAlchemy's reflection (Superset's dataset columns) reads the
            # definition; it gives no access to the tables behind it
            conn.execute(text(f"GRANT SELECT, SHOW VIEW ON `{database}`.`{view}` TO {account}"))
    return {"user": f"{user}@{host}", "database": database, "views": views}


def bi_database_uri(app_config) -> str:
    """The URI Superset queries the BI views with: BI_DATABASE_URL, or the app's database with
    the read-only user (its password is given to Superset on import, never written in the bundle)."""
    if app_config.get("BI_DATABASE_URL"):
        return app_config["BI_DATABASE_URL"]
    url = make_url(app_config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        return url.render_as_string(hide_password=False)
    return url.set(username=app_config["BI_DB_USER"], password=None).render_as_string(
        hide_password=False
    )


# --- row-level security ---------------------------------------------------------------------------


def rls_clause(tenant_id: int, seller_id: int | None) -> str:
    """The clause every dataset of an embedded dashboard is filtered with (integers only)."""
    clause = f"tenant_id = {int(tenant_id)}"
    if seller_id is not None:
        clause += f" AND seller_id = {int(seller_id)}"
    return clause


# --- Superset's REST API ----------------------------------------------------------------------------


@dataclass
class _Login:
    session: requests.Session
    access_token: str
    csrf_token: str
    at: float


class SupersetClient:
    """Superset's REST API as its service account (login, CSRF token, then calls). One login is
    reused for LOGIN_TTL seconds (Superset's access tokens live 15 minutes)."""

    LOGIN_TTL = 600
    _logins: dict[tuple[str, str], _Login] = {}
    _lock = threading.Lock()

    def __init__(self, url: str, username: str, password: str, timeout: float = 5.0):
        if not url:
            raise SupersetError("SUPERSET_URL is not set")
        self.url = url.rstrip("/")
        self.username = username
        self.password = password or ""
        self.timeout = timeout

    @classmethod
    def from_config(cls, config) -> SupersetClient:
        return cls(
            config.get("SUPERSET_URL") or "",
            config.get("SUPERSET_USERNAME") or "admin",
            config.get("SUPERSET_PASSWORD") or "",
            float(config.get("SUPERSET_TIMEOUT_SECONDS") or 5),
        )

    # -- plumbing

    def healthy(self) -> bool:
        try:
            answer = requests.get(f"{self.url}/health", timeout=min(self.timeout, 3))
        except requests.RequestException:
            return False
        return answer.status_code == 200

    def _login(self, fresh: bool = False) -> _Login:
        key = (self.url, self.username)
        with self._lock:
            login = self._logins.get(key)
            if login and not fresh and time.monotonic() - login.at < self.LOGIN_TTL:
                return login
            if login:
                login.session.close()
            session = requests.Session()
            try:
                answer = session.post(
                    f"{self.url}/api/v1/security/login",
                    json={
                        "username": self.username,
                        "password": self.password,
                        "provider": "db",
                        "refresh": False,
                    },
                    timeout=self.timeout,
                )
                if answer.status_code != 200:
                    raise SupersetError(
                        f"Superset refused the service login ({answer.status_code})"
                    )
                token = answer.json()["access_token"]
                session.headers["Authorization"] = f"Bearer {token}"
                answer = session.get(
                    f"{self.url}/api/v1/security/csrf_token/", timeout=self.timeout
                )
                answer.raise_for_status()
                csrf = answer.json()["result"]
            except (requests.RequestException, ValueError, KeyError) as exc:
                raise SupersetError(f"Superset is not reachable: {exc}") from exc
            session.headers.update({"X-CSRFToken": csrf, "Referer": self.url})
            login = _Login(session, token, csrf, time.monotonic())
            self._logins[key] = login
            return login

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """One call with the service login; a 401 (expired login) or a pooled connection the
        server had closed (gunicorn drops idle keep-alive connections) logs in again, anew, once."""
        kwargs.setdefault("timeout", self.timeout)
        for fresh in (False, True):
            login = self._login(fresh=fresh)
            try:
                answer = login.session.request(method, f"{self.url}{path}", **kwargs)
            except requests.ConnectionError as exc:
                if not fresh:
                    continue
                raise SupersetError(f"Superset is not reachable: {exc}") from exc
            except requests.RequestException as exc:
                raise SupersetError(f"Superset is not reachable: {exc}") from exc
            if answer.status_code != 401:
                break
        return answer

    def json(self, method: str, path: str, expect=(200, 201), **kwargs) -> dict:
        answer = self.request(method, path, **kwargs)
        if answer.status_code not in expect:
            raise SupersetError(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
        return answer.json()

    # -- dashboards

    def dashboard(self, slug: str) -> dict:
        return self.json("GET", f"/api/v1/dashboard/{slug}")["result"]

    def embedded_uuid(self, slug: str, allowed_domains: list[str] | None = None) -> str:
        """The embedded uuid of the dashboard `slug`, made embeddable (from allowed_domains) on
        first use."""
        answer = self.request("GET", f"/api/v1/dashboard/{slug}/embedded")
        if answer.status_code == 200:
            return answer.json()["result"]["uuid"]
        result = self.json(
            "POST",
            f"/api/v1/dashboard/{slug}/embedded",
            json={"allowed_domains": allowed_domains or []},
        )
        return result["result"]["uuid"]

    def guest_token(self, username: str, resources: list[str], rls: list[dict]) -> str:
        body = {
            "user": {"username": username, "first_name": username, "last_name": ""},
            "resources": [{"type": "dashboard", "id": uuid} for uuid in resources],
            "rls": rls,
        }
        return self.json("POST", "/api/v1/security/guest_token/", json=body)["token"]

    # -- the bundle

    def import_bundle(
        self,
        bi_uri: str,
        bi_password: str | None,
        allowed_domains: list[str] | None = None,
        bundle_dir: Path = BUNDLE_DIR,
    ) -> dict[str, str]:
        """Import analytics/superset/bundle (database, datasets, charts, dashboards) by uuid with
        overwrite, the database pointed at `bi_uri` with the read-only user's password; then make
        every dashboard embeddable. Returns {slug: embedded uuid}. Running it again changes nothing."""
        data, passwords = build_bundle_zip(bundle_dir, bi_uri, bi_password)
        answer = self.request(
            "POST",
            "/api/v1/dashboard/import/",
            files={"formData": ("bundle.zip", data, "application/zip")},
            data={"overwrite": "true", "passwords": json.dumps(passwords)},
            timeout=max(self.timeout, 120),
        )
        if answer.status_code != 200:
            raise SupersetError(f"import refused: {answer.status_code} {answer.text[:1000]}")
        return {slug: self.embedded_uuid(slug, allowed_domains) for slug in DASHBOARDS}


def build_bundle_zip(
    bundle_dir: Path, bi_uri: str, bi_password: str | None
) -> tuple[bytes, dict[str, str]]:
    """The bundle as the ZIP Superset's import takes, its database's sqlalchemy_uri replaced by
    `bi_uri` (password masked as in an export) and the passwords map for the import."""
    url = make_url(bi_uri)
    masked = url.set(password="XXXXXXXXXX") if url.password or bi_password else url
    buffer = io.BytesIO()
    passwords = {}
    root = "marketplace_bi"
    # MySQL: the views are found in the database named by the URI; SQLite has one schema
    schema = None if url.get_backend_name() == "sqlite" else url.database
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(bundle_dir.rglob("*.yaml")):
            relative = path.relative_to(bundle_dir).as_posix()
            content = path.read_text()
            if relative.startswith("databases/"):
                config = yaml.safe_load(content)
                config["sqlalchemy_uri"] = masked.render_as_string(hide_password=False)
                content = yaml.safe_dump(config, sort_keys=False)
                password = bi_password or url.password
                if password:
                    passwords[relative] = password
            elif relative.startswith("datasets/"):
                config = yaml.safe_load(content)
                config["schema"] = schema
                content = yaml.safe_dump(config, sort_keys=False)
            archive.writestr(f"{root}/{relative}", content)
    return buffer.getvalue(), passwords


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# --- the admin's embedded dashboards ------------------------------------------------------------


@dataclass(frozen=True)
class Embed:
    """What the admin's BI page needs to embed one dashboard: the Superset URL browsers reach,
    the dashboard's embedded uuid and a short-lived guest token (handed over in the page body)."""

    dashboard: str
    title: str
    superset_url: str
    uuid: str
    token: str


_embedded_uuids: dict[tuple[str, str], str] = {}


def embed_for(actor, tenant_id: int | None, dashboard: str, config) -> Embed:
    """A guest token for `dashboard` limited to the actor's tenant, and for a Seller to its own
    seller_id (metrics.scope_of decides who may: Admins and approved Sellers). Raises NotFound for
    an unknown dashboard, PermissionDenied for anyone else, SupersetError when Superset is down."""
    if dashboard not in DASHBOARDS:
        raise NotFound(f"no dashboard “{dashboard}”")
    seller_id = scope_of(actor)
    if tenant_id is None:
        raise PermissionDenied("pick a tenant first: dashboards are per tenant")
    client = SupersetClient.from_config(config)
    key = (client.url, dashboard)
    if key not in _embedded_uuids:
        origin = config.get("BI_EMBED_ORIGIN")
        _embedded_uuids[key] = client.embedded_uuid(dashboard, [origin] if origin else [])
    uuid = _embedded_uuids[key]
    token = client.guest_token(
        f"t{tenant_id}-u{actor.user_id}",
        [uuid],
        [{"clause": rls_clause(tenant_id, seller_id)}],
    )
    public = config.get("SUPERSET_PUBLIC_URL") or client.url
    return Embed(dashboard, DASHBOARDS[dashboard], public.rstrip("/"), uuid, token)


def forget_embedded() -> None:
    """Drop the cached embedded uuids (a re-created Superset gives new ones)."""
    _embedded_uuids.clear()
