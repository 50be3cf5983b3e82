"""Review use cases: list, write, edit, moderate, delete, vote helpful; keep the product's rating.

The product's rating_avg / rating_count are recomputed from the reviews table (approved reviews
only) in the same transaction as every change, with the product row locked (SELECT ... FOR
UPDATE), so concurrent reviews of one product apply one after the other and the summary always
matches the table. (SQLite has no row locks: it serialises writers on the whole database.)
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.catalog.models import Product
from app.core.db import transaction, transactional
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.core.paging import Page, paginate
from app.customers.services import active_product, ensure_profile
from app.events.bus import publish
from app.extensions import db
from app.orders.models import Order, OrderLine
from app.orders.states import OrderStatus
from app.reviews.errors import ReviewError
from app.reviews.inputs import NewReview, ReviewChanges
from app.reviews.models import REVIEW_STATUSES, Review, ReviewVote
from app.security.actor import Actor

SORTS = {
    "newest": (Review.created_at.desc(), Review.id.desc()),
    "oldest": (Review.created_at.asc(), Review.id.asc()),
    "rating": (Review.rating.asc(), Review.id.desc()),
    "-rating": (Review.rating.desc(), Review.id.desc()),
    "helpful": (Review.helpful_count.desc(), Review.id.desc()),
}
TWO_PLACES = Decimal("0.01")


def is_moderator(actor: Actor | None) -> bool:
    """Admins and Super Admins moderate reviews."""
    return actor is not None and actor.is_admin


def _visible():
    """Public visibility: approved reviews of active products."""
    return (Review.status == "approved") & Review.product_id.in_(
        select(Product.id).where(Product.status == "active")
    )


def sync_product_rating(product_id: int, *, exclude_review_id: int | None = None) -> Product:
    """Lock the product row and recompute its rating summary from the approved reviews."""
    product = db.session.scalar(
        select(Product)
        .where(Product.id == product_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if product is None:
        raise NotFound("no such product", details={"product_id": product_id})
    db.session.flush()
    stmt = select(func.avg(Review.rating), func.count(Review.id)).where(
        Review.product_id == product_id, Review.status == "approved"
    )
    if exclude_review_id is not None:
        stmt = stmt.where(Review.id != exclude_review_id)
    avg, count = db.session.execute(stmt).one()
    product.rating_count = count or 0
    product.rating_avg = Decimal(str(avg or 0)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    return product


def _event(name: str, review: Review, **extra: Any) -> None:
    publish(
        name,
        {
            "review_id": review.id,
            "product_id": review.product_id,
            "customer_id": review.customer_id,
            "rating": review.rating,
            "status": review.status,
            **extra,
        },
        aggregate="review",
        aggregate_id=review.id,
    )


# --- reading -------------------------------------------------------------------------------------


def list_reviews(
    *, product_id: int | None, rating: int | None, sort: str, page: int, page_size: int
) -> Page[Review]:
    with transaction():
        if product_id is not None:
            active_product(product_id)  # another tenant's (or an inactive) product: 404
        stmt = select(Review).where(_visible())
        if product_id is not None:
            stmt = stmt.where(Review.product_id == product_id)
        if rating is not None:
            stmt = stmt.where(Review.rating == rating)
        return paginate(stmt.order_by(*SORTS[sort]), page, page_size)


def _find(review_id: int, actor: Actor | None = None, *, lock: bool = False) -> Review:
    """A review the caller may see: a visible one, the caller's own, or any (moderators)."""
    stmt = select(Review).where(Review.id == review_id).execution_options(populate_existing=True)
    if lock:
        stmt = stmt.with_for_update()
    review = db.session.scalar(stmt)
    if review is None:
        raise NotFound("no such review", details={"review_id": review_id})
    if is_moderator(actor):
        return review
    own = (
        actor is not None
        and review.customer is not None
        and review.customer.user_id == actor.user_id
    )
    if own:
        return review
    visible = review.status == "approved" and review.product.status == "active"
    if not visible:
        raise NotFound("no such review", details={"review_id": review_id})
    return review


@transactional
def get_review(review_id: int, actor: Actor | None = None) -> Review:
    return _find(review_id, actor)


def _own_or_moderated(review_id: int, actor: Actor) -> Review:
    review = _find(review_id, actor)
    if is_moderator(actor) or review.customer.user_id == actor.user_id:
        return review
    raise NotFound("no such review", details={"review_id": review_id})  # another's: never revealed


# --- writing -------------------------------------------------------------------------------------


