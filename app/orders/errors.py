"""The error codes of orders (a refund beyond the captured money is payments' own code)."""

from __future__ import annotations

from app.core.errors import ErrorCode


class OrderError(ErrorCode):
    ORDER_NOT_EDITABLE = (
        "order_not_editable",
        409,
        "notes and the address change only while the order is pending",
    )
    ORDER_NOT_PAYABLE = "order_not_payable", 409, "the order's status does not allow paying it"
    PAYMENT_METHOD_MISMATCH = (
        "payment_method_mismatch",
        409,
        "the order has a payment by another method already: pay that one",
    )
    ORDER_REFUNDED = (
        "order_refunded",
        409,
        "the sub-order's money is refunded (or being refunded): it cannot be processed or shipped",
    )
    NOTHING_TO_REFUND = "nothing_to_refund", 409, "nothing is left to refund for these units"
    REFUND_DECIDED = "refund_decided", 409, "the refund request was decided already"
    REFUND_FAILED = (
        "refund_failed",
        409,
        "the payment refund was refused (details.failure_code); the refund request failed and can be "
        "asked again",
    )
    STOCK_INCONSISTENT = (
        "stock_inconsistent",
        409,
        "a stock reservation of the order is inconsistent",
    )
    ILLEGAL_TRANSITION = (
        "illegal_transition",
        409,
        "the order cannot go to that status from its own; details.allowed lists where it can go",
    )
