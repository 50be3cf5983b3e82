"""Config, migrations, `flask init`, health and OpenAPI: the platform's skeleton."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from admin.cli import init_platform
from app.core.tenancy import unscoped
from app.extensions import db
from app.security import roles
from app.security.models import User

ROOT = Path(__file__).resolve().parents[2]


def _flask(env_extra: dict, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FLASK_APP": "wsgi.py", **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.smoke
def test_production_refuses_a_default_or_missing_secret():
    code = (
        "from app import create_app\n"
        "try:\n    create_app('production')\nexcept RuntimeError as e:\n    print('REFUSED', e)\n"
    )
    base = {
        k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL")
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True
    )
    assert "REFUSED" in out.stdout and "SECRET_KEY" in out.stdout
    env = {
        **base,
        "SECRET_KEY": "dev-only-insecure-secret-key-change-me",
        "DATABASE_URL": "sqlite://",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert "REFUSED" in out.stdout and "default or short SECRET_KEY" in out.stdout


def _empty_database(kind: str, tmp_path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    url = make_url(os.environ["TEST_DATABASE_URL"])
    if url.get_backend_name() != "mysql":
        pytest.skip("the MariaDB migration test needs TEST_DATABASE_URL on MariaDB")
    # beside the suite's own database (per xdist worker): shop_test -> shop_migrations_test
    name = f"{url.database.removesuffix('_test')}_migrations_test"
    url = url.set(database=name)
    server = create_engine(url.set(database=""))
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    server.dispose()
    return url.render_as_string(hide_password=False)


@pytest.mark.parametrize("kind", ["sqlite", "mariadb"])
def test_migrations_build_the_schema_from_empty_and_init_is_idempotent(kind, tmp_path):
    url = _empty_database(kind, tmp_path)
    env = {
        "APP_CONFIG": "development",
        "DATABASE_URL": url,
        "INSTANCE_PATH": str(tmp_path),
        "ADMIN_PASSWORD": "first-admin-pass-1",
        "REDIS_URL": "",
    }
    up = _flask(env, "db", "upgrade", "heads")
    assert up.returncode == 0, up.stderr
    first = _flask(env, "init")
    assert first.returncode == 0, first.stderr
    assert "Super Admin created: admin" in first.stdout
    second = _flask(env, "init")
    assert second.returncode == 0 and "already exists" in second.stdout
    # same role policy both times
    roles_of = lambda out: sorted(line for line in out.splitlines() if line.startswith("role "))  # noqa: E731
    assert roles_of(first.stdout) == roles_of(second.stdout)
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    assert {
        "ab_user",
        "ab_role",
        "tenants",
        "products",
        "product_variants",
        "stock_levels",
        "audit_log",
        "outbox_events",
        "alembic_version",
    } <= tables
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM ab_user")).scalar() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM tenants")).scalar() == 1
        if kind == "mariadb":  # FAB's sequences exist, so inserts through them work
            assert conn.execute(text("SELECT NEXTVAL(ab_user_id_seq)")).scalar() >= 1
    engine.dispose()
    down = _flask(env, "db", "downgrade", "base")
    assert down.returncode == 0, down.stderr


@pytest.mark.smoke
def test_init_twice_changes_nothing(app, ctx):
    with unscoped():
        before = db.session.scalar(select(db.func.count()).select_from(User))
        result = init_platform()
        assert result["password"] is None  # the admin already exists
        assert db.session.scalar(select(db.func.count()).select_from(User)) == before


@pytest.mark.smoke
def test_role_permissions(app, ctx):
    sm = app.appbuilder.sm

    def perms(role_name):
        return {
            (pv.permission.name, pv.view_menu.name) for pv in sm.find_role(role_name).permissions
        }

    seller, admin, superadmin = perms(roles.SELLER), perms(roles.ADMIN), perms(roles.SUPER_ADMIN)
    assert ("can_edit", "ProductView") in seller and ("can_add", "ProductView") in seller
    assert ("can_list", "TenantView") not in seller and ("can_list", "MarketUserView") not in seller
    assert ("can_delete", "StockView") not in seller and ("can_list", "AuditLogView") not in seller
    assert ("can_list", "TenantView") not in admin and ("can_list", "MarketUserView") in admin
    assert ("can_list", "TenantView") in superadmin and admin < superadmin
    assert (
        not perms(roles.CUSTOMER) and not perms(roles.PREMIUM_CUSTOMER) and not perms(roles.GUEST)
    )


@pytest.mark.smoke
def test_health_reports_every_dependency(client):
    response = client.get("/api/core/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"] == {
        "ok": True,
        "configured": True,
        "pong": True,
        "latency_ms": body["checks"]["redis"]["latency_ms"],
    }
    assert (
        body["checks"]["queues"]["mode"] == "inline"
        and "outbox_pending" in body["checks"]["queues"]
    )
    assert body["checks"]["search"]["ok"] is True


def test_health_is_503_when_redis_is_down(app):
    from app import create_app

    broken = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    response = broken.test_client().get("/api/core/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded" and body["checks"]["redis"]["ok"] is False
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.smoke
def test_openapi_and_errors_use_the_envelope(client):
    spec = client.get("/api/schema/")
    assert spec.status_code == 200
    assert {"/api/core/health", "/api/core/ping"} <= set(spec.get_json()["paths"])
    assert client.get("/api/core/ping").get_json() == {"ok": True}
    # the YAML document is the JSON one, readable by any YAML parser (no Python tags)
    assert yaml.safe_load(client.get("/api/schema.yaml").get_data(as_text=True)) == spec.get_json()
    assert (
        client.get("/api/docs/").status_code == 200 and client.get("/api/redoc/").status_code == 200
    )
    missing = client.get("/api/v1/nothing-here/")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    unknown_tenant = client.get("/api/core/health", headers={"X-Tenant": "no-such-shop"})
    assert (
        unknown_tenant.status_code == 404
        and unknown_tenant.get_json()["error"]["code"] == "tenant_not_found"
    )
    # FAB's HTML pages keep HTML errors
    html_missing = client.get("/admin/no-such-page/")
    assert html_missing.status_code == 404 and not html_missing.is_json


@pytest.mark.smoke
def test_405_keeps_the_allow_header_and_the_envelope(client):
    response = client.delete("/api/core/health")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_one_time_tokens_in_paths_are_masked_for_the_audit_log():
    from app.security.audit import mask_secrets_in_path

    assert (
        mask_secrets_in_path("/api/v1/auth/verify-email/abc.DEF-123/?x=1")
        == "/api/v1/auth/verify-email/***/?x=1"
    )
    assert (
        mask_secrets_in_path("/api/v1/auth/validate-reset-token/t0k3n/")
        == "/api/v1/auth/validate-reset-token/***/"
    )
    assert mask_secrets_in_path("/api/v1/products/12/") == "/api/v1/products/12/"


@pytest.mark.smoke
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/99999999999999999999/",
        "/api/v1/reviews/9223372036854775808/",
        "/api/v1/products/2147483648/",
    ],
)
def test_path_ids_beyond_the_int_columns_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("driver", ["mysqldb", "pymysql"])
def test_both_mysql_drivers_raise_deadlocks_and_duplicate_keys_the_way_the_retries_expect(driver):
    """mysqlclient (mysql+mysqldb, the default) and PyMySQL (mysql+pymysql, also supported) must
    look the same to app.core.db: a real deadlock between two threads is an OperationalError that
    is_deadlock() recognises (the checkout and cart retries depend on it), a duplicate key an
    IntegrityError (the idempotency-key and cart claims depend on it), under READ COMMITTED."""
    import threading

    from sqlalchemy.exc import IntegrityError, OperationalError

    from app.core.db import is_deadlock

    url = make_url(os.environ["TEST_DATABASE_URL"])
    if url.get_backend_name() != "mysql":
        pytest.skip("needs TEST_DATABASE_URL on MariaDB")
    engine = create_engine(url.set(drivername=f"mysql+{driver}"), isolation_level="READ COMMITTED")
    table = f"driver_probe_{driver}"
    try:
        with engine.begin() as conn:
            assert conn.dialect.driver == driver
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
            conn.execute(text(f"CREATE TABLE {table} (id INT PRIMARY KEY, n INT) ENGINE=InnoDB"))
            conn.execute(text(f"INSERT INTO {table} VALUES (1, 0), (2, 0)"))
        with engine.connect() as conn, pytest.raises(IntegrityError):
            conn.execute(text(f"INSERT INTO {table} VALUES (1, 5)"))

        both_locked_one = threading.Barrier(2, timeout=10)
        errors: list[BaseException] = []

        def lock_in_order(first: int, second: int) -> None:
            try:
                with engine.begin() as conn:
                    conn.execute(text(f"UPDATE {table} SET n = n + 1 WHERE id = :i"), {"i": first})
                    both_locked_one.wait()
                    conn.execute(text(f"UPDATE {table} SET n = n + 1 WHERE id = :i"), {"i": second})
            except OperationalError as exc:
                errors.append(exc)

        threads = [threading.Thread(target=lock_in_order, args=pair) for pair in ((1, 2), (2, 1))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(errors) == 1, errors  # InnoDB picked one victim; the other committed
        assert is_deadlock(errors[0]), errors[0]
        with engine.connect() as conn:
            assert (
                conn.execute(text(f"SELECT SUM(n) FROM {table}")).scalar() == 2
            )  # the winner's two
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()
