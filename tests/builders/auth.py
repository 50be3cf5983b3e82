"""Builders for signing in: the auth API's login, and the headers every API test sends as a user
(`api_headers`, the one bearer-header builder; `token` and `bearer` are its parts)."""

from __future__ import annotations

from flask_jwt_extended import create_access_token

from app.core.tenancy import tenant_scope, unscoped
from app.extensions import db
from app.tenants.models import Tenant
from tests.builders.factories import PASSWORD

API = "/api/v1/auth"


def client_for(app, slug: str):
    client = app.test_client()
    client.environ_base["HTTP_X_TENANT"] = slug
    return client


def login(client, login_name: str, password: str = PASSWORD, **extra):
    return client.post(f"{API}/login/", json={"login": login_name, "password": password, **extra})


def token(app, user) -> str:
    """An access token of `user` (a factory record), made in its tenant as the login makes one."""
    with app.app_context(), tenant_scope(user.tenant_id):
        return create_access_token(identity=str(user.id))


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def api_headers(app=None, user=None, tenant=None, **extra) -> dict:
    """The headers of an API request: `X-Tenant` (the slug of `tenant`, a factory record or a slug;
    by default the user's own tenant), `user`'s bearer token (none for a guest), then `extra`.
    A guest at a given tenant needs no app: `api_headers(tenant=shop)`."""
    if tenant is None:
        slug = _slug(app, user.tenant_id)
    else:
        slug = tenant if isinstance(tenant, str) else tenant.slug
    h = {"X-Tenant": slug}
    if user is not None:
        h.update(bearer(token(app, user)))
    return {**h, **extra}


def _slug(app, tenant_id: int) -> str:
    with app.app_context(), unscoped():
        return db.session.get(Tenant, tenant_id).slug
