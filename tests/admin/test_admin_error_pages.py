"""Errors on the admin's pages answer inside its layout with a way back (admin.errors); the JSON API
keeps its envelope; a customer who signs in is told the admin is not for customers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.security import roles
from app.security.models import User
from tests.builders.admin import login, scope

LAYOUT = 'class="navbar'  # FAB's navbar: the page is drawn inside the admin's layout


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    return {
        "tenant": tenant,
        "admin": factory.user(tenant, roles.ADMIN),
        "seller": factory.seller(tenant),
        "customer": factory.customer(tenant),
    }


def test_an_admin_404_is_inside_the_layout_with_a_way_home(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    for url in ("/admin/no-such-page/", "/admin/products/show/999999999", "/nothing-here"):
        response = client.get(url, headers={"Referer": "http://localhost/admin/products/list/"})
        page = response.get_data(as_text=True)
        assert response.status_code == 404, url
        assert response.mimetype == "text/html"
        assert LAYOUT in page and "Page not found" in page
        assert 'href="/"' in page or "Admin home" in page  # a way home
        assert 'href="http://localhost/admin/products/list/"' in page  # and back


def test_signed_out_404_is_styled_too(app, shop):
    client = app.test_client()
    client.environ_base["HTTP_X_TENANT"] = shop["tenant"].slug
    response = client.get("/admin/no-such-page/")
    assert response.status_code == 404 and "Page not found" in response.get_data(as_text=True)


def test_the_api_404_keeps_its_json_envelope(app, shop):
    client = app.test_client()
    response = client.get("/api/v1/no-such-thing", headers={"X-Tenant": shop["tenant"].slug})
    assert response.status_code == 404
    assert response.is_json and response.get_json()["error"]["code"] == "not_found"
    assert "navbar" not in response.get_data(as_text=True)


def test_a_refused_page_is_a_403_inside_the_layout(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    response = client.get("/admin/users/list/")  # Admins only
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert LAYOUT in page and "You may not open this page" in page and "Admin home" in page


def test_a_bad_list_argument_is_a_styled_400_with_its_reason(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    response = client.get("/admin/products/list/?page_ProductView=-1")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and LAYOUT in page
    assert "page must be a whole number" in page


def test_a_failing_admin_page_is_a_styled_500_and_the_api_an_envelope(app, shop, monkeypatch):
    from admin.views import home

    def broken(*args, **kwargs):
        raise RuntimeError("boom: a secret detail")

    monkeypatch.setattr(home, "_counts", broken)
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    app.config["PROPAGATE_EXCEPTIONS"], propagate = False, app.config.get("PROPAGATE_EXCEPTIONS")
    try:
        response = client.get("/")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = propagate
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert LAYOUT in page and "Something went wrong" in page and "Admin home" in page
    assert "boom" not in page and "Traceback" not in page


def test_a_customer_signing_in_is_told_the_admin_is_not_for_customers(app, shop):
    slug, customer = shop["tenant"].slug, shop["customer"].user
    client, response = login(app, slug, customer.username, expect_ok=False)
    assert "/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "customer accounts cannot use the admin" in page
    # a wrong password says nothing about the account
    other, response = login(app, slug, customer.username, "Wrong-password-1", expect_ok=False)
    page = other.get(response.headers["Location"]).get_data(as_text=True)
    assert "customer accounts" not in page and "Invalid login" in page
    # and nothing was counted on the account
    with scope(app):
        user = db.session.scalar(select(User).where(User.id == customer.id))
        assert user.login_count in (None, 0) and user.last_login is None


def test_a_signed_in_customer_gets_a_clear_403_with_a_way_out(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    with scope(app):
        user = db.session.get(User, shop["seller"].user.id)
        user.roles = [app.appbuilder.sm.find_role(roles.CUSTOMER)]
        db.session.commit()
    response = client.get("/admin/products/list/")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "customer account" in page and "Sign out" in page
