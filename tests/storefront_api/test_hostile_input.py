"""Hostile input on the JSON API (storefront_api/request_guard.py and the strict argument parser):
a body nested 100,000 levels deep, a lone surrogate, a NUL character, an oversized body. Each is
refused in the error envelope on every endpoint it reaches (anonymous login included), writes
nothing, and leaves one log line without a traceback: never a 500."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from flask import request
from sqlalchemy import func, select
from werkzeug.exceptions import BadRequest

from app.extensions import db
from storefront_api.request_guard import JSONTooDeep, json_nesting_exceeds
from tests.builders.auth import bearer
from tests.builders.factories import PASSWORD

DEEP = "[" * 100_000 + "]" * 100_000
UNCLOSED = "[" * 100_000


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    product = factory.product(seller)
    customer = factory.customer(tenant)
    client = app.test_client()
    response = client.post(
        "/api/v1/auth/login/",
        json={"login": seller.user.username, "password": PASSWORD},
        headers={"X-Tenant": tenant.slug},
    )
    assert response.status_code == 200, response.get_json()
    anon = {"X-Tenant": tenant.slug}
    return SimpleNamespace(
        tenant=tenant,
        seller=seller,
        product=product,
        customer=customer,
        anon=anon,
        h_seller={**anon, **bearer(response.get_json()["access_token"])},
    )


def rows_of(app, tenant_id: int) -> dict[str, int]:
    """Row counts of every tenant-owned table for one tenant (users, carts, products, audit log,
    outbox, sessions, ...): equal before and after means the request wrote nothing."""
    counts = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if "tenant_id" in table.c:
                counts[table.name] = db.session.scalar(
                    select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
                )
    return counts


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data()[:300])
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    return body["error"]


def one_line_logged(caplog) -> logging.LogRecord:
    """The request left exactly one log record: a single line, no exception, no traceback."""
    records = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(records) == 1, [r.getMessage() for r in records]
    record = records[0]
    assert record.exc_info is None and record.exc_text is None and record.stack_info is None
    assert "\n" not in record.getMessage() and "Traceback" not in caplog.text
    return record


def json_endpoints(shop) -> list[tuple[str, dict]]:
    """Several JSON endpoints: anonymous login and register, a guest's cart, a seller's writes."""
    return [
        ("/api/v1/auth/login/", shop.anon),
        ("/api/v1/auth/register/", shop.anon),
        ("/api/v1/cart/add/", shop.anon),
        ("/api/v1/products/", shop.h_seller),
        ("/api/v1/products/bulk/", shop.h_seller),
    ]


@pytest.mark.parametrize(
    "body",
    [DEEP, UNCLOSED, '{"login": ' + DEEP + ', "password": "x"}'],
    ids=["deep-array", "unclosed", "deep-field"],
)
def test_a_deeply_nested_body_is_a_400_in_the_envelope_with_one_log_line(
    app, client, shop, caplog, body
):
    before = rows_of(app, shop.tenant.id)
    for path, headers in json_endpoints(shop):
        caplog.clear()
        with caplog.at_level(logging.INFO):
            response = client.post(
                path, data=body, content_type="application/json", headers=headers
            )
            error = refused(response, 400, "bad_request")
        assert error["message"] == "the JSON body is nested deeper than 64 levels", (path, error)
        record = one_line_logged(caplog)
        assert record.name == "storefront_api.request_guard" and path in record.getMessage()
    assert rows_of(app, shop.tenant.id) == before


def test_nesting_up_to_the_limit_is_parsed_and_one_level_more_is_refused(client, shop):
    def login(depth: int):
        inner = "[" * depth + "]" * depth  # the body object itself is one level
        return client.post(
            "/api/v1/auth/login/",
            data=f'{{"login": {inner}, "password": "x"}}',
            content_type="application/json",
            headers=shop.anon,
        )

    # 64 levels: parsed, and the schema answers (login must be a string)
    error = refused(login(63), 422, "validation_error")
    assert "login" in error["details"]
    refused(login(64), 400, "bad_request")
    # brackets inside strings are text, not nesting; escaped quotes do not end a string
    text = '"\\\\\\"' + "[" * 100 + '"'
    error = refused(
        client.post(
            "/api/v1/auth/login/",
            data=f'{{"login": {text}, "password": "x"}}',
            content_type="application/json",
            headers=shop.anon,
        ),
        401,
        "invalid_credentials",
    )


def test_the_nesting_scan_is_exact():
    assert not json_nesting_exceeds("[" * 64 + "]" * 64, 64)
    assert json_nesting_exceeds("[" * 65 + "]" * 65, 64)
    assert json_nesting_exceeds('{"a": ' * 65 + "1" + "}" * 65, 64)
    assert not json_nesting_exceeds('["' + "[" * 100 + '"]', 64)
    assert not json_nesting_exceeds('["\\"' + "[" * 100 + '"]', 64)  # an escaped quote stays inside
    assert json_nesting_exceeds(
        '["\\\\"' + ", [" * 65 + "]" * 66, 64
    )  # an escaped backslash ends it
    assert not json_nesting_exceeds("[[]]" * 10_000, 2)  # siblings do not add up


def test_every_get_json_goes_through_the_nesting_limit(app):
    """Flask's request.get_json (FAB's JSON API, anything outside the argument parser) uses the same
    guarded provider: a 400, not a RecursionError."""
    with app.test_request_context(
        "/api/x", method="POST", data=DEEP, content_type="application/json"
    ):
        with pytest.raises(BadRequest) as raised:
            request.get_json()
        assert isinstance(raised.value.__cause__.__context__, JSONTooDeep)
        with pytest.raises(JSONTooDeep):
            app.json.loads(DEEP)


def test_a_limit_above_pythons_recursion_limit_still_answers_400(app, factory):
    """The parser's RecursionError (a limit configured above what Python can recurse, or unclosed
    brackets) is caught where the body is parsed: 400, one line, no traceback."""
    from app import create_app

    lax = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        API_MAX_JSON_DEPTH=1_000_000,
    )
    tenant = factory.tenant()
    client = lax.test_client()
    for body in (DEEP, UNCLOSED):
        response = client.post(
            "/api/v1/auth/login/",
            data=body,
            content_type="application/json",
            headers={"X-Tenant": tenant.slug},
        )
        refused(response, 400, "bad_request")


SURROGATE = "must be valid UTF-8 text (it holds an unpaired surrogate)"


@pytest.mark.parametrize(
    "escaped, echoed, message",
    [
        ("\\ud800", "\\ud800", SURROGATE),
        ("\\udfff", "\\udfff", SURROGATE),
        ("\\u0000", "\\x00", "must not contain NUL characters"),
    ],
    ids=["high-surrogate", "low-surrogate", "nul"],
)
def test_unencodable_or_nul_text_in_a_body_is_a_422_naming_the_field(
    app, client, shop, caplog, escaped, echoed, message
):
    before = rows_of(app, shop.tenant.id)
    cases = [
        (
            "/api/v1/auth/login/",
            shop.anon,
            f'{{"login": "ada{escaped}", "password": "x"}}',
            {"login": [message]},
        ),
        (
            "/api/v1/auth/register/",
            shop.anon,
            f'{{"email": "ada@example.com", "password": "Secret-password-1", "first_name": "A{escaped}"}}',
            {"first_name": [message]},
        ),
        (
            "/api/v1/products/",
            shop.h_seller,
            f'{{"title": "Lamp", "variants": [{{"sku": "S-1", "price": "1.00", "options": {{"size": "{escaped}"}}}}]}}',
            {"variants": {"0": {"options": {"size": [message]}}}},
        ),
        (
            "/api/v1/products/bulk/",
            shop.h_seller,
            f'{{"items": [{{"title": "Ok", "variants": []}}, {{"title": "B{escaped}", "variants": []}}]}}',
            {"items": {"1": {"title": [message]}}},
        ),
        # a field's name is text too
        (
            "/api/v1/auth/login/",
            shop.anon,
            f'{{"login": "ada", "password": "x", "k{escaped}": 1}}',
            {f"k{echoed}": [f"the name {message}"]},
        ),  # echoed escaped, never raw
    ]
    for path, headers, body, details in cases:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            response = client.post(
                path, data=body, content_type="application/json", headers=headers
            )
            error = refused(response, 422, "validation_error")
        assert error["details"] == details, (path, error)
        record = one_line_logged(caplog)
        assert record.name == "storefront_api.request_guard"
    assert rows_of(app, shop.tenant.id) == before


def test_nul_in_the_query_the_path_or_a_header_is_a_422_naming_it(app, client, shop, caplog):
    before = rows_of(app, shop.tenant.id)
    nul = "must not contain NUL characters"
    cases = [
        ("/api/v1/products/?category=a%00b", shop.anon, {"category": [nul]}),
        ("/api/v1/products/?attr_colour=red%00", shop.anon, {"attr_colour": [nul]}),
        ("/api/v1/search/suggestions/?q=%00", shop.anon, {"q": [nul]}),
        ("/api/v1/products/categories/a%00b/", shop.anon, {"slug": [nul]}),
        ("/api/v1/products/category/%00/", shop.anon, {"slug": [nul]}),
        ("/api/v1/cart/", {**shop.anon, "X-Cart-Token": "tok\x00en"}, {"X-Cart-Token": [nul]}),
    ]
    for url, headers, details in cases:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            error = refused(client.get(url, headers=headers), 422, "validation_error")
        assert error["details"] == details, (url, error)
        one_line_logged(caplog)
    # a write that names an Idempotency-Key with a NUL stores nothing
    response = client.post(
        "/api/v1/orders/",
        json={"email": "a@example.com"},
        headers={**shop.anon, "Idempotency-Key": "k\x00"},
    )
    assert refused(response, 422, "validation_error")["details"] == {"Idempotency-Key": [nul]}
    assert rows_of(app, shop.tenant.id) == before


def test_a_body_over_max_content_length_is_a_413_in_the_envelope(app, client, shop):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    before = rows_of(app, shop.tenant.id)
    padding = "x" * (1024 * 1024)
    for path, headers in (
        ("/api/v1/auth/login/", shop.anon),
        ("/api/v1/products/bulk/", shop.h_seller),
    ):
        response = client.post(
            path,
            data=f'{{"login": "{padding}", "password": "x"}}',
            content_type="application/json",
            headers=headers,
        )
        refused(response, 413, "payload_too_large")
    assert rows_of(app, shop.tenant.id) == before
    # a body of exactly the limit is read (JSON allows the whitespace)
    body = '{"login": "ada", "password": "x"}'
    response = client.post(
        "/api/v1/auth/login/",
        data=body + " " * (1024 * 1024 - len(body)),
        content_type="application/json",
        headers=shop.anon,
    )
    refused(response, 401, "invalid_credentials")


def test_a_customer_registered_with_clean_text_still_works(client, shop):
    """The guard refuses only what it must: non-ASCII text, astral characters (a surrogate pair
    in JSON) and control characters other than NUL pass."""
    response = client.post(
        "/api/v1/auth/register/",
        headers=shop.anon,
        json={
            "email": "zoe@example.com",
            "password": "Secret-password-1",
            "first_name": "Zoë \U0001f600",
            "last_name": "tab\there",
        },
    )
    assert response.status_code == 202, response.get_json()
    assert (
        client.post(
            "/api/v1/auth/login/",
            headers=shop.anon,
            data='{"login": "\\ud83d\\ude00", "password": "x"}',
            content_type="application/json",
        ).status_code
        == 401
    )
