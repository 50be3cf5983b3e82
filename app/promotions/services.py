"""Promotion operations: create, list and read (admins: the tenant's; sellers: their own), the
public list of active automatic promotions, and `redeem` for checkout. What a coupon takes off a
basket is priced above promotions, by `app.pricing.services.apply_coupon`.

Usage limits under concurrency: `redeem` consumes one use with a conditional UPDATE
(`uses_count < usage_limit`) on the promotion row, and the per-customer limit with a conditional
UPDATE on the (promotion, customer) counter row, inside the caller's transaction. The database
decides: with 5 uses left, exactly 5 of any number of concurrent checkouts get one; the others get
a 409 `promotion_exhausted` and their transaction rolls back. Promotions are locked in id order,
so two orders using the same promotions never deadlock.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from app.catalog.models import Category, Product
from app.core.db import transaction
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.core.paging import Page, paginate
from app.core.types import utcnow
from app.core.views import view_of
from app.events.bus import publish
from app.extensions import db
from app.pricing_contract import AppliedPromotion
from app.promotions import scopes
from app.promotions.apply import normalize_code
from app.promotions.errors import PromotionError
from app.promotions.inputs import NewPromotion
from app.promotions.models import (
    FUNDERS,
    KINDS,
    Promotion,
    PromotionCustomerUsage,
    PromotionRedemption,
)
from app.security import roles
from app.security.actor import Actor
from app.sellers.models import SellerProfile
from app.sellers.services import require_approved

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,63}$")
CUSTOMER_ROLES = (roles.CUSTOMER, roles.PREMIUM_CUSTOMER)


def _seller_id(actor: Actor) -> int | None:
    """None for an admin, the seller profile id for a seller; others may not manage promotions."""
    if actor.is_admin:
        return None
    if actor.seller_id is not None:
        return actor.seller_id
    raise PermissionDenied("only admins and sellers manage promotions")


def _seller(actor: Actor) -> SellerProfile | None:
    """As _seller_id, the seller's whole profile (creating a promotion reads its approval)."""
    seller_id = _seller_id(actor)
    return db.session.get(SellerProfile, seller_id) if seller_id is not None else None


def check_fields(values: dict) -> dict[str, list[str]]:
    """Field errors of a promotion's values (the API and the admin forms share these rules)."""
    errors: dict[str, list[str]] = {}

    def bad(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    kind, value = values.get("kind"), values.get("value")
    value = Decimal(value) if value is not None else Decimal("0")
    if kind not in KINDS:
        bad("kind", f"one of {', '.join(KINDS)}")
    elif kind == "percentage" and not Decimal("0") < value <= 100:
        bad("value", "a percentage above 0 and at most 100")
    elif kind == "fixed_amount" and value <= 0:
        bad("value", "an amount above 0")
    elif kind == "buy_x_get_y":
        if not Decimal("0") < value <= 100:
            bad("value", "the percent off the free items, above 0 and at most 100 (100 = free)")
        if not values.get("buy_quantity") or values["buy_quantity"] < 1:
            bad("buy_quantity", "at least 1")
        if not values.get("get_quantity") or values["get_quantity"] < 1:
            bad("get_quantity", "at least 1")
    if values.get("funded_by", "platform") not in FUNDERS:
        bad("funded_by", f"one of {', '.join(FUNDERS)}")
    if values.get("funded_by") == "seller" and not values.get("seller_id"):
        bad("seller_id", "a seller-funded promotion names its seller")
    if values.get("funded_by", "platform") == "platform" and values.get("seller_id"):
        bad("seller_id", "a platform promotion has no seller; fund it by the seller instead")
    code = values.get("code")
    if code is not None and not _CODE.match(code):
        bad("code", "3-64 letters, digits, _ or -, starting with a letter or digit")
    starts, ends = values.get("starts_at"), values.get("ends_at")
    if starts is not None and ends is not None and ends <= starts:
        bad("ends_at", "must be after starts_at")
    for name in ("usage_limit", "usage_limit_per_customer"):
        if values.get(name) is not None and values[name] < 1:
            bad(name, "at least 1 (leave it empty for no limit)")
    if values.get("min_subtotal") is not None and values["min_subtotal"] < 0:
        bad("min_subtotal", "must not be negative")
    if values.get("customer_role") is not None and values["customer_role"] not in CUSTOMER_ROLES:
        bad("customer_role", f"one of {', '.join(CUSTOMER_ROLES)}")
    for name, model in (
        ("product_ids", Product),
        ("category_ids", Category),
        ("seller_ids", SellerProfile),
    ):
        ids = values.get(name) or []
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            bad(name, "a list of ids")
            continue
        if ids:
            found = set(db.session.scalars(select(model.id).where(model.id.in_(ids))).all())
            missing = sorted(set(ids) - found)
            if missing:
                bad(name, f"unknown ids: {', '.join(map(str, missing))}")
    return errors


def own_by_seller(promotion: Promotion, seller_id: int | None) -> None:
    """A seller's promotion is always its own and funded by it, whatever its form said (a seller
    with no profile: no seller, which check_fields then refuses); a seller not approved yet may
    not create or change one (PermissionDenied, seller_not_approved), as in create_promotion."""
    seller = None if seller_id is None else db.session.get(SellerProfile, seller_id)
    require_approved(seller)
    promotion.funded_by = "seller"
    promotion.seller_id = seller_id
    promotion.seller = seller


def prepare_promotion(promotion: Promotion) -> None:
    """Default, normalize and check a promotion edited in the admin (raises ValidationError): the
    platform funds it unless a seller does, no value or priority is 0, its seller is the one its
    seller relation names."""
    promotion.funded_by = promotion.funded_by or "platform"
    promotion.value = promotion.value if promotion.value is not None else 0
    promotion.priority = promotion.priority or 0
    if promotion.seller is not None:
        promotion.seller_id = promotion.seller.id
    if promotion.code is not None:
        promotion.code = normalize_code(promotion.code) or None
    for name in ("product_ids", "category_ids", "seller_ids"):
        if getattr(promotion, name) is None:
            setattr(promotion, name, [])
    values = {
        c: getattr(promotion, c)
        for c in (
            "kind",
            "value",
            "buy_quantity",
            "get_quantity",
            "funded_by",
            "seller_id",
            "code",
            "starts_at",
            "ends_at",
            "usage_limit",
            "usage_limit_per_customer",
            "min_subtotal",
            "customer_role",
            "product_ids",
            "category_ids",
            "seller_ids",
        )
    }
    errors = check_fields(values)
    if promotion.code and db.session.scalar(
        select(Promotion.id).where(
            Promotion.code == promotion.code, Promotion.id != (promotion.id or 0)
        )
    ):
        errors.setdefault("code", []).append("already used by another promotion")
    if promotion.usage_limit is not None and promotion.usage_limit < (promotion.uses_count or 0):
        errors.setdefault("usage_limit", []).append(f"already used {promotion.uses_count} times")
    if errors:
        text = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in errors.items())
        raise ValidationError(f"invalid promotion: {text}", details=errors)


