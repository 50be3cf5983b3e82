"""The admin sessions page (/admin/sessions): Admins see and revoke their tenant's sessions;
sellers have no access; another tenant's sessions never show."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.security import roles
from app.security.session_models import AuthSession
from tests.builders.auth import API, bearer, client_for, login
from tests.builders.factories import PASSWORD


def html_login(app, slug: str, username: str):
    client = client_for(app, slug)
    response = client.post("/login/", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    return client


@pytest.mark.smoke
def test_admin_lists_and_revokes_sessions_of_its_tenant_only(app, factory):
    tenant, other = factory.tenant(), factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    customer = factory.user(tenant, roles.CUSTOMER)
    seller = factory.seller(tenant)
    foreign = factory.user(other, roles.CUSTOMER)
    mine = login(
        client_for(app, tenant.slug), customer.email, device_name=f"dev-{tenant.slug}"
    ).get_json()
    login(client_for(app, other.slug), foreign.email, device_name=f"dev-{other.slug}")

    staff = html_login(app, tenant.slug, admin.username)
    page = staff.get("/admin/sessions/list/")
    assert page.status_code == 200
    assert (
        f"dev-{tenant.slug}".encode() in page.data and f"dev-{other.slug}".encode() not in page.data
    )
    with app.app_context():
        assert db.session.get(AuthSession, mine["session_id"]).revoked_at is None
    response = staff.post(
        "/admin/sessions/action_post", data={"action": "revoke", "rowid": [mine["session_id"]]}
    )
    assert response.status_code == 302
    with staff.session_transaction() as flashed:  # admin/bulk.py's summary
        assert flashed.pop("_flashes") == [("success", "1 session revoked.")]
    with app.app_context():
        row = db.session.get(AuthSession, mine["session_id"])
        assert row.revoked_at is not None and row.revoke_reason == "revoked_by_admin"
    # revoked already: refused, named, and the summary says none was
    staff.post(
        "/admin/sessions/action_post", data={"action": "revoke", "rowid": [mine["session_id"]]}
    )
    with staff.session_transaction() as flashed:
        assert flashed.pop("_flashes") == [
            ("warning", "No sessions revoked."),
            ("danger", f"Session #{mine['session_id']}: This session was revoked already."),
        ]
    assert (
        client_for(app, tenant.slug)
        .get(f"{API}/profile/", headers=bearer(mine["access_token"]))
        .status_code
        == 401
    )

    sellers = html_login(app, tenant.slug, seller.user.username)
    assert sellers.get("/admin/sessions/list/").status_code == 403
