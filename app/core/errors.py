"""Domain errors with stable codes; the API turns them into its error envelope.

Every code lives in one catalogue: a `StrEnum` of `ErrorCode` per domain (`app/<domain>/errors.py`,
the generic ones here in `CoreError`, the API's own in `storefront_api/errors.py`). A member is the
wire string itself, with the HTTP statuses it answers with and one line on what it means, from
which `scripts/error_codes.py` writes docs/error-codes.md.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Base of the catalogues: `NAME = "wire_code", status or (statuses...), "meaning"`.

    An empty `statuses` means "any other HTTP status" (the API's fallback code)."""

    statuses: tuple[int, ...]
    meaning: str

    def __new__(cls, value: str, statuses: int | tuple[int, ...], meaning: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.statuses = (statuses,) if isinstance(statuses, int) else tuple(statuses)
        member.meaning = meaning
        return member


class CoreError(ErrorCode):
    """The generic codes: each error class's own, used when a raise names no specific code."""

    DOMAIN_ERROR = "domain_error", 400, "a business rule refused the request"
    VALIDATION_ERROR = (
        "validation_error",
        422,
        "the input is invalid; `details` names each field with its errors",
    )
    NOT_FOUND = "not_found", 404, "no such resource, or not one the caller may see"
    FORBIDDEN = "forbidden", 403, "the caller's role or ownership does not allow this"
    CONFLICT = "conflict", 409, "the resource's current state does not allow this"
    OUT_OF_STOCK = (
        "out_of_stock",
        409,
        "not enough units on hand for a line; details name its variant_id and the units requested "
        "(a cart's also the units available)",
    )
    TENANT_ERROR = "tenant_error", 400, "a tenant rule was broken"


class DomainError(Exception):
    """Base of every business-rule error. `code` becomes the API's error.code."""

    code: ErrorCode = CoreError.DOMAIN_ERROR
    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        details: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class ValidationError(DomainError):
    code = CoreError.VALIDATION_ERROR
    status = 422


class NotFound(DomainError):
    code = CoreError.NOT_FOUND
    status = 404


class PermissionDenied(DomainError):
    code = CoreError.FORBIDDEN
    status = 403


class Conflict(DomainError):
    code = CoreError.CONFLICT
    status = 409


class InsufficientStock(Conflict):
    code = CoreError.OUT_OF_STOCK


class TenantError(DomainError):
    """A tenant rule was broken (no tenant resolved, a write into another tenant, ...)."""

    code = CoreError.TENANT_ERROR
    status = 400
