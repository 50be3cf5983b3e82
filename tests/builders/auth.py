"""Builders for auth tests."""

from __future__ import annotations

from tests.builders.factories import PASSWORD

API = "/api/v1/auth"


def client_for(app, slug: str):
    client = app.test_client()
    client.environ_base["HTTP_X_TENANT"] = slug
    return client


def login(client, login_name: str, password: str = PASSWORD, **extra):
    return client.post(f"{API}/login/", json={"login": login_name, "password": password, **extra})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
