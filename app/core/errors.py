"""Domain errors with stable codes; the API turns them into its error envelope."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every business-rule error. `code` becomes the API's error.code."""

    code = "domain_error"
    status = 400

    def __init__(
        self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class ValidationError(DomainError):
    code = "validation_error"
    status = 422


class NotFound(DomainError):
    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409


class InsufficientStock(Conflict):
    code = "out_of_stock"


class TenantError(DomainError):
    """A tenant rule was broken (no tenant resolved, a write into another tenant, ...)."""

    code = "tenant_error"
    status = 400
