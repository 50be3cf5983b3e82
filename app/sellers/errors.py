"""The error codes of sellers."""

from __future__ import annotations

from app.core.errors import ErrorCode


class SellerError(ErrorCode):
    SELLER_NOT_APPROVED = (
        "seller_not_approved",
        403,
        "the seller account is not approved yet, so it cannot list products or promotions",
    )
    SELLER_LIMIT_REACHED = (
        "seller_limit_reached",
        409,
        "the storefront's plan allows no more sellers (tenants.max_sellers)",
    )
    SELLER_ALREADY_REGISTERED = (
        "seller_already_registered",
        409,
        "the signed-in user already has a seller profile",
    )
    SELLER_STATUS_CONFLICT = (
        "seller_status_conflict",
        409,
        "the seller's status does not allow this step (details.allowed lists the steps it does)",
    )
    KYC_INCOMPLETE = (
        "kyc_incomplete",
        409,
        "a mandatory KYC document of the seller's business type is not accepted yet",
    )
    KYC_FILE_TYPE = (
        "kyc_file_type",
        415,
        "the uploaded file is not a PDF, JPEG or PNG (judged by its bytes, not its name)",
    )
    KYC_FILE_TOO_LARGE = (
        "kyc_file_too_large",
        413,
        "the uploaded file is larger than KYC_MAX_FILE_BYTES",
    )
