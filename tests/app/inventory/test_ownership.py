"""The seller_id copied onto variants, stock, movements and alerts always equals the product's."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.catalog.models import Product, ProductVariant
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.inventory import services as inventory
from app.inventory.models import LowStockAlert, StockLevel, StockMovement

pytestmark = pytest.mark.smoke


def _owners(product_id: int) -> set[int]:
    variant_ids = select(ProductVariant.id).where(ProductVariant.product_id == product_id)
    stock_ids = select(StockLevel.id).where(StockLevel.variant_id.in_(variant_ids))
    owners = set(
        db.session.scalars(
            select(ProductVariant.seller_id).where(ProductVariant.product_id == product_id)
        )
    )
    owners |= set(
        db.session.scalars(select(StockLevel.seller_id).where(StockLevel.id.in_(stock_ids)))
    )
    for model in (StockMovement, LowStockAlert):
        owners |= set(
            db.session.scalars(select(model.seller_id).where(model.stock_level_id.in_(stock_ids)))
        )
    return owners


def test_copies_follow_the_product_and_its_seller_changes(app, factory, ctx):
    tenant = factory.tenant()
    first, second = factory.seller(tenant), factory.seller(tenant)
    product = factory.product(first, stock=5)
    with tenant_scope(tenant.id):
        inventory.adjust_stock(product.stock_level_id, -3)  # a movement and a low-stock alert
        assert _owners(product.id) == {first.id}
        assert (
            db.session.scalar(
                select(LowStockAlert.seller_id).where(
                    LowStockAlert.stock_level_id == product.stock_level_id
                )
            )
            == first.id
        )

        db.session.get(Product, product.id).seller_id = second.id
        db.session.commit()
        db.session.expire_all()
        assert _owners(product.id) == {second.id}

        variant = ProductVariant(
            product_id=product.id, sku=f"EXTRA-{product.id}", price=1, currency="USD"
        )
        db.session.add(variant)
        db.session.commit()
        assert variant.seller_id == second.id
