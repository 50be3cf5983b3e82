"""A database that cannot serve a request answers 503 with Retry-After, in the API's envelope and on
the admin's page, never a 500 with a stack trace; once it can serve again, requests succeed with no
restart. Two real failures, each in a process of its own (an app whose pool or server is broken,
so the session app's is untouched):

- every pooled connection busy: the app's pool has one connection, held by the test, and a
  timeout of half a second (SQLAlchemy's pool TimeoutError);
- the server unreachable: the app's database URL names a port where nothing listens (the MySQL
  client's error 2003), then the app's URL is pointed back at the real server.

Each request names a storefront that no cache knows, so resolving it must ask the database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_DB_URL

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, sys, uuid
from app import create_app
from app.extensions import db

url, dead_url, index_dir = sys.argv[1:4]
found = {}


def ask(client, path):
    r = client.get(path, headers={"X-Tenant": "nowhere-" + uuid.uuid4().hex[:8]})
    body = r.get_data(as_text=True)
    return {
        "status": r.status_code,
        "retry_after": r.headers.get("Retry-After"),
        "json": r.get_json(silent=True),
        "traceback": "Traceback" in body,
        "page": "Unavailable for a moment" in body,
    }


busy = create_app(
    "testing",
    SQLALCHEMY_DATABASE_URI=url,
    SEARCH_INDEX_DIR=index_dir + "/a",
    SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.5},
)
with busy.app_context():
    held = db.engine.connect()  # the pool's only connection
    client = busy.test_client()
    found["busy_api"] = ask(client, "/api/v1/products/")
    found["busy_admin"] = ask(client, "/login/")
    held.close()
    found["busy_after"] = ask(client, "/api/v1/products/")

down = create_app("testing", SQLALCHEMY_DATABASE_URI=dead_url, SEARCH_INDEX_DIR=index_dir + "/b")
with down.app_context():
    client = down.test_client()
    found["down_api"] = ask(client, "/api/v1/products/")
    found["down_admin"] = ask(client, "/login/")
print(json.dumps(found))
"""


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_busy_or_unreachable_database_answers_503_with_retry_after(app, tmp_path):
    if TEST_DB_URL.startswith("sqlite"):
        import pytest

        pytest.skip("a pool of MySQL connections and a server to be unreachable: MariaDB only")
    dead = TEST_DB_URL.replace("127.0.0.1:3306", f"127.0.0.1:{_closed_port()}")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, TEST_DB_URL, dead, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "APP_CONFIG": "testing", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])

    for case in ("busy_api", "down_api"):
        answer = found[case]
        assert answer["status"] == 503, (case, answer)
        assert answer["retry_after"] == "5"
        assert answer["json"]["error"]["code"] == "service_unavailable"
        assert answer["json"]["error"]["details"] == {"retry_after": 5}
        assert not answer["traceback"]
    for case in ("busy_admin", "down_admin"):
        answer = found[case]
        assert (answer["status"], answer["retry_after"], answer["page"]) == (503, "5", True), case
        assert not answer["traceback"]
    # the connection is free again: the same app answers from the database (an unknown storefront)
    after = found["busy_after"]
    assert after["status"] == 404 and after["json"]["error"]["code"] == "tenant_not_found"
    # the warning names the failure, not the statement or its parameters
    assert "database unavailable on GET /api/v1/products/" in done.stderr
    assert "SELECT" not in done.stderr.split("database unavailable")[1][:200]
