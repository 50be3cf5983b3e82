"""The error codes of promotions."""

from __future__ import annotations

from app.core.errors import ErrorCode


class PromotionError(ErrorCode):
    COUPON_CODE_TAKEN = "coupon_code_taken", 409, "another promotion uses this coupon code"
    PROMOTION_UNAVAILABLE = (
        "promotion_unavailable",
        409,
        "a promotion of the order has ended or was withdrawn",
    )
    PROMOTION_EXHAUSTED = (
        "promotion_exhausted",
        409,
        "a promotion or coupon has no use left (overall, for this customer, or for a guest)",
    )