@dataclass(frozen=True)
class PromotionView:
    """A promotion's columns, read while its transaction is open (the storefront shows an automatic
    promotion without its counts: the face's schema picks what it shows)."""

    id: int
    name: str
    description: str | None
    kind: str
    value: Decimal
    buy_quantity: int | None
    get_quantity: int | None
    code: str | None
    min_subtotal: Decimal | None
    product_ids: list[int]
    category_ids: list[int]
    seller_ids: list[int]
    customer_role: str | None
    first_order_only: bool
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    usage_limit: int | None
    usage_limit_per_customer: int | None
    uses_count: int
    stackable: bool
    priority: int
    funded_by: str
    seller_id: int | None
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, p: Promotion) -> PromotionView:
        return view_of(cls, p)


def _page(stmt, page: int, page_size: int) -> Page[PromotionView]:
    result = paginate(stmt, page, page_size)
    return replace(result, items=[PromotionView.of(p) for p in result.items])


def list_promotions(
    actor: Actor,
    *,
    page: int = 1,
    page_size: int = 24,
    kind: str | None = None,
    active: bool | None = None,
) -> Page[PromotionView]:
    seller_id = _seller_id(actor)
    stmt = select(Promotion).order_by(Promotion.id.desc())
    if seller_id is not None:
        stmt = stmt.where(scopes.promotions_of_seller(seller_id))
    if kind is not None:
        stmt = stmt.where(Promotion.kind == kind)
    if active is not None:
        stmt = stmt.where(Promotion.is_active.is_(active))
    return _page(stmt, page, page_size)


def get_promotion(actor: Actor, promotion_id: int) -> PromotionView:
    seller_id = _seller_id(actor)
    promotion = db.session.get(Promotion, promotion_id) if 0 < promotion_id < 2**31 else None
    if promotion is None or (
        seller_id is not None and not scopes.owns_promotion(seller_id, promotion)
    ):
        raise NotFound("no such promotion")
    return PromotionView.of(promotion)


def create_promotion(actor: Actor, data: NewPromotion) -> PromotionView:
    """Admins create platform promotions; sellers create their own, funded by them."""
    try:
        with transaction():
            seller = _seller(actor)
            values = data.given()
            if values.get("code") is not None:
                values["code"] = normalize_code(values["code"])
            values["funded_by"] = "seller" if seller is not None else "platform"
            values["seller_id"] = seller.id if seller is not None else None
            require_approved(seller)
            errors = check_fields(values)
            if errors:
                raise ValidationError("invalid promotion", details=errors)
            if values.get("code") and db.session.scalar(
                select(Promotion.id).where(Promotion.code == values["code"])
            ):
                raise Conflict(
                    "this coupon code is already used",
                    code=PromotionError.COUPON_CODE_TAKEN,
                    details={"code": values["code"]},
                )
            for name in ("product_ids", "category_ids", "seller_ids"):
                values[name] = sorted(set(values.get(name) or []))
            for name in ("starts_at", "ends_at"):
                if values.get(name) is not None:
                    values[name] = values[name].astimezone(dt.timezone.utc)
            promotion = Promotion(**values)
            db.session.add(promotion)
            db.session.flush()
            return PromotionView.of(promotion)
    except IntegrityError as exc:
        raise Conflict(
            "this coupon code is already used", code=PromotionError.COUPON_CODE_TAKEN
        ) from exc


