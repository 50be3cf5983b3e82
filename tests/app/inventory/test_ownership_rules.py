"""Which warehouse and which stock row, in hand, a seller may save (app/inventory/scopes.py): its
own warehouses; stock of its own variants in its own warehouses or the platform's."""

from __future__ import annotations

import pytest

from app.catalog.models import ProductVariant
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.inventory import scopes
from app.inventory.models import Warehouse
from app.sellers.models import SellerProfile

pytestmark = pytest.mark.smoke


def test_a_seller_stocks_its_variants_in_its_own_or_the_platforms_warehouses(app, factory, ctx):
    tenant = factory.tenant()
    mine, theirs = factory.seller(tenant), factory.seller(tenant)
    own, other = factory.product(mine), factory.product(theirs)
    with tenant_scope(tenant.id):
        platform = Warehouse(code="PLATFORM-1", name="Fulfilment")
        db.session.add(platform)
        db.session.flush()
        variant = db.session.get(ProductVariant, own.variant_id)
        stranger = db.session.get(ProductVariant, other.variant_id)
        my_wh = db.session.get(Warehouse, own.warehouse_id)
        their_wh = db.session.get(Warehouse, other.warehouse_id)

        assert scopes.may_stock(mine.id, variant, my_wh)
        assert scopes.may_stock(mine.id, variant, platform)
        assert not scopes.may_stock(mine.id, variant, their_wh)
        assert not scopes.may_stock(mine.id, stranger, my_wh)
        assert not scopes.may_stock(mine.id, None, my_wh)
        assert not scopes.may_stock(mine.id, variant, None)


def test_a_warehouse_is_the_sellers_that_runs_it(app, factory, ctx):
    tenant = factory.tenant()
    mine, theirs = factory.seller(tenant), factory.seller(tenant)
    own = factory.product(mine)
    with tenant_scope(tenant.id), db.session.no_autoflush:
        warehouse = db.session.get(Warehouse, own.warehouse_id)
        assert scopes.owns_warehouse(mine.id, warehouse)
        assert not scopes.owns_warehouse(theirs.id, warehouse)
        assert not scopes.owns_warehouse(mine.id, Warehouse(code="P", name="Platform"))
        assert not scopes.owns_warehouse(mine.id, None)
        # a form's choice of seller, before the flush copies it to the column
        added = Warehouse(code="N", name="New", seller=db.session.get(SellerProfile, mine.id))
        assert scopes.owns_warehouse(mine.id, added) and not scopes.owns_warehouse(theirs.id, added)
