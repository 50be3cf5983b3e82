"""Sign-ins in the audit log: a successful one is a "login" row of its own (the user as actor and
entity, its tenant, IP and user agent), not an anonymous "update" of the user row; a refused one
(customer, wrong password, locked account) writes nothing and counts nothing; a tenant Admin never
sees a Super Admin's rows, a Super Admin does. The HTML admin login and the API login alike."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.core.tenancy import unscoped
from app.core.types import utcnow
from app.extensions import db
from app.security import roles
from app.security.models import AuditLog, User
from tests.builders.admin import login
from tests.builders.factories import PASSWORD

pytestmark = pytest.mark.smoke
API = "/api/v1/auth"


def _last_id(app) -> int:
    with app.app_context(), unscoped():
        return db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) or 0


def _rows_since(app, since: int) -> list[AuditLog]:
    with app.app_context(), unscoped():
        rows = db.session.scalars(
            select(AuditLog).where(AuditLog.id > since).order_by(AuditLog.id)
        ).all()
        db.session.expunge_all()
        return rows


def _user(app, user_id: int) -> User:
    with app.app_context(), unscoped():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def _form_post(client, path: str, data: dict):
    """POST an admin form as a browser does: read the form first and send back its CSRF token."""
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    return client.post(path, data={**data, **({"csrf_token": token.group(1)} if token else {})})


def test_an_admin_login_is_a_login_row_of_its_own(app, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    seller = factory.seller(tenant)
    since = _last_id(app)
    login(app, tenant.slug, admin.username)
    login(app, tenant.slug, seller.user.email)  # by e-mail, as a seller
    rows = _rows_since(app, since)
    assert [(r.action, r.actor, r.actor_id, r.entity, r.entity_id) for r in rows] == [
        ("login", admin.username, admin.id, "MarketUser", str(admin.id)),
        ("login", seller.user.username, seller.user.id, "MarketUser", str(seller.user.id)),
    ]
    for row in rows:
        assert row.tenant_id == tenant.id and row.source == "admin" and row.ip == "127.0.0.1"
        assert row.user_agent and row.request_path.startswith("/login/")
    # FAB still counts the sign-in on the user, without an audited "update" of it
    assert _user(app, admin.id).login_count == 1 and _user(app, admin.id).last_login is not None


def test_refused_admin_logins_write_no_row_and_count_nothing(app, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    customer = factory.customer(tenant)
    since = _last_id(app)
    login(
        app, tenant.slug, customer.user.username, expect_ok=False
    )  # the right password: still refused
    login(app, tenant.slug, customer.user.email, expect_ok=False)
    login(app, tenant.slug, admin.username, "not-the-password", expect_ok=False)
    with app.app_context(), unscoped():
        db.session.get(User, admin.id).locked_until = utcnow() + dt.timedelta(minutes=10)
        db.session.commit()
    _, response = login(
        app, tenant.slug, admin.username, expect_ok=False
    )  # locked: the right password too
    assert "/login" in response.headers["Location"]
    assert _rows_since(app, since) == []
    refused_customer, refused_admin = _user(app, customer.user_id), _user(app, admin.id)
    assert not refused_customer.login_count and refused_customer.last_login is None
    assert not refused_admin.login_count and refused_admin.last_login is None
    # and a signed-in session was never opened
    client, _ = login(app, tenant.slug, customer.user.username, expect_ok=False)
    assert client.get("/admin/products/list/").status_code == 302


def _listed_ids(page: str) -> set[int]:
    return {int(i) for i in re.findall(r"/admin/audit-log/show/(\d+)", page)}


def _record_count(page: str) -> int:
    return int(re.search(r"Record Count:</strong>\s*(\d+)", page).group(1))


def test_a_tenant_admin_never_sees_super_admin_rows(app, factory):
    from app.catalog.models import Brand
    from app.core.tenancy import tenant_scope

    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    with app.app_context(), tenant_scope(tenant.id):
        brand = Brand(name="Oakwood", slug=f"oakwood-{tenant.id}")
        db.session.add(brand)
        db.session.commit()
        brand_id = brand.id
    since = _last_id(app)
    super_admin, _ = login(
        app, tenant.slug, app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"]
    )
    # the Super Admin changes one of the tenant's rows, at the tenant's host
    response = _form_post(
        super_admin,
        f"/admin/brands/edit/{brand_id}",
        {"name": "Oakwood & Co", "slug": f"oakwood-{tenant.id}", "is_active": "y"},
    )
    assert response.status_code == 302
    tenant_admin, _ = login(app, tenant.slug, admin.username)
    rows = _rows_since(app, since)
    platform = [r for r in rows if r.actor == app.config["ADMIN_USERNAME"]]
    assert [(r.action, r.entity) for r in platform] == [
        ("login", "MarketUser"),
        ("update", "Brand"),
    ]
    assert all(r.tenant_id is None for r in platform)  # platform rows: no tenant
    own = [r for r in rows if r.actor == admin.username]
    assert [(r.action, r.tenant_id) for r in own] == [("login", tenant.id)]

    page = tenant_admin.get("/admin/audit-log/list/").get_data(as_text=True)
    listed = _listed_ids(page)
    assert own[0].id in listed and not listed & {r.id for r in platform}
    with app.app_context(), unscoped():
        tenant_rows = db.session.scalars(
            select(AuditLog.id).where(AuditLog.tenant_id == tenant.id)
        ).all()
    assert _record_count(page) == len(tenant_rows) and listed == set(tenant_rows)
    for row in platform:
        assert tenant_admin.get(f"/admin/audit-log/show/{row.id}").status_code == 404
    # nor through a search (on the actor, the entity)
    for query in (f"_flt_0_actor={app.config['ADMIN_USERNAME']}", "_flt_0_entity=Brand"):
        found = tenant_admin.get(f"/admin/audit-log/list/?{query}").get_data(as_text=True)
        assert not _listed_ids(found) & {r.id for r in platform}, query
        assert _record_count(found) == 0, query
    # the Super Admin sees them, and the tenant's own
    page = super_admin.get("/admin/audit-log/list/").get_data(as_text=True)
    assert {r.id for r in platform} | {own[0].id} <= _listed_ids(page)
    assert super_admin.get(f"/admin/audit-log/show/{platform[0].id}").status_code == 200


def test_an_api_login_is_a_login_row_and_refused_ones_write_nothing(app, factory):
    tenant = factory.tenant()
    customer = factory.customer(tenant)
    client = app.test_client()
    client.environ_base["HTTP_X_TENANT"] = tenant.slug
    since = _last_id(app)
    assert (
        client.post(
            f"{API}/login/", json={"login": customer.user.email, "password": "wrong-password"}
        ).status_code
        == 401
    )
    assert _rows_since(app, since) == []
    assert _user(app, customer.user_id).fail_login_count == 1  # the lockout still counts it

    response = client.post(
        f"{API}/login/", json={"login": customer.user.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    rows = _rows_since(app, since)
    assert [
        (r.action, r.actor, r.actor_id, r.entity, r.entity_id, r.tenant_id, r.source) for r in rows
    ] == [
        (
            "login",
            customer.user.username,
            customer.user_id,
            "MarketUser",
            str(customer.user_id),
            tenant.id,
            "api",
        )
    ]
    assert rows[0].after["session_id"] and rows[0].ip == "127.0.0.1" and rows[0].user_agent
    assert _user(app, customer.user_id).login_count == 1

    # rotating the refresh token is bookkeeping of the session row: no anonymous "update" rows
    since = _last_id(app)
    assert (
        client.post(
            f"{API}/refresh/", json={"refresh_token": response.get_json()["refresh_token"]}
        ).status_code
        == 200
    )
    assert _rows_since(app, since) == []

    # a Super Admin's API login is a platform row (no tenant)
    since = _last_id(app)
    assert (
        client.post(
            f"{API}/login/",
            json={"login": app.config["ADMIN_USERNAME"], "password": app.config["ADMIN_PASSWORD"]},
        ).status_code
        == 200
    )
    assert [(r.action, r.actor, r.tenant_id) for r in _rows_since(app, since)] == [
        ("login", app.config["ADMIN_USERNAME"], None)
    ]
