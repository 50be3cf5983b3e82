"""One way to document a route's errors: document_errors, with catalogue members whose statuses and
meanings it documents. The OpenAPI document names, for every error answer of every operation, the
catalogue codes it can carry, and every catalogue code is documented somewhere."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

from app.core.errors import CoreError, ErrorCode
from app.payouts.errors import LedgerError
from app.security.errors import SecurityError
from app.sellers.errors import SellerError
from app.tenants.errors import TenancyError
from storefront_api.common import ApiErrorSchema, document_errors
from storefront_api.errors import ANY_OPERATION, ApiError

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "storefront_api"
METHODS = ("get", "post", "put", "patch", "delete")
ENVELOPE = {"$ref": "#/components/schemas/ApiError"}
DEFAULT_PREFIX = "Any operation may also answer: "

# non-2xx answers that are not errors in the envelope, each with why
NOT_ERRORS = {
    "304": "a public read's Not Modified (If-None-Match matched its ETag): no body",
    (
        "/api/core/health",
        "get",
        "503",
    ): "the health report itself (HealthSchema), a dependency down",
}
# statuses documented without a catalogue code of their own: none, every status has one
GENERIC_STATUSES: set[str] = set()
# codes in a catalogue that no API operation answers, each with why
NOT_ON_THE_API = {
    CoreError.DOMAIN_ERROR: "the base DomainError's fallback code; every raise names a subclass or a "
    "code (tests/app/core/test_error_codes.py)",
    CoreError.TENANT_ERROR: "app/tenants/orm.py's guard against a write into another tenant, a bug "
    "no request can reach (queries are scoped to the request's tenant)",
    ApiError.UNSUPPORTED_MEDIA_TYPE: "the envelope's code for a 415, which no operation answers: a "
    "body of another content type is read as no body (test below)",
    LedgerError.LEDGER_APPEND_ONLY: "app/payouts/guard.py's refusal of a change to the seller "
    "ledger, a bug no request can reach (no operation updates or deletes an entry)",
    SellerError.SELLER_STATUS_CONFLICT: "approving, rejecting, suspending and reinstating a seller "
    "are steps of the admin's seller page (/admin/sellers), not of the API",
    SellerError.KYC_INCOMPLETE: "answered by the approval step of the admin's seller page only",
    "payments_admin": "marking a manual payment received, voiding and retrying a failed refund are "
    "actions of the admin UI (/admin/payments, /admin/refunds), not of the API",
}
ADMIN_ONLY_PAYMENT_CODES = {
    "not_a_manual_payment",
    "void_failed",
    "refund_not_failed",
    "refund_has_request",
    "refund_already_retried",
}


class _RecordingBlueprint:
    def __init__(self):
        self.responses, self.docs = {}, []

    def alt_response(self, status, *, schema, description):
        self.responses[status] = (schema, description)
        return lambda fn: fn

    def doc(self, **kwargs):
        self.docs.append(kwargs)
        return lambda fn: fn


def test_a_catalogue_member_documents_its_statuses_with_its_meaning():
    blp = _RecordingBlueprint()
    document_errors(
        blp,
        422,
        TenancyError.TENANT_NOT_FOUND,
        CoreError.NOT_FOUND,
        (SecurityError.INVALID_TOKEN, 401),
    )(lambda: None)
    assert blp.responses == {
        # a bare status stands for the envelope's generic code of that status
        422: (ApiErrorSchema, f"`validation_error`: {CoreError.VALIDATION_ERROR.meaning}"),
        404: (
            ApiErrorSchema,
            f"`tenant_not_found`: {TenancyError.TENANT_NOT_FOUND.meaning}; "
            f"`not_found`: {CoreError.NOT_FOUND.meaning}",
        ),
        # a (member, status) pair: invalid_token is also a 404, not documented here
        401: (ApiErrorSchema, f"`invalid_token`: {SecurityError.INVALID_TOKEN.meaning}"),
    }
    assert blp.docs == [{"security": [{"bearerAuth": []}]}]


def test_no_hand_written_text_and_no_status_without_a_code():
    blp = _RecordingBlueprint()
    with pytest.raises(TypeError):
        document_errors(blp, 404, descriptions={404: "No such thing"})
    with pytest.raises(ValueError, match="no catalogue code for HTTP 418"):
        document_errors(blp, 418)
    with pytest.raises(ValueError, match="not answered with"):
        document_errors(blp, (SecurityError.INVALID_TOKEN, 409))


def _envelope_answers(path: Path) -> list[str]:
    return [
        f"{path.name}:{node.lineno}"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "alt_response"
        and any(
            kw.arg == "schema" and ast.unparse(kw.value) in ("ErrorSchema", "ApiErrorSchema")
            for kw in node.keywords
        )
    ]


def test_no_route_documents_an_error_answer_but_through_document_errors():
    """An answer in the error envelope is documented by common.document_errors only (other
    alternative answers, a 304 or a second success status, are not errors)."""
    found = [where for path in sorted(API.glob("*.py")) for where in _envelope_answers(path)]
    assert [where for where in found if not where.startswith("common.py:")] == []
    assert any(where.startswith("common.py:") for where in found)  # the scan sees the one call


# --- the OpenAPI document --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogued() -> list[ErrorCode]:
    spec = importlib.util.spec_from_file_location(
        "error_codes", ROOT / "scripts" / "error_codes.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [member for catalogue in module.catalogues() for member in catalogue]


@pytest.fixture(scope="module")
def spec(app) -> dict:
    with app.test_request_context():
        return app.extensions["api"].spec.to_dict()


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _segment(member: ErrorCode, with_statuses: bool) -> str:
    statuses = f" ({', '.join(map(str, member.statuses)) or 'any other'})" if with_statuses else ""
    return f"`{member}`{statuses}: {member.meaning}"


def _codes(description: str, catalogued, *, with_statuses: bool = False) -> list[ErrorCode]:
    """The catalogue members a description names, in order; it must be made of nothing else."""
    found = sorted(
        (description.index(_segment(m, with_statuses)), m)
        for m in catalogued
        if _segment(m, with_statuses) in description
    )
    members = [member for _, member in found]
    assert description == "; ".join(_segment(m, with_statuses) for m in members), description
    return members


def test_every_error_answer_of_every_operation_names_its_catalogue_codes(spec, catalogued):
    """Each documented non-2xx answer is in the envelope and its description is the list of
    catalogue codes it can carry (`code`: meaning; ...), each answered with that status; a
    bearer token is documented wherever a 401 is."""
    seen, problems = 0, []
    for path, method, operation in _operations(spec):
        for status, response in operation["responses"].items():
            where = f"{method.upper()} {path} {status}"
            if status.startswith("2") or status == "default":
                continue
            if status in NOT_ERRORS or (path, method, status) in NOT_ERRORS:
                continue
            seen += 1
            if response["content"]["application/json"]["schema"] != ENVELOPE:
                problems.append(f"{where}: not the error envelope")
                continue
            members = _codes(response["description"], catalogued)
            if not members and status not in GENERIC_STATUSES:
                problems.append(f"{where}: names no catalogue code")
            problems += [
                f"{where}: {member!r} is answered with {member.statuses}"
                for member in members
                if member.statuses and int(status) not in member.statuses
            ]
        if "401" in operation["responses"]:
            assert {"bearerAuth": []} in operation.get("security", []), (path, method)
    assert not problems, "\n".join(problems)
    assert seen > 300  # 98 operations, ~340 error answers when this test was written


def test_every_operation_refers_to_the_default_answer_naming_the_codes_of_any_operation(
    spec, catalogued
):
    default = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert default["content"]["application/json"]["schema"] == ENVELOPE
    assert default["description"].startswith(DEFAULT_PREFIX)
    named = _codes(
        default["description"].removeprefix(DEFAULT_PREFIX), catalogued, with_statuses=True
    )
    assert named == list(ANY_OPERATION)
    for path, method, operation in _operations(spec):
        assert operation["responses"]["default"] == {
            "$ref": "#/components/responses/DEFAULT_ERROR"
        }, (path, method)


def test_every_catalogue_code_is_documented_on_the_api_or_said_why_not(spec, catalogued):
    documented = {
        member
        for _, _, operation in _operations(spec)
        for status, response in operation["responses"].items()
        if status[0] in "45" and "description" in response
        for member in catalogued
        if f"`{member}`: {member.meaning}" in response["description"]
    } | set(ANY_OPERATION)
    not_on_the_api = {m for m in NOT_ON_THE_API if isinstance(m, ErrorCode)} | {
        m for m in catalogued if m.value in ADMIN_ONLY_PAYMENT_CODES
    }
    assert len(not_on_the_api) == len(NOT_ON_THE_API) - 1 + len(ADMIN_ONLY_PAYMENT_CODES)
    assert set(catalogued) - documented == not_on_the_api
    assert not (documented - set(ANY_OPERATION)) & not_on_the_api  # a reason is never stale


def test_writes_of_a_write_limited_blueprint_document_429(app, spec):
    """limit_writes (storefront_api/__init__.py) answers 429 rate_limited on every write of the
    blueprints it covers: each such operation documents it."""
    limited = set()
    for rule in app.url_map.iter_rules():
        blueprint = app.blueprints.get(rule.endpoint.rpartition(".")[0])
        if not getattr(blueprint, "_writes_limited", False):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        limited |= {
            (path, m.lower()) for m in rule.methods if m in ("POST", "PUT", "PATCH", "DELETE")
        }
    assert len(limited) > 30
    missing = [
        f"{method.upper()} {path}"
        for path, method in sorted(limited)
        if "429" not in spec["paths"][path][method]["responses"]
    ]
    assert missing == []


def test_every_operation_taking_a_body_documents_400(spec):
    """A body that is not JSON, or nested too deeply, is a 400 bad_request wherever one is read."""
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in _operations(spec)
        if "requestBody" in operation
        and f"`{ApiError.BAD_REQUEST}`"
        not in operation["responses"].get("400", {}).get("description", "")
    ]
    assert missing == []


def test_the_answers_the_documents_promise(client, factory):
    """Live: a body that is not JSON is the 400 click/ documents; a body of another content type is
    read as no body (422), never a 415; an unknown X-Tenant is the default answer's 404."""
    tenant = factory.tenant()
    h = {"X-Tenant": tenant.slug}
    bad = client.post(
        "/api/v1/search/click/", data="{", headers={**h, "Content-Type": "application/json"}
    )
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_request"
    text = client.post(
        "/api/v1/auth/login/",
        data='{"login": "a", "password": "b"}',
        headers={**h, "Content-Type": "text/plain"},
    )
    assert text.status_code == 422 and text.get_json()["error"]["code"] == "validation_error"
    unknown = client.get("/api/v1/products/", headers={"X-Tenant": "no-such-shop"})
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["code"] == "tenant_not_found"
