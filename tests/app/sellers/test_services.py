"""Seller rules (app.sellers.services), as the admin's seller forms use them: a valid profile, its
store slug, and what a seller may change of its own profile."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.core.errors import ValidationError
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.sellers import services
from app.sellers.models import SellerProfile


@pytest.mark.parametrize(
    ("status", "rate", "fields"),
    [
        ("approved", Decimal("0.1000"), set()),
        ("pending", Decimal("0"), set()),
        ("suspended", Decimal("1"), set()),
        ("banned", Decimal("0.1"), {"status"}),
        ("approved", Decimal("1.0001"), {"commission_rate"}),
        ("approved", Decimal("-0.01"), {"commission_rate"}),
        ("closed", None, {"status", "commission_rate"}),
    ],
)
def test_a_profile_has_a_known_status_and_a_rate_between_0_and_1(status, rate, fields):
    profile = SellerProfile(store_name="Shop", status=status, commission_rate=rate)
    if not fields:
        services.check_profile(profile)
        return
    with pytest.raises(ValidationError) as exc:
        services.check_profile(profile)
    assert set(exc.value.details) == fields


def test_a_new_store_gets_a_unique_slug_from_its_name(ctx, factory):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    with tenant_scope(tenant.id):
        taken = db.session.get(SellerProfile, seller.id)
        profile = SellerProfile(
            store_name=taken.slug.replace("-", " "),
            status="pending",
            commission_rate=Decimal("0.1"),
        )
        services.prepare_profile(profile)
        assert profile.slug == f"{taken.slug}-2"
        kept = SellerProfile(
            store_name="Other", slug="chosen", status="pending", commission_rate=Decimal("0.1")
        )
        services.prepare_profile(kept)
        assert kept.slug == "chosen"


def test_a_seller_saves_its_own_store_but_not_its_approval_or_commission(ctx, factory):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant, status="pending"), factory.seller(tenant)
    with tenant_scope(tenant.id):
        profile = db.session.get(SellerProfile, seller.id)
        profile.description = "fresh bread"
        assert services.seller_may_save(profile, seller.id)
        assert not services.seller_may_save(profile, other.id)
        profile.status = "approved"
        assert not services.seller_may_save(profile, seller.id)
        db.session.rollback()
        profile = db.session.get(SellerProfile, seller.id)
        profile.commission_rate = Decimal("0")
        assert not services.seller_may_save(profile, seller.id)
