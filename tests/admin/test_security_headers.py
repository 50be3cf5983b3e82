"""Security headers (Flask-Talisman, config.py "Security headers"): a Content-Security-Policy whose
script nonce is the one the page's inline scripts carry, frame protection, nosniff and a Referrer-Policy
on admin pages and API answers; HSTS on HTTPS when enabled (production). That the admin's own pages
pass the policy in a real browser: tests/browser/test_admin_csp_browser.py."""

from __future__ import annotations

import re

import pytest

from app import create_app
from config import Config, DevelopmentConfig, ProductionConfig, TestingConfig
from tests.builders.admin import login
from tests.conftest import TEST_DB_URL

pytestmark = pytest.mark.smoke


def _policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in header.split("; ")}


def test_admin_pages_carry_a_csp_whose_nonce_the_inline_scripts_use(app, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, "Admin")
    factory.product(factory.seller(tenant), title="Header lamp")
    client, _ = login(app, tenant.slug, admin.username)
    inline_seen = 0
    for url in ("/login/", "/admin/products/list/", "/admin/products/add"):
        response = (client if url != "/login/" else app.test_client()).get(url)
        assert response.status_code == 200, url
        policy = _policy(response)
        assert policy["default-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
        assert policy["object-src"] == "'none'" and policy["form-action"] == "'self'"
        nonce = re.fullmatch(r"'self' 'nonce-([\w-]+)'", policy["script-src"]).group(1)
        html = response.get_data(as_text=True)
        inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
        inline_seen += len(inline)
        assert all(f'nonce="{nonce}"' in attrs for attrs in inline), url
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in response.headers  # not in testing, not over http
    assert inline_seen, "FAB's list page has inline scripts: the nonce check must have seen some"
    # a new nonce per response
    first, second = (_policy(client.get("/admin/products/list/"))["script-src"] for _ in range(2))
    assert first != second


def test_api_answers_carry_nosniff_and_frame_protection(app, factory):
    tenant = factory.tenant()
    response = app.test_client().get("/api/v1/products/", headers={"X-Tenant": tenant.slug})
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert _policy(response)["frame-ancestors"] == "'none'"


def test_hsts_is_on_in_production_and_sent_over_https_only(app, factory):
    assert ProductionConfig.HSTS_ENABLED is True
    assert Config.HSTS_ENABLED is False and DevelopmentConfig.HSTS_ENABLED is False
    assert TestingConfig.HSTS_ENABLED is False
    # the production setting, on an app of this suite's database
    hsts = create_app("testing", SQLALCHEMY_DATABASE_URI=TEST_DB_URL, HSTS_ENABLED=True)
    tenant = factory.tenant()
    client = hsts.test_client()
    over_https = client.get(
        "/login/", base_url="https://shop.example", headers={"X-Tenant": tenant.slug}
    )
    assert over_https.headers["Strict-Transport-Security"] == "max-age=31536000"
    over_http = client.get("/login/", headers={"X-Tenant": tenant.slug})
    assert "Strict-Transport-Security" not in over_http.headers


def test_api_docs_load_their_scripts_from_this_origin(app):
    client = app.test_client()
    for page, asset in (
        ("/api/docs/", "/admin/static/vendor/swagger-ui/swagger-ui-bundle.js"),
        ("/api/redoc/", "/admin/static/vendor/redoc/redoc.standalone.js"),
    ):
        html = client.get(page).get_data(as_text=True)
        assert f'src="{asset}"' in html and "https://" not in html, page
        served = client.get(asset)
        assert served.status_code == 200, (
            f"{asset} missing: `make install` vendors the npm packages"
        )
        served.close()
    # the Swagger UI page's inline script carries the nonce of its response
    response = client.get("/api/docs/")
    nonce = _policy(response)["script-src"].split("'nonce-")[1].rstrip("'")
    assert response.get_data(as_text=True).count(f'nonce="{nonce}"') == 3