def bought(user_id: int, product_id: int) -> bool:
    """A verified purchase: a paid order of this customer, not wholly refunded, holds the product."""
    return (
        db.session.scalar(
            select(OrderLine.id)
            .join(Order, Order.id == OrderLine.order_id)
            .where(
                Order.customer_user_id == user_id,
                Order.paid_at.is_not(None),
                Order.status != OrderStatus.REFUNDED,
                OrderLine.product_id == product_id,
            )
            .limit(1)
        )
        is not None
    )


@transactional
def create_review(actor: Actor, data: NewReview) -> Review:
    product_id = data.product_id
    # lock the product first: it serialises this product's reviews (duplicate check and summary)
    active_product(product_id, lock=True)
    profile = ensure_profile(actor)
    duplicate = db.session.scalar(
        select(Review.id).where(Review.product_id == product_id, Review.customer_id == profile.id)
    )
    if duplicate is not None:
        raise Conflict(
            "you have already reviewed this product",
            code=ReviewError.ALREADY_REVIEWED,
            details={"review_id": duplicate},
        )
    review = Review(
        product_id=product_id,
        customer_id=profile.id,
        rating=data.rating,
        title=data.title,
        body=data.body,
        status="approved",
        verified_purchase=bought(actor.user_id, product_id),
    )
    db.session.add(review)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "you have already reviewed this product", code=ReviewError.ALREADY_REVIEWED
        ) from exc
    sync_product_rating(product_id)
    _event("review.created", review)
    return review


@transactional
def update_review(actor: Actor, review_id: int, changes: ReviewChanges) -> Review:
    """The author edits rating, title and body; a moderator may also set status (approve/hide)."""
    data = changes.given()
    review = _own_or_moderated(review_id, actor)
    is_author = review.customer.user_id == actor.user_id
    if "status" in data:
        if not is_moderator(actor):
            raise PermissionDenied("only a moderator may change a review's status")
        if data["status"] not in REVIEW_STATUSES:
            raise ValidationError(
                "unknown status", details={"status": [f"one of {', '.join(REVIEW_STATUSES)}"]}
            )
    if not is_author and set(data) - {"status"}:
        raise PermissionDenied("a moderator changes a review's status, not its content")
    sync_product_rating(review.product_id)  # lock the product before changing a counted review
    review = _find(review_id, actor)
    before = {"rating": review.rating, "status": review.status}
    for name in ("rating", "title", "body", "status"):
        if name in data:
            setattr(review, name, data[name])
    db.session.flush()
    sync_product_rating(review.product_id)
    _event("review.updated", review, before=before)
    return review


@transactional
def delete_review(actor: Actor, review_id: int) -> None:
    review = _own_or_moderated(review_id, actor)
    product_id = review.product_id
    sync_product_rating(product_id)
    db.session.delete(_find(review_id, actor))
    db.session.flush()
    sync_product_rating(product_id)
    publish(
        "review.deleted",
        {"review_id": review_id, "product_id": product_id},
        aggregate="review",
        aggregate_id=review_id,
    )


@transactional
def mark_helpful(actor: Actor, review_id: int) -> Review:
    """Once per user: a second vote is a 409 (already_voted). Never on one's own review (403)."""
    # only publicly visible reviews can be voted on; the row lock comes first so that concurrent
    # voters queue here rather than deadlock (the vote's foreign key takes a shared lock on it)
    review = _find(review_id, None, lock=True)
    if review.customer.user_id == actor.user_id:
        raise PermissionDenied("you cannot vote on your own review", code=ReviewError.OWN_REVIEW)
    try:
        with db.session.begin_nested():
            db.session.add(ReviewVote(review_id=review.id, user_id=actor.user_id))
    except IntegrityError as exc:
        raise Conflict(
            "you already found this review helpful", code=ReviewError.ALREADY_VOTED
        ) from exc
    db.session.execute(
        update(Review)
        .where(Review.id == review.id)
        .values(helpful_count=Review.helpful_count + 1)
        .execution_options(synchronize_session=False)
    )
    return _find(review_id, None)


# --- admin moderation hooks ----------------------------------------------------------------------


def before_admin_change(review: Review, *, deleting: bool = False) -> None:
    """Called by the admin view inside its transaction: keep the product's summary in step."""
    if review.status not in REVIEW_STATUSES:
        raise ValidationError(
            "unknown status", details={"status": [f"one of {', '.join(REVIEW_STATUSES)}"]}
        )
    if deleting:
        sync_product_rating(review.product_id, exclude_review_id=review.id)
        publish(
            "review.deleted",
            {"review_id": review.id, "product_id": review.product_id},
            aggregate="review",
            aggregate_id=review.id,
        )
        return
    db.session.flush()
    sync_product_rating(review.product_id)
    _event("review.updated", review)