def active_promotions(*, page: int = 1, page_size: int = 24) -> Page[PromotionView]:
    """Live automatic promotions (no coupon code), highest priority first."""
    now = utcnow()
    stmt = (
        select(Promotion)
        .where(
            Promotion.code.is_(None),
            Promotion.is_active.is_(True),
            or_(Promotion.starts_at.is_(None), Promotion.starts_at <= now),
            or_(Promotion.ends_at.is_(None), Promotion.ends_at > now),
            or_(Promotion.usage_limit.is_(None), Promotion.uses_count < Promotion.usage_limit),
        )
        .order_by(Promotion.priority.desc(), Promotion.id)
    )
    return _page(stmt, page, page_size)


def _consume_customer_use(promotion: Promotion, customer_user_id: int) -> bool:
    """One more use by this customer if under the per-customer limit (conditional UPDATE on the
    counter row, created first if missing; a concurrent creator wins the unique key)."""
    exists = db.session.scalar(
        select(PromotionCustomerUsage.id).where(
            PromotionCustomerUsage.promotion_id == promotion.id,
            PromotionCustomerUsage.customer_user_id == customer_user_id,
        )
    )
    if exists is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    PromotionCustomerUsage(
                        promotion_id=promotion.id,
                        customer_user_id=customer_user_id,
                        uses_count=0,
                        tenant_id=promotion.tenant_id,
                    )
                )
        except IntegrityError:
            pass  # created meanwhile by a concurrent checkout of the same customer
    result = db.session.execute(
        update(PromotionCustomerUsage)
        .where(
            PromotionCustomerUsage.promotion_id == promotion.id,
            PromotionCustomerUsage.customer_user_id == customer_user_id,
            PromotionCustomerUsage.uses_count < promotion.usage_limit_per_customer,
        )
        .values(uses_count=PromotionCustomerUsage.uses_count + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def redeem(
    applied: Iterable[AppliedPromotion], *, order_id: int, customer_user_id: int | None
) -> list[PromotionRedemption]:
    """Consume the usage limits of the promotions an order used and record the redemptions, inside
    the caller's transaction. Raises Conflict `promotion_exhausted` when a limit was reached
    meanwhile, `promotion_unavailable` when the promotion ended or was switched off since the basket
    was priced (the caller's transaction must then roll back: nothing is kept)."""
    redemptions = []
    now = utcnow()
    with transaction():
        for item in sorted(applied, key=lambda a: a.promotion_id):
            result = db.session.execute(
                update(Promotion)
                .where(
                    Promotion.id == item.promotion_id,
                    Promotion.is_active.is_(True),
                    or_(Promotion.starts_at.is_(None), Promotion.starts_at <= now),
                    or_(Promotion.ends_at.is_(None), Promotion.ends_at > now),
                    or_(
                        Promotion.usage_limit.is_(None),
                        Promotion.uses_count < Promotion.usage_limit,
                    ),
                )
                .values(uses_count=Promotion.uses_count + 1)
                .execution_options(synchronize_session=False)
            )
            details = {"promotion_id": item.promotion_id, "code": item.code}
            promotion = db.session.get(Promotion, item.promotion_id, populate_existing=True)
            if result.rowcount != 1:
                if promotion is None or not promotion.is_live(now):
                    raise Conflict(
                        "a promotion of this order has ended or was withdrawn",
                        code=PromotionError.PROMOTION_UNAVAILABLE,
                        details=details,
                    )
                raise Conflict(
                    "a promotion of this order has no use left",
                    code=PromotionError.PROMOTION_EXHAUSTED,
                    details=details,
                )
            if promotion.usage_limit_per_customer is not None:
                if customer_user_id is None:
                    raise Conflict(
                        "this promotion is limited per customer: sign in to use it",
                        code=PromotionError.PROMOTION_EXHAUSTED,
                        details=dict(details, reason="login_required"),
                    )
                if not _consume_customer_use(promotion, customer_user_id):
                    raise Conflict(
                        "you have used this promotion as many times as allowed",
                        code=PromotionError.PROMOTION_EXHAUSTED,
                        details=dict(details, reason="customer_limit"),
                    )
            redemption = PromotionRedemption(
                promotion_id=promotion.id,
                order_id=order_id,
                customer_user_id=customer_user_id,
                code=item.code,
                discount_total=item.discount_total,
                tenant_id=promotion.tenant_id,
            )
            db.session.add(redemption)
            redemptions.append(redemption)
        db.session.flush()
        for r in redemptions:
            publish(
                "promotion.redeemed",
                {
                    "promotion_id": r.promotion_id,
                    "order_id": order_id,
                    "redemption_id": r.id,
                    "discount_total": str(r.discount_total),
                },
                aggregate="promotion",
                aggregate_id=r.promotion_id,
            )
    return redemptions
