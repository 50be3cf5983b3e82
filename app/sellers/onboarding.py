"""A seller's onboarding: self-registration (a new account, or a customer of the tenant applying)
and the status machine staff drive, in one place for the API and the admin.

    pending --approve--> approved --suspend--> suspended --reinstate--> approved
    pending --reject---> rejected (with the reason the applicant reads)

Every change is a write of the seller row in one transaction (the audit hook records it, before
and after) and one `seller.status_changed` outbox event, whose consumer (`mail_status_change`,
jobs/subscribers.py) mails the seller after the commit. Approval needs every mandatory KYC
document of the seller's business type accepted (app.sellers.kyc). The tenant's `max_sellers`
plan limit is held like the catalog's `max_products`: the tenant row is locked, then counted.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.db import transaction
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.core.slugs import unique_slug
from app.core.tenancy import current_tenant_id
from app.core.types import utcnow
from app.events.bus import publish
from app.extensions import db
from app.notifications import mail
from app.security import auth, roles
from app.security import services as users
from app.security.actor import Actor
from app.security.models import User
from app.sellers import kyc
from app.sellers.errors import SellerError
from app.sellers.inputs import NewAccount, SellerChanges, StoreDetails
from app.sellers.models import BUSINESS_TYPES, SellerProfile
from app.sellers.services import clean_reason
from app.tenants.models import Tenant

log = logging.getLogger(__name__)

EVENT = "seller.status_changed"
REGISTERED = "seller.registered"
# (status now, step) -> status after; nothing else is allowed
TRANSITIONS: dict[tuple[str, str], str] = {
    ("pending", "approve"): "approved",
    ("pending", "reject"): "rejected",
    ("approved", "suspend"): "suspended",
    ("suspended", "reinstate"): "approved",
}
STEPS = ("approve", "reject", "suspend", "reinstate")
NEEDS_REASON = ("reject", "suspend")
# sellers that do not count against the plan's max_sellers: an application refused for good
NOT_COUNTED = ("rejected",)


def allowed_steps(status: str) -> list[str]:
    """The steps staff may take on a seller in `status`, in STEPS order."""
    return [step for step in STEPS if (status, step) in TRANSITIONS]


# --- the plan limit ------------------------------------------------------------------------------


def reserve_seller_place() -> None:
    """Refuse a new seller beyond the tenant's plan limit (tenants.max_sellers; NULL: unlimited).

    Rejected applications do not count. The tenant row is locked (SELECT ... FOR UPDATE) before
    counting, so concurrent registrations at one storefront are serialised here and cannot
    overshoot the limit together; the lock lasts until the caller's transaction ends."""
    tenant_id = current_tenant_id()
    if tenant_id is None:
        return
    limit = db.session.execute(
        select(Tenant.max_sellers).where(Tenant.id == tenant_id).with_for_update()
    ).scalar_one_or_none()
    if limit is None:
        return
    current = (
        db.session.scalar(
            select(func.count(SellerProfile.id)).where(SellerProfile.status.not_in(NOT_COUNTED))
        )
        or 0
    )
    if current + 1 > limit:
        raise Conflict(
            f"this storefront's plan allows {limit} sellers",
            code=SellerError.SELLER_LIMIT_REACHED,
            details={"limit": limit, "current": current},
        )


# --- registration --------------------------------------------------------------------------------


def _check_store(store: StoreDetails | SellerChanges) -> None:
    errors = {}
    name = getattr(store, "store_name", None)
    if isinstance(name, str) and not name.strip():
        errors["store_name"] = "required"
    business_type = getattr(store, "business_type", None)
    if isinstance(business_type, str) and business_type not in BUSINESS_TYPES:
        errors["business_type"] = f"one of {', '.join(BUSINESS_TYPES)}"
    if errors:
        raise ValidationError("invalid store", details=errors)


def _new_profile(user: User, store: StoreDetails) -> SellerProfile:
    reserve_seller_place()
    profile = SellerProfile(
        user_id=user.id,
        store_name=store.store_name.strip(),
        description=store.description,
        contact_email=store.contact_email or user.email,
        business_type=store.business_type,
        status="pending",
    )
    profile.slug = unique_slug(SellerProfile, profile.store_name)
    db.session.add(profile)
    db.session.flush()
    publish(
        REGISTERED,
        {"seller_id": profile.id, "user_id": user.id},
        aggregate="seller",
        aggregate_id=profile.id,
    )
    return profile


def apply(actor: Actor, store: StoreDetails) -> SellerProfile:
    """A signed-in customer of the tenant applies: its user gets the Seller role and a pending
    profile. Staff cannot apply (they run the shop); a user applies once."""
    _check_store(store)
    if not actor.is_customer or actor.is_admin or actor.tenant_id is None:
        raise PermissionDenied("only a customer of this storefront applies to sell here")
    with transaction():
        user = db.session.get(User, actor.user_id)
        if user is None:
            raise NotFound("no such user")
        if db.session.scalar(select(SellerProfile.id).where(SellerProfile.user_id == user.id)):
            raise Conflict(
                "you already applied to sell here", code=SellerError.SELLER_ALREADY_REGISTERED
            )
        users.grant_role(user, roles.SELLER)
        try:
            profile = _new_profile(user, store)
        except IntegrityError as exc:  # the same user applying twice at once
            raise Conflict(
                "you already applied to sell here", code=SellerError.SELLER_ALREADY_REGISTERED
            ) from exc
    return profile


