"""The error codes of the catalog."""

from __future__ import annotations

from app.core.errors import ErrorCode


class CatalogError(ErrorCode):
    UNIQUE_CONFLICT = (
        "unique_conflict",
        409,
        "a concurrent change took a unique value (SKU or slug); try again",
    )
    PRODUCT_LIMIT_REACHED = (
        "product_limit_reached",
        409,
        "the storefront's plan allows no more products",
    )
