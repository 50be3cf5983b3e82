"""The error codes of the mechanisms events holds for the domains above it (the Idempotency-Key of
checkout and payments)."""

from __future__ import annotations

from app.core.errors import ErrorCode


class EventsError(ErrorCode):
    IDEMPOTENCY_KEY_REUSED = (
        "idempotency_key_reused",
        409,
        "this Idempotency-Key was used with another request",
    )
