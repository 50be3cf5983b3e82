"""The one error envelope: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from flask import jsonify
from werkzeug.exceptions import HTTPException

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


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
    response = error_response(CODES.get(status, "error"), message or "error", status, details)
    # keep the headers the exception carries (Allow on 405, Retry-After on 429, WWW-Authenticate)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    if status == 429 and getattr(error, "retry_after", None):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def internal_error_envelope():
    return error_response("internal_error", "an unexpected error occurred", 500)
