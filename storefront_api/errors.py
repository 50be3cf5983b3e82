"""The one error envelope: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from flask import jsonify
from werkzeug.exceptions import HTTPException

from app.core.errors import CoreError, ErrorCode
from app.security.errors import SecurityError
from app.tenants.errors import TenancyError


class ApiError(ErrorCode):
    """The API's own codes: HTTP errors raised before or around a domain service (the argument
    parser's 422s are CoreError.VALIDATION_ERROR, a missing or bad token SecurityError.UNAUTHORIZED)."""

    BAD_REQUEST = (
        "bad_request",
        400,
        "a malformed request: a body that is not JSON, or nested too deeply",
    )
    METHOD_NOT_ALLOWED = "method_not_allowed", 405, "the path does not take this method"
    PAYLOAD_TOO_LARGE = "payload_too_large", 413, "the body is larger than MAX_CONTENT_LENGTH"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", 415, "the body's content type is not taken"
    RATE_LIMITED = (
        "rate_limited",
        429,
        "too many requests from this client (login, register, e-mail requests, writes); see "
        "Retry-After",
    )
    INTERNAL_ERROR = "internal_error", 500, "an unexpected error (logged; never a stack trace)"
    SERVICE_UNAVAILABLE = (
        "service_unavailable",
        503,
        "the database could not serve the request for a moment (restarting, unreachable or every "
        "connection busy); nothing was written: retry after the Retry-After header's seconds",
    )
    ERROR = "error", (), "any other HTTP error status"


# the code of each HTTP error status an exception of werkzeug (or flask-smorest's abort) answers
CODES: dict[int, ErrorCode] = {
    400: ApiError.BAD_REQUEST,
    401: SecurityError.UNAUTHORIZED,
    403: CoreError.FORBIDDEN,
    404: CoreError.NOT_FOUND,
    405: ApiError.METHOD_NOT_ALLOWED,
    409: CoreError.CONFLICT,
    413: ApiError.PAYLOAD_TOO_LARGE,
    415: ApiError.UNSUPPORTED_MEDIA_TYPE,
    422: CoreError.VALIDATION_ERROR,
    429: ApiError.RATE_LIMITED,
}

# the codes any operation may answer, whatever it documents: each operation's `default` response
# names them (MarketplaceApi); document_errors documents the others, route by route
ANY_OPERATION: tuple[ErrorCode, ...] = (
    CoreError.VALIDATION_ERROR,  # a query key the operation does not document; NUL or unencodable
    # text in the query, the path or a header (request_guard), before any view
    TenancyError.TENANT_REQUIRED,  # no storefront resolved (X-Tenant, Host, DEFAULT_TENANT)
    TenancyError.TENANT_NOT_FOUND,  # the X-Tenant header names no storefront
    TenancyError.TENANT_SUSPENDED,  # every /api/v1 operation of a suspended storefront
    ApiError.METHOD_NOT_ALLOWED,
    ApiError.PAYLOAD_TOO_LARGE,
    ApiError.INTERNAL_ERROR,
    ApiError.SERVICE_UNAVAILABLE,
    ApiError.ERROR,
)


def error_response(code: str, message: str, status: int, details: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


def envelope_for_http_exception(error: HTTPException):
    status = error.code or 500
    details = {}
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if messages:
        # webargs groups field errors by location (json, query, ...); flatten one level
        details = (
            {k: v for location in messages.values() for k, v in (location or {}).items()}
            if all(isinstance(v, dict) for v in messages.values())
            else messages
        )
    message = (
        data.get("message") if isinstance(data, dict) and data.get("message") else error.description
    )
    response = error_response(
        CODES.get(status, ApiError.ERROR), message or "error", status, details
    )
    # keep the headers the exception carries (Allow on 405, Retry-After on 429, WWW-Authenticate)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    if status == 429 and getattr(error, "retry_after", None):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def unavailable_envelope(retry_after: int):
    response = error_response(
        ApiError.SERVICE_UNAVAILABLE,
        "the service is unavailable for a moment; nothing was written, retry shortly",
        503,
        {"retry_after": retry_after},
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


def internal_error_envelope():
    return error_response(ApiError.INTERNAL_ERROR, "an unexpected error occurred", 500)
