"""The error codes of sellers."""

from __future__ import annotations

from app.core.errors import ErrorCode


class SellerError(ErrorCode):
    SELLER_NOT_APPROVED = (
        "seller_not_approved",
        403,
        "the seller account is not approved yet, so it cannot list products or promotions",
    )
