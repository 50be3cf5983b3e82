"""The catalog's services take typed inputs and answer frozen views (app/catalog/inputs.py,
app/catalog/views.py) whose fields are the rows' (real database, no stubs)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.catalog import queries, services
from app.catalog.inputs import (
    AttributeInput,
    ImageInput,
    NewProduct,
    ProductChanges,
    ProductEdit,
    VariantInput,
)
from app.catalog.models import Product
from app.catalog.views import (
    CategoryDetail,
    CategoryFilters,
    CategoryNode,
    CategoryPath,
    CategoryRef,
    ProductCard,
    ProductDetail,
    VariantView,
)
from app.core.errors import ValidationError
from app.core.paging import Page
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security.models import User
from app.sellers.actors import actor_for
from tests.builders.catalog import build_catalog
from tests.conftest import unique


@pytest.fixture
def world(app, factory):
    return build_catalog(app, factory)


def _seller(world, which="s1"):
    user_id = getattr(world, which).user.id
    return actor_for(db.session.scalar(select(User).where(User.id == user_id)))


def test_create_answers_the_detail_of_the_row_it_wrote(app, world):
    i = world.ids
    sku = unique("NEW-")
    with app.app_context(), tenant_scope(world.tenant.id):
        detail = services.create_product(
            _seller(world),
            NewProduct(
                title="Linen Shirt",
                status="active",
                category_id=i.shirts,
                brand_id=i.acme,
                variants=(
                    VariantInput(sku=sku, price=Decimal("19.9"), options={"size": "M"}),
                    VariantInput(
                        sku=sku + "-L", price=Decimal("25"), compare_at_price=Decimal("30")
                    ),
                ),
                images=(ImageInput(url="https://img.example.com/linen.jpg", alt_text="Linen"),),
                attributes=(AttributeInput(code="colour", value="White"),),
            ),
        )
        assert isinstance(detail, ProductDetail)
        with pytest.raises(dataclasses.FrozenInstanceError):
            detail.title = "changed"  # type: ignore[misc]
        db.session.expire_all()
        row = db.session.get(Product, detail.id)
        assert (detail.title, detail.slug, detail.status) == (row.title, row.slug, "active")
        assert detail.product_type == row.product_type == "physical"  # the default, not sent
        assert detail.description is None and detail.is_featured is False
        assert detail.seller.id == world.s1.id == row.seller_id
        assert detail.brand.slug == "acme" and detail.published_at == row.published_at
        assert detail.category == CategoryPath(
            id=i.shirts,
            name="Shirts",
            slug="shirts",
            breadcrumb=(
                CategoryRef(id=i.clothing, name="Clothing", slug="clothing"),
                CategoryRef(id=i.shirts, name="Shirts", slug="shirts"),
            ),
        )
        by_sku = {v.sku: v for v in row.variants}
        assert [v.sku for v in detail.variants] == [sku, sku + "-L"]
        first = detail.variants[0]
        assert first == VariantView(
            id=by_sku[sku].id,
            sku=sku,
            title=None,
            price=Decimal("19.90"),
            compare_at_price=None,
            currency="USD",
            weight_kg=None,
            options={"size": "M"},
            is_active=True,
            position=0,
            available=0,
            in_stock=False,
        )
        assert detail.variants[1].compare_at_price == Decimal("30.00")
        assert [(im.url, im.alt_text, im.position) for im in detail.images] == [
            ("https://img.example.com/linen.jpg", "Linen", 0)
        ]
        assert [(a.code, a.name, a.value) for a in detail.attributes] == [
            ("colour", "Colour", "White")
        ]


def test_changes_touch_only_the_fields_sent(app, world):
    i = world.ids
    with app.app_context(), tenant_scope(world.tenant.id):
        before = queries.get_product(i.p1)
        detail = services.update_product(
            _seller(world), i.p1, ProductChanges(description=None, brand_id=None)
        )
        assert detail.description is None and detail.brand is None  # None: cleared
        assert detail.title == before.title == "Red Shirt"  # UNSET: kept
        assert detail.variants == before.variants and detail.images == before.images
        assert ProductChanges(title="x").given() == {"title": "x"}


def test_a_foreign_seller_id_is_ignored_on_update_and_refused_in_bulk(app, world):
    i = world.ids
    with app.app_context(), tenant_scope(world.tenant.id):
        actor = _seller(world)
        detail = services.update_product(actor, i.p1, ProductChanges(seller_id=world.s2.id))
        assert detail.seller.id == world.s1.id
        with pytest.raises(ValidationError) as refused:
            services.bulk_update_products(
                actor,
                [
                    ProductEdit(id=i.p1, title="Fine"),
                    ProductEdit(id=i.p3, seller_id=world.s2.id),
                    ProductEdit(id=i.p2, title="Not mine"),
                ],
            )
        assert refused.value.details == {
            "items": {
                "1": {"seller_id": ["a seller creates products for its own store only"]},
                "2": {"id": ["no such product"]},
            }
        }
        assert queries.get_product(i.p1).title == "Red Shirt"  # all or nothing


def test_bulk_writes_answer_cards_in_order(app, world):
    i = world.ids
    with app.app_context(), tenant_scope(world.tenant.id):
        actor = _seller(world)
        made = services.bulk_create_products(
            actor,
            [
                NewProduct(title=f"Bulk {n}", variants=(VariantInput(sku=unique("B-"), price=n),))
                for n in (Decimal("3"), Decimal("4"))
            ],
        )
        assert [type(c) for c in made] == [ProductCard, ProductCard]
        assert [(c.title, c.price, c.status) for c in made] == [
            ("Bulk 3", Decimal("3.00"), "draft"),
            ("Bulk 4", Decimal("4.00"), "draft"),
        ]
        changed = services.bulk_update_products(
            actor, [ProductEdit(id=made[1].id, title="Renamed"), ProductEdit(id=i.p3)]
        )
        assert [(c.id, c.title) for c in changed] == [(made[1].id, "Renamed"), (i.p3, "Novel")]
        assert changed[1] == queries.product_cards([i.p3])[0]


def test_lists_are_pages_of_cards(app, world):
    i = world.ids
    with app.app_context(), tenant_scope(world.tenant.id):
        page = queries.list_products(queries.ProductFilters(), sort="price", page=1, page_size=2)
        assert isinstance(page, Page) and (page.page, page.page_size, page.total) == (1, 2, 4)
        assert [c.id for c in page.items] == [i.p5, i.p1]
        hat = page.items[0]
        assert (hat.price, hat.currency, hat.in_stock, hat.is_featured) == (
            Decimal("5.00"),
            "USD",
            True,
            True,
        )
        assert hat.image.url == "https://img.example.com/Green Hat.jpg"
        assert hat.rating.average == Decimal("5.00") and hat.seller.id == world.s2.id


def test_categories_answer_nodes_details_and_filters(app, world):
    i = world.ids
    with app.app_context(), tenant_scope(world.tenant.id):
        nodes = queries.list_categories()
        assert all(type(n) is CategoryNode for n in nodes)
        assert [(n.slug, n.depth) for n in nodes][:3] == [
            ("books", 0),
            ("clothing", 0),
            ("shirts", 1),
        ]
        shirts = queries.get_category("shirts")
        assert isinstance(shirts, CategoryDetail) and not hasattr(shirts, "depth")
        assert [c.slug for c in shirts.breadcrumb] == ["clothing", "shirts"]
        assert [(c.slug, c.parent_id) for c in shirts.children] == [("t-shirts", i.shirts)]
        facets = queries.category_filters("clothing")
        assert isinstance(facets, CategoryFilters) and facets.total == 3
        assert {(b.slug, b.count) for b in facets.brands} == {("acme", 1), ("globex", 2)}
        assert sum(r.count for r in facets.price.ranges) == 3
        (colour,) = facets.attributes
        assert colour.param == "attr_colour"
        assert [(v.value, v.count) for v in colour.values] == [
            ("Blue", 1),
            ("Green", 1),
            ("Red", 1),
        ]


def test_create_category_takes_a_new_category_and_answers_its_detail(app, factory, world):
    from app.catalog.inputs import NewCategory
    from app.catalog.models import Category
    from app.security import roles

    i = world.ids
    admin = factory.user(world.tenant, role=roles.ADMIN)
    with app.app_context(), tenant_scope(world.tenant.id):
        actor = actor_for(db.session.scalar(select(User).where(User.id == admin.id)))
        detail = services.create_category(
            actor,
            NewCategory(name="Polo Shirts", parent_id=i.shirts, attribute_codes=("colour",)),
        )
        assert isinstance(detail, CategoryDetail)
        row = db.session.get(Category, detail.id)
        assert (detail.slug, detail.parent_id, detail.position) == (row.slug, i.shirts, 0)
        assert row.is_active is True and [a.code for a in row.filterable_attributes] == ["colour"]
        assert [c.slug for c in detail.breadcrumb] == ["clothing", "shirts", "polo-shirts"]
        assert detail.children == ()
        with pytest.raises(ValidationError) as refused:
            services.create_category(actor, NewCategory(name="X", attribute_codes=("nope",)))
        assert refused.value.details == {"attribute_codes": ["unknown: nope"]}
