"""Which catalog row, in hand, is a seller's (app/catalog/scopes.py): the rule the API's product
writes and the admin's seller saves both call."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.catalog import scopes
from app.catalog.models import Product, ProductAttributeValue, ProductImage, ProductVariant
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.sellers.models import SellerProfile

pytestmark = pytest.mark.smoke


def test_a_product_and_what_hangs_off_it_are_its_sellers(app, factory, ctx):
    tenant = factory.tenant()
    mine, theirs = factory.seller(tenant), factory.seller(tenant)
    own, other = factory.product(mine), factory.product(theirs)
    with tenant_scope(tenant.id), db.session.no_autoflush:
        product, foreign = db.session.get(Product, own.id), db.session.get(Product, other.id)
        assert scopes.owns_product(mine.id, product)
        assert not scopes.owns_product(mine.id, foreign) and not scopes.owns_product(mine.id, None)

        variant = db.session.get(ProductVariant, own.variant_id)
        assert scopes.owns_variant(mine.id, variant)
        assert not scopes.owns_variant(theirs.id, variant) and not scopes.owns_variant(
            mine.id, None
        )

        value = ProductAttributeValue(product=product, value="red")
        assert scopes.owns_attribute_value(mine.id, value)
        assert not scopes.owns_attribute_value(theirs.id, value)

        assert scopes.owns_image(mine.id, ProductImage(product=product, url="/a.png"))
        assert scopes.owns_image(mine.id, ProductImage(product=product, variant=variant, url="/a"))
        # its product, but a variant of another product: not a row the seller may save
        stranger = db.session.get(ProductVariant, other.variant_id)
        assert not scopes.owns_image(mine.id, ProductImage(product=product, variant=stranger))
        assert not scopes.owns_image(mine.id, ProductImage(product=foreign, url="/b.png"))


def test_a_form_s_choice_of_seller_counts_before_the_flush(app, factory, ctx):
    """A form sets the `seller` relation; the column follows only at the flush. The rule reads what
    the row says now, in both directions, and reads nothing from the database to do it."""
    tenant = factory.tenant()
    mine, theirs = factory.seller(tenant), factory.seller(tenant)
    third = factory.seller(tenant)
    own, far = factory.product(mine), factory.product(third)
    with tenant_scope(tenant.id), db.session.no_autoflush:
        product = db.session.get(Product, own.id)
        unchanged = db.session.get(Product, far.id)  # its seller's profile never loaded
        product.seller = db.session.get(SellerProfile, theirs.id)
        new = Product(title="New", seller=db.session.get(SellerProfile, mine.id))
        assert product.seller_id == mine.id and new.seller_id is None  # not flushed yet
        with _statements() as seen:
            assert scopes.owns_product(theirs.id, product)
            assert not scopes.owns_product(mine.id, product)
            assert scopes.owns_product(mine.id, new) and not scopes.owns_product(theirs.id, new)
            assert not scopes.owns_product(mine.id, Product(title="No seller"))
            assert scopes.owns_product(third.id, unchanged)  # its column: no lazy load
        assert seen == []


@contextmanager
def _statements():
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
