"""One way to document a route's errors: document_errors (statuses, or catalogue members whose
statuses and meanings it documents). No database."""

from __future__ import annotations

import ast
from pathlib import Path

from app.security.errors import SecurityError
from app.tenants.errors import TenancyError
from storefront_api.common import ApiErrorSchema, document_errors

API = Path(__file__).resolve().parents[2] / "storefront_api"


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
        SecurityError.INVALID_TOKEN,
        descriptions={401: "x"},
    )(lambda: None)
    assert blp.responses == {
        422: (ApiErrorSchema, "Validation error (field errors in details)"),
        404: (
            ApiErrorSchema,
            f"tenant_not_found: {TenancyError.TENANT_NOT_FOUND.meaning}; "
            f"invalid_token: {SecurityError.INVALID_TOKEN.meaning}",
        ),
        401: (ApiErrorSchema, "x"),  # an explicit description wins
    }
    assert blp.docs == [{"security": [{"bearerAuth": []}]}]


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
