"""Schemathesis against /api/schema/: generated requests for every documented operation, anonymous
and signed in, must never get a 5xx nor a response that breaks the documented schema, status
codes or content types. Bounded: a fixed number of examples per operation, no shrinking."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app.security import roles
from tests.builders.auth import api_headers, bearer
from tests.builders.factories import PASSWORD

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# operations that would end the fuzzer's own session half-way (they are tested directly elsewhere)
SESSION_ENDING = r"/api/v1/auth/(logout|password/change|users/me/sessions|sessions/\{session_id\})/"


@pytest.fixture(scope="module")
def fuzz_world(app):
    from tests.builders.factories import Factory

    factory = Factory(app)
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    for _ in range(3):
        factory.product(seller)
    customer = factory.customer(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    client = app.test_client()
    headers = {"X-Tenant": tenant.slug}
    tokens = {}
    for name, username in (("customer", customer.user.username), ("admin", admin.username)):
        response = client.post(
            "/api/v1/auth/login/", json={"login": username, "password": PASSWORD}, headers=headers
        )
        assert response.status_code == 200, response.get_json()
        tokens[name] = response.get_json()["access_token"]
    return {"tenant": tenant, "tokens": tokens}


@pytest.fixture(scope="module")
def api_schema(app, fuzz_world):
    return schemathesis.openapi.from_wsgi("/api/schema/", app).exclude(path_regex=SESSION_ENDING)


schema = schemathesis.pytest.from_fixture("api_schema")

FUZZ_SETTINGS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_anonymous_requests_conform(case, fuzz_world):
    case.call_and_validate(headers={"X-Tenant": fuzz_world["tenant"].slug}, checks=CHECKS)


@schema.parametrize()
@FUZZ_SETTINGS
def test_customer_requests_conform(case, fuzz_world):
    case.call_and_validate(
        headers=api_headers(
            tenant=fuzz_world["tenant"], **bearer(fuzz_world["tokens"]["customer"])
        ),
        checks=CHECKS,
    )


@schema.parametrize()
@FUZZ_SETTINGS
def test_admin_requests_conform(case, fuzz_world):
    case.call_and_validate(
        headers=api_headers(tenant=fuzz_world["tenant"], **bearer(fuzz_world["tokens"]["admin"])),
        checks=CHECKS,
    )
