"""products.min_price follows the product's active variants through every kind of change, in the
same transaction (a rolled-back change leaves it as it was)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.catalog.models import Product, ProductVariant
from app.core.tenancy import tenant_scope
from app.extensions import db
from tests.conftest import unique


def _stored(product_id: int) -> Decimal | None:
    # a fresh read from the database, not the identity map
    return db.session.execute(
        select(Product.__table__.c.min_price).where(Product.__table__.c.id == product_id)
    ).scalar_one()


def _variant(product_id: int, price: str, **fields) -> ProductVariant:
    return ProductVariant(
        product_id=product_id,
        sku=unique("MP-"),
        price=Decimal(price),
        currency="USD",
        options={},
        **fields,
    )


def test_min_price_tracks_insert_update_deactivate_delete_and_move(app, factory):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    p1 = factory.product(seller, price="30.00")
    p2 = factory.product(seller, price="50.00")
    with app.app_context(), tenant_scope(tenant.id):
        assert _stored(p1.id) == Decimal("30.00")

        cheap = _variant(p1.id, "12.50")
        db.session.add(cheap)
        db.session.commit()
        assert _stored(p1.id) == Decimal("12.50")
        assert db.session.get(Product, p1.id).min_price == Decimal("12.50"), (
            "the loaded object is refreshed"
        )

        cheap.price = Decimal("45.00")
        db.session.commit()
        assert _stored(p1.id) == Decimal("30.00")

        db.session.get(ProductVariant, p1.variant_id).is_active = False
        db.session.commit()
        assert _stored(p1.id) == Decimal("45.00")

        cheap.product_id = p2.id  # moved to another product: both are recomputed
        db.session.commit()
        assert _stored(p1.id) is None and _stored(p2.id) == Decimal("45.00")

        db.session.delete(cheap)
        db.session.commit()
        assert _stored(p2.id) == Decimal("50.00")


def test_new_product_with_variants_and_rollback(app, factory):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    existing = factory.product(seller, price="20.00")
    with app.app_context(), tenant_scope(tenant.id):
        product = Product(
            seller_id=seller.id, title="Fresh", slug=unique("fresh-"), status="active"
        )
        product.variants = [
            ProductVariant(sku=unique("MP-"), price=Decimal(p), currency="USD", options={})
            for p in ("9.99", "7.25", "11.00")
        ]
        db.session.add(product)
        db.session.commit()
        assert _stored(product.id) == Decimal("7.25")

        db.session.get(ProductVariant, existing.variant_id).price = Decimal("1.00")
        db.session.flush()
        assert _stored(existing.id) == Decimal("1.00"), "visible inside the transaction"
        db.session.rollback()
        assert _stored(existing.id) == Decimal("20.00")
