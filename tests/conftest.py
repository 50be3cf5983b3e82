"""Test fixtures: one app per session on a freshly migrated database (MariaDB by default, SQLite
for the smoke run), made the only supported way (`flask db upgrade` + `flask init`).

Tests commit for real (services own their transactions), so isolation comes from data: each test
makes its own tenant(s) through `factories`, and tenancy keeps them apart.
"""

from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.datastructures import MultiDict

os.environ.setdefault("APP_CONFIG", "testing")
TEST_DB_URL = os.environ.get(
    "TEST_DATABASE_URL", "mysql+mysqldb://root@127.0.0.1:3306/shop_test?charset=utf8mb4"
)


def _per_worker(worker: str) -> None:
    """Under pytest-xdist (`make test` runs two workers) each worker gets its own database, Redis
    database and instance folder, so that the workers never see each other's rows, queues, rate
    limits or files: shop_test becomes shop_gw1_test, Redis db 15 becomes 14, and so on. Set in
    os.environ before the app's config is imported, so the `flask` subprocesses some tests start
    inherit them too. Without xdist (PYTEST_XDIST_WORKER unset) nothing changes."""
    global TEST_DB_URL
    index = int(worker.removeprefix("gw"))
    url = make_url(TEST_DB_URL)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database)
        url = url.set(database=str(path.with_name(f"{path.stem}-{worker}{path.suffix}")))
    else:
        name = url.database or ""
        base = name.removesuffix("_test")
        url = url.set(database=f"{base}_{worker}_test")
    TEST_DB_URL = url.render_as_string(hide_password=False)
    redis_url = make_url(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    redis_db = (int(redis_url.database or 0) - index) % 16
    os.environ["TEST_REDIS_URL"] = redis_url.set(database=str(redis_db)).render_as_string(
        hide_password=False
    )
    if os.environ.get("INSTANCE_PATH"):
        os.environ["INSTANCE_PATH"] = f"{os.environ['INSTANCE_PATH']}-{worker}"


if os.environ.get("PYTEST_XDIST_WORKER"):
    _per_worker(os.environ["PYTEST_XDIST_WORKER"])
os.environ["TEST_DATABASE_URL"] = TEST_DB_URL


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Apache Superset for tests/superset (issue 17), started there by a session fixture on this port:
# chosen now, because config.py reads SUPERSET_* (and the admin's CSP its frame-src) when imported
SUPERSET_TEST_PORT = int(os.environ.get("TEST_SUPERSET_PORT") or _free_port())
SUPERSET_TEST_URL = f"http://127.0.0.1:{SUPERSET_TEST_PORT}"
SUPERSET_TEST_PASSWORD = secrets.token_urlsafe(12)
os.environ["SUPERSET_URL"] = os.environ["SUPERSET_PUBLIC_URL"] = SUPERSET_TEST_URL
os.environ["SUPERSET_USERNAME"] = "admin"
os.environ["SUPERSET_PASSWORD"] = SUPERSET_TEST_PASSWORD
os.environ.pop("BI_EMBED_ORIGIN", None)  # the live servers' ports vary: any origin may embed


def _fresh_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()
        return
    name = parsed.database
    assert name and name.endswith("_test"), (
        "tests only ever recreate a database whose name ends in _test"
    )
    server = create_engine(parsed.set(database=""))
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(
            text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        )
    server.dispose()


class FormClient(FlaskClient):
    """`app.test_client()` in this suite. A form POST to an HTML page (anything outside /api/)
    carries the session's CSRF token, as a browser's does when it submits a form an admin page
    rendered; `post(..., csrf=False)` sends none (what a forged cross-site post looks like).
    The token is made the way Flask-WTF makes the one it renders (the session's raw token, signed
    with salt "wtf-csrf-token"); tests/admin/test_admin_csrf.py checks both against each other."""

    def post(self, *args, csrf: bool = True, **kwargs):
        url = args[0] if args else kwargs.get("path", "/")
        data = kwargs.get("data")
        if (
            csrf
            and "json" not in kwargs
            and not str(url).startswith("/api/")
            and "csrf_token" not in (data or {})
        ):
            if isinstance(data, MultiDict):  # repeated keys (a multiple select): keep every value
                data = data.copy()
                data.add("csrf_token", self.csrf_token())
                kwargs["data"] = data
            elif data is None or isinstance(data, dict):
                kwargs["data"] = {"csrf_token": self.csrf_token(), **(data or {})}
        return super().post(*args, **kwargs)

    def csrf_token(self) -> str:
        app = self.application
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        key = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
        return URLSafeTimedSerializer(key, salt="wtf-csrf-token").dumps(raw)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    _fresh_database(TEST_DB_URL)
    from flask_migrate import upgrade

    from admin.cli import init_platform
    from app import create_app

    instance = tmp_path_factory.mktemp("instance")
    application = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=TEST_DB_URL,
        SEARCH_INDEX_DIR=str(instance / "search"),
        # the concurrency tests start up to 200 threads on the pool's 15 connections while the
        # other xdist worker loads the same two CPUs: a wait for a connection may pass the default
        # 30 s (stop 26: 62 of 200 checkouts got the pool's TimeoutError). They test what is sold
        # and locked, not how long a loaded machine makes a thread queue; production keeps 30 s.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_timeout": 180},
    )
    application.test_client_class = FormClient
    with application.app_context():
        upgrade(revision="heads")  # parallel branches until they are merged
        init_platform()
        # the database is new but its URL (the cache's key prefix) is not: ids start again at 1,
        # so entries an earlier run cached for tenant 1 must not answer for this run's tenant 1
        from app.core import cache

        cache.forget_database()
    yield application


@pytest.fixture(autouse=True)
def _socketio_on_the_session_app(request):
    """Flask-SocketIO's `socketio` is one object for every app, and its `server` is the latest
    app's: a test that builds another app (create_app for a worker or an HSTS check) moves it.
    Its event handlers look a client up on that server (flask_socketio `_handle_event`), so a
    client of the session app's server (the browser tests' pages) would connect without its
    connect handler ever running: in no room, hearing nothing. Each test starts with it back on
    the session app's server, as a real process (one app) always has it."""
    if "app" in request.fixturenames:
        from app.extensions import socketio

        socketio.server = request.getfixturevalue("app").extensions["socketio_server"]


@pytest.fixture
def live_server(app):
    """The test app served over HTTP on a free port (threaded), for the browser tests."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def ctx(app):
    """An app context with a clean session; rolled back and removed afterwards."""
    from app.extensions import db

    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def factory(app):
    from tests.builders.factories import Factory

    return Factory(app)


def unique(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def is_sqlite() -> bool:
    return TEST_DB_URL.startswith("sqlite")
