"""The error codes of the cart."""

from __future__ import annotations

from app.core.errors import ErrorCode


class CartError(ErrorCode):
    LINE_QUANTITY_LIMIT = (
        "line_quantity_limit",
        422,
        "more units of one item than the storefront allows per order; details: limit, requested",
    )
    ORDER_QUANTITY_LIMIT = (
        "order_quantity_limit",
        422,
        "more units in all than the storefront allows per order; details: limit, requested",
    )
