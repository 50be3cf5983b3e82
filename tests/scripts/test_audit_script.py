"""scripts/audit.sh (`make audit`): pip-audit on requirements.lock and npm audit on the admin's
front-end lock. This machine cannot reach the real advisory sources (PyPI's per-version JSON API
answers 404 through the registry mirror, api.osv.dev does not resolve, the npm advisory endpoint
answers 405), so the advisory sources are played by a local HTTP server speaking their protocols:
OSV's /v1/query (pip-audit's --osv-url) and the npm registry's bulk advisory endpoint. pip-audit and
npm themselves run for real against it."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "audit.sh"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pin(name: str) -> str:
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.lower().startswith(f"{name.lower()}=="):
            return line.split("==", 1)[1]
    raise AssertionError(f"{name} is not pinned in requirements.lock")


class Advisories(ThreadingHTTPServer):
    """A vulnerable Python package name (or None) and a vulnerable npm package name (or None)."""

    def __init__(self, python_vulnerable=None, npm_vulnerable=None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.python_vulnerable = python_vulnerable
        self.npm_vulnerable = npm_vulnerable
        self.python_queries: list[dict] = []
        self.npm_queries: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output readable
        pass

    def _body(self) -> dict:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        return json.loads(raw or b"{}")

    def _answer(self, payload) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802 (http.server's naming)
        server: Advisories = self.server
        query = self._body()
        if self.path == "/v1/query":
            server.python_queries.append(query)
            name = query.get("package", {}).get("name")
            if name and name == server.python_vulnerable:
                self._answer(
                    {
                        "vulns": [
                            {
                                "id": "GHSA-test-0001",
                                "summary": "planted by the test",
                                "affected": [
                                    {
                                        "package": {"name": name, "ecosystem": "PyPI"},
                                        "ranges": [
                                            {
                                                "type": "ECOSYSTEM",
                                                "events": [{"introduced": "0"}, {"fixed": "999"}],
                                            }
                                        ],
                                    }
                                ],
                            }
                        ]
                    }
                )
            else:
                self._answer({})
        elif self.path == "/-/npm/v1/security/advisories/bulk":
            server.npm_queries.append(query)
            name = server.npm_vulnerable
            if name and name in query:
                self._answer(
                    {
                        name: [
                            {
                                "id": 1000001,
                                "url": "https://example.invalid/advisory",
                                "title": "planted by the test",
                                "severity": "high",
                                "vulnerable_versions": "<9999.0.0",
                                "cwe": [],
                                "cvss": {"score": 0, "vectorString": None},
                            }
                        ]
                    }
                )
            else:
                self._answer({})
        else:
            self.send_error(404)


@pytest.fixture
def advisories(request):
    server = Advisories(*getattr(request, "param", (None, None)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _run(**env) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env}
    return subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_unreachable_sources_are_named_and_nothing_passes_for_audited():
    closed = f"http://127.0.0.1:{_free_port()}"
    result = _run(
        AUDIT_OSV_URL=f"{closed}/v1/query", AUDIT_NPM_REGISTRY=closed, AUDIT_IF_REACHABLE="0"
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "NOT AUDITED: cannot reach an advisory source for Python packages" in result.stderr
    assert "NOT AUDITED: cannot reach the npm registry's advisory endpoint" in result.stderr
    # what CI runs: the skip is reported, not failed
    result = _run(
        AUDIT_OSV_URL=f"{closed}/v1/query", AUDIT_NPM_REGISTRY=closed, AUDIT_IF_REACHABLE="1"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "NOT AUDITED" in result.stderr and "skipped what could not be reached" in result.stdout


def test_clean_lock_files_pass(advisories):
    result = _run(
        AUDIT_OSV_URL=f"{advisories.url}/v1/query",
        AUDIT_NPM_REGISTRY=advisories.url,
        AUDIT_IF_REACHABLE="0",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no known vulnerability" in result.stdout
    # every pin of the lock was asked about, at its pinned version
    asked = {q["package"]["name"]: q["version"] for q in advisories.python_queries}
    assert asked.get("flask") == _pin("Flask")
    assert asked.get("sqlalchemy") == _pin("SQLAlchemy")
    # and the front-end lock's packages were sent to the npm advisory endpoint
    assert any("chart.js" in q for q in advisories.npm_queries)


@pytest.mark.parametrize("advisories", [("flask", None)], indirect=True)
def test_a_vulnerable_python_pin_fails_the_audit(advisories):
    result = _run(
        AUDIT_OSV_URL=f"{advisories.url}/v1/query",
        AUDIT_NPM_REGISTRY=advisories.url,
        AUDIT_IF_REACHABLE="1",  # a finding fails even where skips are allowed
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "GHSA-test-0001" in result.stdout and "flask" in result.stdout
    assert "VULNERABLE: pip-audit: requirements.lock" in result.stderr


@pytest.mark.parametrize("advisories", [(None, "chart.js")], indirect=True)
def test_a_vulnerable_front_end_package_fails_the_audit(advisories):
    result = _run(
        AUDIT_OSV_URL=f"{advisories.url}/v1/query",
        AUDIT_NPM_REGISTRY=advisories.url,
        AUDIT_IF_REACHABLE="1",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "chart.js" in result.stdout
    assert "VULNERABLE: npm audit: admin/assets/package-lock.json" in result.stderr
