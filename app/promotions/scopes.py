"""Which promotion rows an actor may see, as SQL conditions: the one home of the rule, called by the
promotions services and by the admin's seller scoping (admin/views/promotions.py). A seller sees
its own promotions (and their redemptions); an admin every one of the tenant. `owns_promotion`
is the same rule for one row in hand (the API's read of one, the admin's seller saves)."""

from __future__ import annotations

from sqlalchemy import select

from app.promotions.models import Promotion, PromotionRedemption


def promotions_of_seller(seller_id: int):
    return Promotion.seller_id == seller_id


def redemptions_of_seller(seller_id: int):
    return PromotionRedemption.promotion_id.in_(
        select(Promotion.id).where(promotions_of_seller(seller_id))
    )


def owns_promotion(seller_id: int, promotion: Promotion) -> bool:
    return promotion.seller_id == seller_id
