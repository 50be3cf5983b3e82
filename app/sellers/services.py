"""Seller rules, in one place for every caller (the admin's seller forms call them from FAB's
hooks): what a valid seller profile is, the store slug it gets, and what a seller may change of
its own profile (its store, never its approval status or commission rate), and that only an
approved seller lists products and promotions."""

from __future__ import annotations

from sqlalchemy import inspect, select

from app.core.errors import PermissionDenied, ValidationError
from app.core.slugs import unique_slug
from app.sellers.errors import SellerError
from app.sellers.models import SELLER_STATUSES, SellerProfile

# what only staff decide: a seller's approval and the share the platform keeps
STAFF_ONLY_COLUMNS = ("status", "commission_rate")
# a seller in one of these is off the storefront: customers see none of its products
OFF_STOREFRONT = ("suspended", "rejected")


def sellers_off_storefront():
    """SELECT of the ids of the tenant's sellers whose products customers do not see."""
    return select(SellerProfile.id).where(SellerProfile.status.in_(OFF_STOREFRONT))


def check_profile(profile: SellerProfile) -> None:
    """A known status and a commission rate between 0 and 1 (ValidationError naming the fields)."""
    errors = {}
    if profile.status not in SELLER_STATUSES:
        errors["status"] = f"one of {', '.join(SELLER_STATUSES)}"
    if profile.commission_rate is None or not (0 <= profile.commission_rate <= 1):
        errors["commission_rate"] = "between 0 and 1"
    if errors:
        raise ValidationError("; ".join(f"{k}: {v}" for k, v in errors.items()), details=errors)


def prepare_profile(profile: SellerProfile) -> None:
    """Check a seller profile about to be saved (created or edited) and give it a store slug,
    unique in the tenant, made from its store name when it has none."""
    check_profile(profile)
    if not profile.slug:
        profile.slug = unique_slug(SellerProfile, profile.store_name, exclude_id=profile.id)


def seller_may_save(profile: SellerProfile, seller_id: int) -> bool:
    """Whether seller `seller_id` may save `profile` as it stands: its own profile only, and with
    neither its status nor its commission rate changed."""
    if profile.id != seller_id:
        return False
    state = inspect(profile)
    return not any(state.attrs[name].history.has_changes() for name in STAFF_ONLY_COLUMNS)


def require_approved(seller: SellerProfile | None) -> None:
    """A seller creates and changes its products and promotions only once staff approved its
    profile: PermissionDenied (seller_not_approved) otherwise. None (staff, no seller) passes.
    The API's product and promotion writes and the admin's promotion form call this."""
    if seller is not None and not seller.is_approved:
        raise PermissionDenied(
            "your seller account is not approved yet", code=SellerError.SELLER_NOT_APPROVED
        )


MAX_REASON = 1000


def clean_reason(reason: str | None, *, required: bool, what: str) -> str | None:
    """The reason staff give a seller (for a rejection, a suspension): stripped, None when blank;
    ValidationError when one is required and missing, or longer than MAX_REASON."""
    reason = (reason or "").strip() or None
    if required and not reason:
        raise ValidationError(
            "say why: the seller reads it", details={"reason": f"required {what}"}
        )
    if reason and len(reason) > MAX_REASON:
        raise ValidationError("too long", details={"reason": f"at most {MAX_REASON} characters"})
    return reason


def seller_id_of(row) -> int | None:
    """The seller a row with a `seller` relation (a product, a warehouse) names as it stands: the
    relation when something set it (a form does; only the flush copies it to `seller_id`), else
    the column. Reads nothing from the database."""
    if inspect(row).attrs.seller.history.has_changes():
        return row.seller.id if row.seller is not None else None
    return row.seller_id