def register(account: NewAccount, store: StoreDetails) -> None:
    """A new account that applies to sell: a user with the Seller role (its e-mail to verify) and
    a pending profile. An e-mail already registered gets the same answer (no enumeration) and its
    owner a mail instead, as app.customers.accounts.register does; the plan limit answers first."""
    _check_store(store)
    email = users.check_email(account.email)
    users.validate_password(account.password)
    try:
        with transaction():
            reserve_seller_place()
            if auth.already_registered(email):
                return
            user = users.create_user(
                tenant_id=current_tenant_id(),
                email=email,
                password=account.password,
                first_name=account.first_name or "",
                last_name=account.last_name or "",
                role_names=[roles.SELLER],
            )
            db.session.flush()
            _new_profile(user, store)
            publish("user.registered", {"user_id": user.id}, aggregate="user", aggregate_id=user.id)
    except IntegrityError:
        return  # a concurrent registration of the same address won: same answer


# --- the seller's own profile --------------------------------------------------------------------


def own_profile(actor: Actor) -> SellerProfile:
    """The caller's seller profile (NotFound: it has none)."""
    profile = (
        db.session.scalar(select(SellerProfile).where(SellerProfile.user_id == actor.user_id))
        if actor.is_seller
        else None
    )
    if profile is None:
        raise NotFound("you have no seller profile")
    return profile


def update_own_profile(actor: Actor, changes: SellerChanges) -> SellerProfile:
    """A seller changes its store (name, description, contact); its business type only until it
    is approved (the KYC it owes depends on it). Never its status or commission."""
    _check_store(changes)
    with transaction():
        profile = own_profile(actor)
        given = changes.given()
        if "business_type" in given and given["business_type"] != profile.business_type:
            if profile.status not in ("pending", "rejected"):
                raise ValidationError(
                    "the business type is fixed once approved",
                    details={"business_type": "ask the shop's staff to change it"},
                )
        for name, value in given.items():
            setattr(profile, name, value.strip() if name == "store_name" else value)
    return profile


# --- the status machine --------------------------------------------------------------------------


def change_status(actor: Actor, seller_id: int, step: str, reason: str | None = None):
    """Staff take `step` (approve, reject, suspend, reinstate) on seller `seller_id`; reject and
    suspend need the reason the seller reads. Returns the profile."""
    if not actor.is_admin:
        raise PermissionDenied("only staff change a seller's status")
    if step not in STEPS:
        raise ValidationError("unknown step", details={"step": f"one of {', '.join(STEPS)}"})
    reason = clean_reason(reason, required=step in NEEDS_REASON, what="to " + step)
    with transaction():
        profile = db.session.scalar(
            select(SellerProfile).where(SellerProfile.id == seller_id).with_for_update()
        )
        if profile is None:
            raise NotFound("no such seller")
        after = TRANSITIONS.get((profile.status, step))
        if after is None:
            raise Conflict(
                f"a {profile.status} seller cannot be {step}d",
                code=SellerError.SELLER_STATUS_CONFLICT,
                details={"status": profile.status, "allowed": allowed_steps(profile.status)},
            )
        if step == "approve":
            kyc.require_complete(profile)
        before = profile.status
        profile.status = after
        profile.status_reason = reason if step in NEEDS_REASON else None
        profile.status_changed_at = utcnow()
        publish(
            EVENT,
            {
                "seller_id": profile.id,
                "before": before,
                "status": after,
                "step": step,
                "reason": profile.status_reason,
                "by": actor.user_id,
            },
            aggregate="seller",
            aggregate_id=profile.id,
        )
    return profile


# --- mails (consumers of the events above, jobs/subscribers.py) ----------------------------------


def mail_status_change(event) -> None:
    """seller.status_changed: tell the seller (its store's contact address) what changed and why."""
    profile = db.session.get(SellerProfile, int(event.payload["seller_id"]))
    to = kyc.recipient(profile) if profile is not None else None
    if to is None:
        log.warning("seller %s changed status and has no address", event.payload["seller_id"])
        return
    mail.send_mail(
        "seller_status_changed",
        to,
        {
            "store_name": profile.store_name,
            "status": event.payload["status"],
            "step": event.payload["step"],
            "reason": event.payload.get("reason"),
        },
    )


def mail_application_received(event) -> None:
    """seller.registered: confirm the application and say what comes next."""
    profile = db.session.get(SellerProfile, int(event.payload["seller_id"]))
    to = kyc.recipient(profile) if profile is not None else None
    if to is None:
        return
    mail.send_mail(
        "seller_application_received",
        to,
        {
            "store_name": profile.store_name,
            "documents": [r.document_type for r in kyc.requirements_for(profile.business_type)],
        },
    )
