"""The one constructor of an Actor (app.security.actor) that the faces call: it knows how to find
a seller's profile id, which lives here, above security."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.security.actor import Actor
from app.sellers.models import SellerProfile


def seller_id_of(user_id: int) -> int | None:
    """The seller profile id of user `user_id` (None: it has none)."""
    return db.session.scalar(select(SellerProfile.id).where(SellerProfile.user_id == user_id))


def actor_for(user) -> Actor | None:
    """The Actor of a signed-in user (None for None: an anonymous caller); its seller profile is
    looked up only when something asks for its `seller_id`."""
    if user is None:
        return None
    return Actor.of(user, seller_id_of)
