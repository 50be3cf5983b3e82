"""Builders for customers tests."""

from __future__ import annotations

from flask_jwt_extended import create_access_token

from app.core.tenancy import tenant_scope


def headers(app, user, tenant_slug=None) -> dict:
    with app.app_context(), tenant_scope(user.tenant_id):
        token = create_access_token(identity=str(user.id))
    return {"Authorization": f"Bearer {token}", "X-Tenant": tenant_slug or _slugs[user.tenant_id]}


_slugs: dict[int, str] = {}
