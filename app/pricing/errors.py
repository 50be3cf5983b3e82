"""The error codes of pricing."""

from __future__ import annotations

from app.core.errors import ErrorCode


class PricingError(ErrorCode):
    COUPON_NOT_COMBINABLE = (
        "coupon_not_combinable",
        409,
        "the coupon does not combine with a promotion already applied",
    )
    COUPON_NOT_APPLICABLE = (
        "coupon_not_applicable",
        422,
        "the coupon does not apply to this basket; details.code says why (unknown, expired, "
        "min_subtotal, ...)",
    )
