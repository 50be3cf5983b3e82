"""The error codes of tenants: resolving the request's storefront and keeping rows in it."""

from __future__ import annotations

from app.core.errors import ErrorCode


class TenancyError(ErrorCode):
    TENANT_REQUIRED = (
        "tenant_required",
        400,
        "no storefront is resolved for work on tenant data (X-Tenant, Host or DEFAULT_TENANT)",
    )
    TENANT_NOT_FOUND = "tenant_not_found", 404, "the X-Tenant slug or default tenant does not exist"
    TENANT_SUSPENDED = "tenant_suspended", 403, "this storefront is suspended"
