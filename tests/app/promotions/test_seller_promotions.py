"""A seller's promotions (app.promotions.services), as the admin's promotion forms use them: always
the seller's own and funded by it; the defaults and checks of a promotion saved there."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.core.errors import ValidationError
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.promotions import services
from app.promotions.models import Promotion
from app.sellers.models import SellerProfile


def test_a_sellers_promotion_is_its_own_and_funded_by_it(ctx, factory):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    with tenant_scope(tenant.id):
        promotion = Promotion(name="10 off", kind="percentage", value=Decimal("10"))
        promotion.funded_by = "platform"
        promotion.seller = db.session.get(SellerProfile, other.id)  # what a form may have said
        services.own_by_seller(promotion, seller.id)
        assert (promotion.funded_by, promotion.seller_id, promotion.seller.id) == (
            "seller",
            seller.id,
            seller.id,
        )
        services.prepare_promotion(promotion)
        assert promotion.seller_id == seller.id


def test_a_seller_without_a_profile_gets_no_seller_and_the_save_is_refused(ctx, factory):
    tenant = factory.tenant()
    with tenant_scope(tenant.id):
        promotion = Promotion(name="10 off", kind="percentage", value=Decimal("10"))
        services.own_by_seller(promotion, None)
        assert (promotion.funded_by, promotion.seller_id, promotion.seller) == (
            "seller",
            None,
            None,
        )
        with pytest.raises(ValidationError) as exc:
            services.prepare_promotion(promotion)
        assert "seller_id" in exc.value.details


def test_an_admins_promotion_defaults_to_the_platform_and_its_seller_relation(ctx, factory):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    with tenant_scope(tenant.id):
        promotion = Promotion(name="Free gift", kind="fixed_amount", value=Decimal("5"))
        services.prepare_promotion(promotion)
        assert (promotion.funded_by, promotion.priority, promotion.seller_id) == (
            "platform",
            0,
            None,
        )
        funded = Promotion(name="Store week", kind="percentage", value=None, funded_by="seller")
        funded.seller = db.session.get(SellerProfile, seller.id)
        with pytest.raises(ValidationError) as exc:  # no value: 0, which a percentage refuses
            services.prepare_promotion(funded)
        assert funded.value == 0 and funded.seller_id == seller.id
        assert set(exc.value.details) == {"value"}
