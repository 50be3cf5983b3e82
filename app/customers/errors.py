"""The error codes of customers."""

from __future__ import annotations

from app.core.errors import ErrorCode


class CustomerError(ErrorCode):
    DUPLICATE_LABEL = "duplicate_label", 409, "the customer has an address with this label already"
