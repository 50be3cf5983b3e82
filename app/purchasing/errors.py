"""The error codes of purchasing (suppliers and purchase orders)."""

from __future__ import annotations

from app.core.errors import ErrorCode


class PurchasingError(ErrorCode):
    PURCHASE_ORDER_STATUS = (
        "purchase_order_status",
        409,
        "the purchase order's status does not allow this step; details name the status and the "
        "steps it allows",
    )
    OVER_RECEIPT = (
        "over_receipt",
        409,
        "more units received than ordered on a line (allowed only with allow_over_receipt); "
        "details name the line, its units ordered and received",
    )
    RECEIPT_KEY_REUSED = (
        "receipt_key_reused",
        409,
        "this receipt key already received other quantities on this purchase order",
    )
    SUPPLIER_IN_USE = (
        "supplier_in_use",
        409,
        "the supplier has purchase orders: deactivate it instead of deleting it",
    )
