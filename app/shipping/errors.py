"""The error codes of shipping."""

from __future__ import annotations

from app.core.errors import ErrorCode


class ShippingError(ErrorCode):
    UNKNOWN_CARRIER = "unknown_carrier", 404, "no carrier adapter has this code"
