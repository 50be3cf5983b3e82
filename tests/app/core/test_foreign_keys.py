"""The database enforces the schema's foreign keys on every connection, MariaDB and SQLite (the
embedded default) alike. SQLite enforces them only on connections that ask (app/core/db.py asks):
before it did, deleting a product left its variants' stock rows behind, and SQLite reused the ids,
so they later pointed at another shop's variant (a 500 on the stock analytics page). Marked smoke:
`make test` runs these on SQLite too."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from app.catalog.models import Product, ProductVariant
from app.core.tenancy import tenant_scope
from app.core.types import utcnow
from app.extensions import db
from app.inventory.models import StockLevel
from app.sellers.models import SellerProfile
from tests.builders.factories import Factory

pytestmark = pytest.mark.smoke


def _count(model, column, value) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(column == value))


def test_deleting_a_product_removes_its_variants_and_their_stock(app):
    factory = Factory(app)
    tenant = factory.tenant()
    product = factory.product(factory.seller(tenant), stock=5)
    with app.app_context(), tenant_scope(tenant.id):
        assert _count(StockLevel, StockLevel.variant_id, product.variant_id) == 1
        # a Core DELETE: what the database does, not what the ORM's relationships would
        db.session.execute(delete(Product.__table__).where(Product.__table__.c.id == product.id))
        db.session.commit()
        assert _count(ProductVariant, ProductVariant.product_id, product.id) == 0
        assert _count(StockLevel, StockLevel.variant_id, product.variant_id) == 0


def test_a_row_pointing_at_a_missing_row_is_refused(app):
    factory = Factory(app)
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    product = factory.product(seller)
    with app.app_context(), tenant_scope(tenant.id):
        warehouse_id = db.session.scalar(
            select(StockLevel.warehouse_id).where(StockLevel.id == product.stock_level_id)
        )
        missing_variant = (db.session.scalar(select(func.max(ProductVariant.id))) or 0) + 1000
        with pytest.raises(IntegrityError):
            db.session.execute(
                insert(StockLevel.__table__).values(
                    tenant_id=tenant.id,
                    seller_id=seller.id,
                    variant_id=missing_variant,
                    warehouse_id=warehouse_id,
                    quantity_on_hand=1,
                    quantity_reserved=0,
                    reorder_point=0,
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
        db.session.rollback()
        assert _count(StockLevel, StockLevel.variant_id, missing_variant) == 0


def test_a_seller_with_products_cannot_be_deleted_underneath_them(app):
    """products.seller_id is ON DELETE RESTRICT: the database refuses, the products stay."""
    factory = Factory(app)
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    product = factory.product(seller)
    with app.app_context(), tenant_scope(tenant.id):
        table = SellerProfile.__table__
        with pytest.raises(IntegrityError):
            db.session.execute(delete(table).where(table.c.id == seller.id))
        db.session.rollback()
        assert _count(Product, Product.id, product.id) == 1


def test_every_new_sqlite_connection_asks_for_enforcement(app):
    """Not only the connection the migrations left behind: one the pool opens later, too."""
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect != "sqlite":
        pytest.skip("MariaDB always enforces foreign keys (InnoDB)")
    with app.app_context():
        db.engine.dispose()
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
