"""JWTs go through FAB's own JWT manager, with our blocklist and claims on it: one token format and
one blocklist for FAB's REST routes and ours. A token is only good in its user's tenant."""

from __future__ import annotations

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token

from app.core.tenancy import tenant_scope
from app.security import roles
from app.security.tokens import revoke
from tests.builders.auth import api_headers, bearer, token

pytestmark = pytest.mark.smoke


def test_token_carries_tenant_and_roles_and_expires_in_15_minutes(app, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    access = token(app, admin)
    with app.app_context():
        claims = decode_token(access)
    assert claims["tenant_id"] == tenant.id and claims["roles"] == [roles.ADMIN]
    assert claims["exp"] - claims["iat"] == 15 * 60


def test_revoked_token_is_refused_by_fab_routes(app, factory, client):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    access = token(app, admin)
    headers = api_headers(tenant=tenant, **bearer(access))
    assert client.get("/api/v1/menu/", headers=headers).status_code == 200
    with app.app_context():
        revoke(decode_token(access)["jti"], 900)
    assert client.get("/api/v1/menu/", headers=headers).status_code == 401


def test_token_of_one_tenant_is_useless_in_another(app, factory, client):
    home, other = factory.tenant(), factory.tenant()
    admin = factory.user(home, roles.ADMIN)
    access = token(app, admin)
    response = client.get("/api/v1/menu/", headers=api_headers(tenant=other, **bearer(access)))
    assert response.status_code == 401


def test_fab_api_login_refuses_customers(app, factory, client):
    from tests.builders.factories import PASSWORD

    tenant = factory.tenant()
    customer = factory.user(tenant, roles.CUSTOMER)
    response = client.post(
        "/api/v1/security/login",
        headers={"X-Tenant": tenant.slug},
        json={"username": customer.username, "password": PASSWORD, "provider": "db"},
    )
    assert response.status_code == 401


def test_searches_and_writes_are_rate_limited_per_client(app, factory):
    from app import create_app

    limited = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        API_WRITE_RATE_LIMIT="2 per minute",
        API_SEARCH_RATE_LIMIT="2 per minute",
    )
    tenant = factory.tenant()
    client = limited.test_client()
    client.environ_base["HTTP_X_TENANT"] = tenant.slug
    searches = [client.get("/api/v1/products/search/?q=lamp").status_code for _ in range(3)]
    assert searches[:2] == [200, 200] and searches[2] == 429
    writes = [
        client.post("/api/v1/reviews/", json={"product_id": 1, "rating": 5}) for _ in range(3)
    ]
    assert [w.status_code for w in writes] == [401, 401, 429]
    assert writes[2].get_json()["error"]["code"] == "rate_limited"
    assert client.get("/api/v1/reviews/?page=1").status_code == 200  # reads are not write-limited


def test_a_token_without_exp_is_refused_even_signed_with_our_key(app, factory, client):
    """A JWT without `exp` would never expire: access or refresh, on our routes and FAB's, it is a
    401 however good its signature (admin/security.py, FAB's JWT manager)."""
    from tests.builders.factories import PASSWORD

    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    h = {"X-Tenant": tenant.slug}
    login = client.post(
        "/api/v1/auth/login/", json={"login": admin.username, "password": PASSWORD}, headers=h
    )
    assert login.status_code == 200
    pair = login.get_json()
    with app.app_context(), tenant_scope(tenant.id):
        real = decode_token(pair["refresh_token"])
        access = create_access_token(
            identity=str(admin.id), expires_delta=False, additional_claims={"sid": real["sid"]}
        )
        refresh = create_refresh_token(
            identity=str(admin.id),
            expires_delta=False,
            additional_claims={"sid": real["sid"], "jti": real["jti"]},
        )
    for forged in (access, refresh):  # signed with our key, everything but exp
        claims = pyjwt.decode(forged, app.config["SECRET_KEY"], algorithms=["HS256"])
        assert "exp" not in claims and claims["sub"] == str(admin.id)

    unexpiring = {**h, **bearer(access)}
    response = client.get("/api/v1/auth/profile/", headers=unexpiring)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    assert (
        client.get("/api/v1/menu/", headers=unexpiring).status_code != 200
    )  # FAB's REST routes too
    spent = client.post("/api/v1/auth/refresh/", json={"refresh_token": refresh}, headers=h)
    assert spent.status_code == 401 and spent.get_json()["error"]["code"] == "invalid_token"
    # the genuine tokens of that session still work: the forged refresh spent nothing
    assert (
        client.get(
            "/api/v1/auth/profile/",
            headers={**h, **bearer(pair["access_token"])},
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/api/v1/auth/refresh/", json={"refresh_token": pair["refresh_token"]}, headers=h
        ).status_code
        == 200
    )
