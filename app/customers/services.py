"""Customer use cases: the caller's profile, addresses, wishlist and activity log (the caller's
figures, which read orders and reviews too, are app/customer_analytics.py).

Every function takes the signed-in caller's Actor (app.security.actor) and works on its own customer profile (made
lazily on first use); another customer's rows are simply not found (404), never shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from app.catalog.models import Category, Product
from app.core.db import transaction, transactional
from app.core.errors import Conflict, NotFound, ValidationError
from app.core.paging import Page, paginate
from app.customers.engagement_models import ACTIVITY_TYPES, CustomerActivity, WishlistItem
from app.customers.errors import CustomerError
from app.customers.inputs import AddressInput, ProfileChanges
from app.customers.models import Address, CustomerProfile
from app.extensions import db
from app.security.actor import Actor

PROFILE_FIELDS = (
    "phone",
    "date_of_birth",
    "preferred_language",
    "preferred_currency",
    "marketing_opt_in",
)
ADDRESS_FIELDS = (
    "label",
    "full_name",
    "company",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
)
# activity types that are about one product (and must name an existing product of the tenant)
PRODUCT_ACTIVITIES = frozenset({"product_view", "wishlist_add", "wishlist_remove", "add_to_cart"})


# --- shared helpers ------------------------------------------------------------------------------


def active_product(product_id: int, *, lock: bool = False) -> Product:
    """An active product of the current tenant, or NotFound (another tenant's product is not found)."""
    stmt = select(Product).where(Product.id == product_id, Product.status == "active")
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    product = db.session.scalar(stmt)
    if product is None:
        raise NotFound("no such product", details={"product_id": product_id})
    return product


def _profile_of(user_id: int, *, lock: bool = False) -> CustomerProfile | None:
    stmt = select(CustomerProfile).where(CustomerProfile.user_id == user_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(stmt)


def ensure_profile(actor: Actor, *, lock: bool = False) -> CustomerProfile:
    """The user's customer profile, created on first use (inside the caller's transaction).

    Two first requests at once may both try to create it: the loser's insert (in a savepoint)
    hits the unique user_id and it reads the winner's row instead."""
    profile = _profile_of(actor.user_id, lock=lock)
    if profile is not None:
        return profile
    try:
        with db.session.begin_nested():
            profile = CustomerProfile(user_id=actor.user_id)
            db.session.add(profile)
    except IntegrityError:
        profile = None
    if profile is None or lock:
        profile = _profile_of(actor.user_id, lock=lock)
    return profile


# --- profile -------------------------------------------------------------------------------------


@transactional
def get_profile(actor: Actor) -> CustomerProfile:
    return ensure_profile(actor)


@transactional
def update_profile(actor: Actor, changes: ProfileChanges) -> CustomerProfile:
    data = changes.given()
    profile = ensure_profile(actor)
    for name in PROFILE_FIELDS:
        if name in data:
            setattr(profile, name, data[name])
    db.session.flush()
    return profile


# --- addresses -----------------------------------------------------------------------------------


def list_addresses(actor: Actor, page: int, page_size: int) -> Page[Address]:
    with transaction():
        profile = ensure_profile(actor)
        stmt = (
            select(Address)
            .where(Address.customer_id == profile.id)
            .order_by(Address.is_default.desc(), Address.id)
        )
        return paginate(stmt, page, page_size)


def _own_address(profile: CustomerProfile, address_id: int) -> Address:
    address = db.session.scalar(
        select(Address)
        .where(Address.id == address_id, Address.customer_id == profile.id)
        .execution_options(populate_existing=True)
    )
    if address is None:
        raise NotFound("no such address", details={"address_id": address_id})
    return address


def _check_label(profile: CustomerProfile, label: str, exclude_id: int | None = None) -> None:
    stmt = select(Address.id).where(Address.customer_id == profile.id, Address.label == label)
    if exclude_id is not None:
        stmt = stmt.where(Address.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise Conflict(
            "you already have an address with this label",
            code=CustomerError.DUPLICATE_LABEL,
            details={"label": ["already used by another of your addresses"]},
        )


def _make_default(profile: CustomerProfile, address_id: int) -> None:
    """One UPDATE sets is_default on exactly one of the customer's addresses (the caller holds the
    customer's profile row lock, so concurrent calls apply one after the other)."""
    db.session.execute(
        update(Address)
        .where(Address.customer_id == profile.id)
        .values(is_default=case((Address.id == address_id, True), else_=False))
        .execution_options(synchronize_session=False)
    )


def _promote_a_default(profile: CustomerProfile) -> None:
    """After the default went away: the oldest remaining address becomes the default."""
    has_default = db.session.scalar(
        select(Address.id).where(Address.customer_id == profile.id, Address.is_default.is_(True))
    )
    if has_default is None:
        first = db.session.scalar(
            select(func.min(Address.id)).where(Address.customer_id == profile.id)
        )
        if first is not None:
            _make_default(profile, first)


@transactional
def get_address(actor: Actor, address_id: int) -> Address:
    return _own_address(ensure_profile(actor), address_id)


@transactional
def create_address(actor: Actor, address: AddressInput) -> Address:
    data = address.given()
    profile = ensure_profile(actor, lock=True)
    label = data.get("label") or "Home"
    _check_label(profile, label)
    address = Address(
        customer_id=profile.id,
        **{k: data.get(k) for k in ADDRESS_FIELDS if k != "label"},
        label=label,
        is_default=False,
    )
    db.session.add(address)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "you already have an address with this label",
            code=CustomerError.DUPLICATE_LABEL,
            details={"label": ["already used by another of your addresses"]},
        ) from exc
    has_default = db.session.scalar(
        select(Address.id).where(Address.customer_id == profile.id, Address.is_default.is_(True))
    )
    if data.get("is_default") or has_default is None:
        _make_default(profile, address.id)
    return _own_address(profile, address.id)


@transactional
def update_address(actor: Actor, address_id: int, changes: AddressInput) -> Address:
    data = changes.given()
    profile = ensure_profile(actor, lock=True)
    address = _own_address(profile, address_id)
    if "label" in data and data["label"] is not None:
        _check_label(profile, data["label"], exclude_id=address.id)
    # is_default false is ignored: there is always one default; another address takes it over by
    # being set as default
    for name in ADDRESS_FIELDS:
        if name in data:
            setattr(address, name, data[name] if name != "label" else (data[name] or "Home"))
    db.session.flush()
    if data.get("is_default"):
        _make_default(profile, address.id)
    return _own_address(profile, address.id)


@transactional
def delete_address(actor: Actor, address_id: int) -> None:
    profile = ensure_profile(actor, lock=True)
    address = _own_address(profile, address_id)
    db.session.delete(address)
    db.session.flush()
    _promote_a_default(profile)


@transactional
def set_default_address(actor: Actor, address_id: int) -> Address:
    # the profile row lock serialises every default change of this customer
    profile = ensure_profile(actor, lock=True)
    _own_address(profile, address_id)
    _make_default(profile, address_id)
    return _own_address(profile, address_id)


# --- wishlist ------------------------------------------------------------------------------------


def list_wishlist(actor: Actor, page: int, page_size: int) -> Page[WishlistItem]:
    with transaction():
        profile = ensure_profile(actor)
        stmt = (
            select(WishlistItem)
            .join(WishlistItem.product)
            .where(WishlistItem.customer_id == profile.id)
            .order_by(WishlistItem.created_at.desc(), WishlistItem.id.desc())
        )
        return paginate(stmt, page, page_size)


def _wishlist_item(profile: CustomerProfile, product_id: int) -> WishlistItem | None:
    return db.session.scalar(
        select(WishlistItem).where(
            WishlistItem.customer_id == profile.id, WishlistItem.product_id == product_id
        )
    )


@transactional
def add_to_wishlist(actor: Actor, product_id: int) -> tuple[WishlistItem, bool]:
    """Adds an active product of the tenant; adding it again is a no-op. Returns (item, created)."""
    profile = ensure_profile(actor)
    active_product(product_id)
    item = _wishlist_item(profile, product_id)
    if item is not None:
        return item, False
    try:
        with db.session.begin_nested():
            item = WishlistItem(customer_id=profile.id, product_id=product_id)
            db.session.add(item)
    except IntegrityError:  # a concurrent add of the same product won
        return _wishlist_item(profile, product_id), False
    db.session.add(
        CustomerActivity(
            customer_id=profile.id,
            type="wishlist_add",
            product_id=product_id,
            payload={"product_id": product_id},
        )
    )
    db.session.flush()
    return item, True


@transactional
def remove_from_wishlist(actor: Actor, product_id: int) -> None:
    profile = ensure_profile(actor)
    item = _wishlist_item(profile, product_id)
    if item is None:
        raise NotFound("this product is not in your wishlist", details={"product_id": product_id})
    db.session.delete(item)
    db.session.add(
        CustomerActivity(
            customer_id=profile.id,
            type="wishlist_remove",
            product_id=product_id,
            payload={"product_id": product_id},
        )
    )


@dataclass(frozen=True)
class WishlistStatus:
    product_id: int
    in_wishlist: bool
    added_at: dt.datetime | None


@transactional
def wishlist_check(actor: Actor, product_id: int) -> WishlistStatus:
    profile = ensure_profile(actor)
    if db.session.scalar(select(Product.id).where(Product.id == product_id)) is None:
        raise NotFound("no such product", details={"product_id": product_id})
    item = _wishlist_item(profile, product_id)
    return WishlistStatus(
        product_id=product_id,
        in_wishlist=item is not None,
        added_at=item.created_at if item else None,
    )


# --- activities ----------------------------------------------------------------------------------


def list_activities(
    actor: Actor, page: int, page_size: int, activity_type: str | None = None
) -> Page[CustomerActivity]:
    with transaction():
        profile = ensure_profile(actor)
        stmt = select(CustomerActivity).where(CustomerActivity.customer_id == profile.id)
        if activity_type:
            stmt = stmt.where(CustomerActivity.type == activity_type)
        stmt = stmt.order_by(CustomerActivity.created_at.desc(), CustomerActivity.id.desc())
        return paginate(stmt, page, page_size)


@transactional
def log_activity(actor: Actor, activity_type: str, payload: dict[str, Any]) -> CustomerActivity:
    """Record one storefront event of the caller. The payload was shape-checked by the API; here
    the product or category it names must exist in this tenant (404 otherwise)."""
    if activity_type not in ACTIVITY_TYPES:
        raise ValidationError(
            "unknown activity type", details={"type": [f"one of {', '.join(ACTIVITY_TYPES)}"]}
        )
    profile = ensure_profile(actor)
    product_id = payload.get("product_id")
    if activity_type in PRODUCT_ACTIVITIES:
        if product_id is None:
            raise ValidationError(
                "this activity needs a product", details={"product_id": ["required"]}
            )
    if (
        product_id is not None
        and db.session.scalar(select(Product.id).where(Product.id == product_id)) is None
    ):
        raise NotFound("no such product", details={"product_id": product_id})
    category_id = payload.get("category_id")
    if activity_type == "category_view" and category_id is None:
        raise ValidationError(
            "this activity needs a category", details={"category_id": ["required"]}
        )
    if (
        category_id is not None
        and db.session.scalar(select(Category.id).where(Category.id == category_id)) is None
    ):
        raise NotFound("no such category", details={"category_id": category_id})
    if activity_type == "search" and not payload.get("query"):
        raise ValidationError("a search needs its query", details={"query": ["required"]})
    activity = CustomerActivity(
        customer_id=profile.id,
        type=activity_type,
        product_id=product_id,
        payload={k: v for k, v in payload.items() if v is not None},
    )
    db.session.add(activity)
    db.session.flush()
    return activity
