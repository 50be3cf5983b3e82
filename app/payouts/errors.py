"""The error codes of the seller ledger."""

from __future__ import annotations

from app.core.errors import ErrorCode


class LedgerError(ErrorCode):
    LEDGER_APPEND_ONLY = (
        "ledger_append_only",
        409,
        "ledger entries are never changed or removed; a correction is a new adjustment entry",
    )
    NO_SELLER_PROFILE = (
        "no_seller_profile",
        403,
        "the caller is not a seller with a profile of this storefront",
    )
