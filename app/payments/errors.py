"""The error codes of payments: charges, refunds, gateways and their webhooks."""

from __future__ import annotations

from app.core.errors import ErrorCode


class PaymentError(ErrorCode):
    PAYMENT_IN_PROGRESS = (
        "payment_in_progress",
        409,
        "another request is working on this payment; try again",
    )
    INVALID_SIGNATURE = (
        "invalid_signature",
        400,
        "a webhook's signature is missing, wrong or too old",
    )
    GATEWAY_UNAVAILABLE = "gateway_unavailable", 503, "the payment gateway could not be reached"
    INVALID_PAYMENT_STATUS = (
        "invalid_payment_status",
        409,
        "the payment's status does not allow this (pay, capture, void or refund)",
    )
    REFUND_EXCEEDS_CAPTURED = (
        "refund_exceeds_captured",
        409,
        "the refund is more than the captured money left to refund",
    )
    REFUND_NOT_FAILED = "refund_not_failed", 409, "only a failed refund can be retried"
    REFUND_HAS_REQUEST = (
        "refund_has_request",
        409,
        "the failed refund answered a refund request: ask again with a new request",
    )
    REFUND_ALREADY_RETRIED = "refund_already_retried", 409, "this failed refund was retried already"
    NOT_A_MANUAL_PAYMENT = (
        "not_a_manual_payment",
        409,
        "only bank transfer and cash on delivery payments are marked received",
    )
    VOID_FAILED = "void_failed", 409, "the gateway refused to void the payment"
