"""Apache Superset, really running (issue 17): set up from scratch by scripts/superset.sh (its venv
built once per pins hash, a fresh metadata DB, its admin, `superset init`), served by gunicorn on
SUPERSET_TEST_PORT; the BI views granted to a read-only user of the test database; the bundle
(analytics/superset/bundle) imported. Then:

- the bundle imported twice leaves one of each object (same ids, same embedded uuids);
- the chart data API with a Seller's guest token returns only that seller's rows (an Admin's:
  its tenant's, never another tenant's), and a guest token whose RLS clause was tampered with is
  refused;
- the admin's BI page (Analytics > BI dashboards) in headless Chromium for an Admin and a Seller
  renders the embedded dashboard's charts with the right figures; when Superset is down the page
  says so.

One file on purpose: `make test` runs a file on one xdist worker, so one Superset serves it all.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import secrets
import signal
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from analytics import bi
from tests.builders.admin import login
from tests.conftest import (
    SUPERSET_TEST_PASSWORD,
    SUPERSET_TEST_PORT,
    SUPERSET_TEST_URL,
    TEST_DB_URL,
)

pytestmark = [pytest.mark.superset, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "superset.sh"
BUNDLE = bi.BUNDLE_DIR


def _redis_url() -> str:
    # Superset's own cache in the tests: Redis db 5 (keys prefixed per run)
    url = make_url(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    return f"redis://{url.host or '127.0.0.1'}:{url.port or 6379}/5"


@pytest.fixture(scope="session")
def superset(tmp_path_factory):
    """Superset from scratch: the venv (built here when missing: ~80 s once per pins hash), a new
    metadata DB, its admin, `superset init`, then gunicorn; stopped at the end of the session."""
    subprocess.run([str(SCRIPT), "install"], check=True)
    home = tmp_path_factory.mktemp("superset-home")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("SUPERSET_") and k != "FLASK_APP"
    }
    env.update(
        SUPERSET_SECRET_KEY=secrets.token_urlsafe(40),
        SUPERSET_HOME=str(home),
        SUPERSET_PORT=str(SUPERSET_TEST_PORT),
        SUPERSET_PUBLIC_URL=SUPERSET_TEST_URL,
        SUPERSET_ADMIN_PASSWORD=SUPERSET_TEST_PASSWORD,
        SUPERSET_REDIS_URL=_redis_url(),
        SUPERSET_CACHE_KEY_PREFIX=f"superset_test_{secrets.token_hex(6)}_",
        # the live servers' ports vary: any port of this host may frame it
        SUPERSET_ADMIN_ORIGIN="http://127.0.0.1:*",
        SUPERSET_WORKERS="2",
    )
    log = open(home / "superset.log", "w")  # noqa: SIM115 (kept open for the server's lifetime)
    started = time.monotonic()
    subprocess.run([str(SCRIPT), "init"], env=env, check=True, stdout=log, stderr=subprocess.STDOUT)
    server = subprocess.Popen(
        [str(SCRIPT), "serve-only"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: gunicorn's workers stop with it
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, (home / "superset.log").read_text()[-3000:]
            try:
                if requests.get(f"{SUPERSET_TEST_URL}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("Superset did not answer /health in 120 s")
        print(f"\nSuperset set up from scratch in {time.monotonic() - started:.1f} s")
        bi.forget_embedded()
        yield bi.SupersetClient(SUPERSET_TEST_URL, "admin", SUPERSET_TEST_PASSWORD, timeout=30)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def bi_user(app):
    """The read-only BI user of the test database (one per database, dropped at the end)."""
    from sqlalchemy import text

    from app.extensions import db

    url = make_url(TEST_DB_URL)
    if url.get_backend_name() == "sqlite":
        pytest.skip("the BI dashboards are tested on MariaDB")
    user = "bi_" + hashlib.sha256(url.database.encode()).hexdigest()[:12]
    password = secrets.token_urlsafe(16)
    with app.app_context():
        bi.grant_readonly_user(db.engine, user, password, "%")
    uri = url.set(username=user, password=None).render_as_string(hide_password=False)
    yield uri, password
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))


@pytest.fixture(scope="session")
def imported(superset, bi_user):
    uri, password = bi_user
    return superset.import_bundle(uri, password)


def _objects(client: bi.SupersetClient) -> dict[str, list]:
    out = {}
    for kind in ("database", "dataset", "chart", "dashboard"):
        query = "(page_size:100,columns:!(id,uuid))"
        result = client.json("GET", f"/api/v1/{kind}/?q={query}")
        out[kind] = sorted((row["id"], row.get("uuid")) for row in result["result"])
        assert result["count"] == len(out[kind])
    return out


def test_the_bundle_imported_twice_leaves_one_of_each(superset, imported, bi_user):
    expected = {
        "database": len(list(BUNDLE.glob("databases/*.yaml"))),
        "dataset": len(list(BUNDLE.glob("datasets/*/*.yaml"))),
        "chart": len(list(BUNDLE.glob("charts/*.yaml"))),
        "dashboard": len(list(BUNDLE.glob("dashboards/*.yaml"))),
    }
    assert expected == {"database": 1, "dataset": 14, "chart": 20, "dashboard": 6}
    first = _objects(superset)
    assert {kind: len(rows) for kind, rows in first.items()} == expected
    uri, password = bi_user
    again = superset.import_bundle(uri, password)
    assert again == imported  # the same embedded uuids
    assert _objects(superset) == first  # the same objects, by id and uuid
    slugs = {superset.dashboard(slug)["dashboard_title"] for slug in bi.DASHBOARDS}
    assert slugs == set(bi.DASHBOARDS.values())


# --- row-level security ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def shop(app):
    """Two tenants: A with sellers S1 and S2, B with S3, each with sales in the aggregates (the
    aggregates' own tests prove how orders become these rows)."""
    from analytics.aggregates.models import SalesDaily
    from app.core.tenancy import tenant_scope
    from app.extensions import db
    from tests.builders.factories import Factory

    factory = Factory(app)
    a, b = factory.tenant(), factory.tenant()
    s1, s2, s3 = factory.seller(a), factory.seller(a), factory.seller(b)
    admin = factory.user(a, "Admin")
    today = dt.date.today()
    plan = [(s1, "111.00", 3), (s2, "2222.00", 5), (s3, "33333.00", 7)]
    for seller, gross, days in plan:
        with app.app_context(), tenant_scope(seller.tenant_id):
            for d in range(days):
                db.session.add(
                    SalesDaily(
                        day=today - dt.timedelta(days=d + 1),
                        seller_id=seller.id,
                        channel="storefront",
                        currency="USD",
                        orders=1,
                        shop_orders=1,
                        units=2,
                        gross=Decimal(gross),
                        net=Decimal(gross) * Decimal("0.9"),
                    )
                )
            db.session.commit()
    return {"a": a, "b": b, "s1": s1, "s2": s2, "s3": s3, "admin": admin}


def _chart(client: bi.SupersetClient, name: str) -> dict:
    dashboard = client.dashboard("sales")
    charts = client.json("GET", "/api/v1/dashboard/sales/charts")["result"]
    chart = next(c for c in charts if c["slice_name"] == name)
    return {"dashboard": dashboard["id"], "chart": chart}


def _sales_by_store(client: bi.SupersetClient, token: str, tamper=None) -> requests.Response:
    """The "Sales by store" chart's own query, asked as the guest (X-GuestToken)."""
    found = _chart(client, "Sales by store")
    chart = found["chart"]
    params = chart["form_data"]
    dataset = int(str(params["datasource"]).split("__")[0])
    body = {
        "datasource": {"id": dataset, "type": "table"},
        "force": True,
        "queries": [
            {
                "columns": params["groupby"],
                "metrics": params["metrics"],
                "orderby": [[params["metrics"][0], False]],
                "row_limit": 100,
                "filters": [],
                "extras": {"having": "", "where": ""},
                "time_range": "No filter",
            }
        ],
        "form_data": {**params, "dashboardId": found["dashboard"], "slice_id": chart["id"]},
        "result_format": "json",
        "result_type": "full",
    }
    return requests.post(
        f"{client.url}/api/v1/chart/data",
        json=body,
        headers={"X-GuestToken": tamper(token) if tamper else token},
        timeout=60,
    )


def _guest_token(client, imported, tenant_id, seller_id):
    return client.guest_token(
        "rls-test", [imported["sales"]], [{"clause": bi.rls_clause(tenant_id, seller_id)}]
    )


def _rows(answer: requests.Response) -> dict[str, float]:
    assert answer.status_code == 200, answer.text[:2000]
    data = answer.json()["result"][0]["data"]
    return {row["store_name"]: row["Gross"] for row in data}


def test_a_sellers_guest_token_sees_only_its_rows(superset, imported, shop):
    a, s1, s2, s3 = shop["a"], shop["s1"], shop["s2"], shop["s3"]
    seller_rows = _rows(_sales_by_store(superset, _guest_token(superset, imported, a.id, s1.id)))
    assert seller_rows == {s1.store_name: 333.0}  # 3 days x 111.00, nothing of S2 or S3
    admin_rows = _rows(_sales_by_store(superset, _guest_token(superset, imported, a.id, None)))
    assert admin_rows == {s1.store_name: 333.0, s2.store_name: 11110.0}  # never tenant B's S3
    assert s3.store_name not in admin_rows


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_tampered_guest_token_is_refused(superset, imported, shop):
    a, s1 = shop["a"], shop["s1"]
    token = _guest_token(superset, imported, a.id, s1.id)

    def widen(token: str) -> str:
        """The seller's token with its clause widened to the whole tenant, signature kept."""
        header, payload, signature = token.split(".")
        claims = json.loads(_unb64(payload))
        assert claims["rls_rules"] == [{"clause": f"tenant_id = {a.id} AND seller_id = {s1.id}"}]
        claims["rls_rules"] = [{"clause": f"tenant_id = {a.id}"}]
        return ".".join([header, _b64(json.dumps(claims).encode()), signature])

    refused = _sales_by_store(superset, token, tamper=widen)
    assert refused.status_code in (401, 403), refused.text[:500]
    assert "data" not in refused.text or '"data"' not in refused.text
    # and the untampered token still works (the refusal is the tampering's)
    assert _rows(_sales_by_store(superset, token)) == {s1.store_name: 333.0}


# --- the admin's BI page -----------------------------------------------------------------------------


def test_bi_page_embeds_with_a_token_in_the_body_never_a_url(app, superset, imported, shop):
    client, _ = login(app, shop["a"].slug, shop["s1"].user.username)
    page = client.get("/admin/analytics/bi/?dashboard=sales")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="bi-data"' in html and "vendor/superset/embedded-sdk.js" in html
    data = json.loads(html.split('id="bi-data">')[1].split("</script>")[0])
    assert data["id"] == imported["sales"] and data["supersetDomain"] == SUPERSET_TEST_URL
    claims = json.loads(_unb64(data["token"].split(".")[1]))
    assert claims["rls_rules"] == [
        {"clause": f"tenant_id = {shop['a'].id} AND seller_id = {shop['s1'].id}"}
    ]
    assert claims["exp"] - claims["iat"] <= 300  # short-lived
    assert data["token"] not in html.replace(json.dumps(data["token"]), "")  # only in #bi-data
    csp = page.headers["Content-Security-Policy"]
    assert f"frame-src 'self' {SUPERSET_TEST_URL}" in csp
    # a fresh token by POST (the SDK's refresh), never GET
    assert client.get("/admin/analytics/bi/token?dashboard=sales").status_code == 405
    fresh = client.post(
        "/admin/analytics/bi/token?dashboard=sales",
        headers={"X-CSRFToken": client.csrf_token() if hasattr(client, "csrf_token") else ""},
    )
    assert fresh.status_code == 200, fresh.get_data(as_text=True)[:500]
    claims = json.loads(_unb64(fresh.get_json()["token"].split(".")[1]))
    assert claims["rls_rules"][0]["clause"].endswith(f"seller_id = {shop['s1'].id}")


def test_bi_page_says_so_when_superset_is_down(app, shop, monkeypatch):
    """Superset's URL pointed at a closed port: the page is an explanation, not a blank frame."""
    monkeypatch.setitem(app.config, "SUPERSET_URL", "http://127.0.0.1:9")
    client, _ = login(app, shop["a"].slug, shop["admin"].username)
    page = client.get("/admin/analytics/bi/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="bi-down"' in html and "not available right now" in html
    assert 'id="bi-frame"' not in html and "embedded-sdk.js" not in html


def test_bi_page_and_its_token_are_for_admins_and_approved_sellers_only(app, shop):
    """Signed out: the sign-in page. A customer: refused by the role. A seller waiting for
    approval: a note and no token, and the token route answers 403. None of them needs Superset
    (they are refused before it is asked)."""
    from tests.builders.factories import Factory

    factory = Factory(app)
    tenant = shop["a"]
    anonymous = app.test_client()
    anonymous.environ_base["HTTP_X_TENANT"] = tenant.slug
    for response in (
        anonymous.get("/admin/analytics/bi/"),
        anonymous.post("/admin/analytics/bi/token?dashboard=sales"),
    ):
        assert response.status_code == 302 and "/login/" in response.headers["Location"]

    # a Customer's sign-in to the admin is refused: it stays signed out
    customer, _ = login(
        app, tenant.slug, factory.user(tenant, "Customer").username, expect_ok=False
    )
    for response in (
        customer.get("/admin/analytics/bi/"),
        customer.post("/admin/analytics/bi/token?dashboard=sales"),
    ):
        assert response.status_code in (302, 403)
        assert not response.headers.get("Location", "").split("?")[0].endswith("/analytics/bi/")
        assert "token" not in (response.get_json(silent=True) or {})

    pending, _ = login(app, tenant.slug, factory.seller(tenant, status="pending").user.username)
    page = pending.get("/admin/analytics/bi/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="bi-note"' in html and 'id="bi-data"' not in html
    refused = pending.post(
        "/admin/analytics/bi/token?dashboard=sales",
        headers={"X-CSRFToken": pending.csrf_token() if hasattr(pending, "csrf_token") else ""},
    )
    assert refused.status_code == 403 and "token" not in refused.get_json()


@pytest.mark.browser
@pytest.mark.parametrize("who", ["admin", "s1"])
def test_bi_page_renders_charts_in_chromium(live_server, superset, imported, shop, who, tmp_path):
    from tests.browser.chromium import admin_page, shoot

    user = shop[who] if who == "admin" else shop[who].user
    with admin_page(live_server, shop["a"].slug, user.username, height=1200) as page:
        page.goto(f"{live_server}/admin/analytics/bi/?dashboard=sales")
        assert page.locator("#bi-frame iframe").count() == 1
        frame = page.frame_locator("#bi-frame iframe")
        # the table chart "Sales by store" renders its rows; the big numbers their figure
        table = frame.locator("table").first
        table.wait_for(state="visible", timeout=90_000)
        frame.get_by_text(shop["s1"].store_name).first.wait_for(timeout=60_000)
        body = frame.locator("body").inner_text(timeout=30_000)
        assert shop["s3"].store_name not in body  # another tenant's seller: never
        if who == "s1":
            assert shop["s2"].store_name not in body
        else:
            assert shop["s2"].store_name in body
        page.wait_for_timeout(1500)  # the echarts canvases finish their animation
        assert frame.locator("canvas").count() >= 1  # the bar chart and the pie are drawn
        assert "Unexpected error" not in body and "ERROR" not in body
        shoot(page, tmp_path, f"bi-{who}")
        # Superset's own cookie never replaces the admin's (same host, another port): the next
        # page of the admin still opens signed in
        page.goto(f"{live_server}/admin/analytics/bi/?dashboard=products")
        assert "/login" not in page.url
        assert page.locator("#bi-frame iframe").count() == 1
