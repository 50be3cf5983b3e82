"""The search contract: what every backend must do, run against each available one (Tantivy
always; Elasticsearch when ELASTICSEARCH_URL is set). Data is written through the ORM and the
services, indexed by the outbox consumers after commit (in-process in the test configuration),
then searched through the service, as the API does."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.catalog import services as catalog_services
from app.catalog.inputs import ProductChanges, VariantInput
from app.catalog.models import Product
from app.catalog.queries import ProductFilters
from app.catalog.views import FacetValue, ImageRef, PriceRange, ProductCard
from app.core.errors import ValidationError
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.inventory import services as inventory_services
from app.inventory.models import StockLevel
from app.search import documents, service
from app.security.models import User
from app.sellers.actors import actor_for


def search(
    app,
    tenant,
    q="",
    *,
    sort="relevance",
    page=1,
    page_size=24,
    facets=False,
    highlight=False,
    **filters,
):
    with app.app_context(), tenant_scope(tenant.id):
        return service.search_products(
            q,
            ProductFilters(**filters),
            sort=sort,
            page=page,
            page_size=page_size,
            facets=facets,
            highlight=highlight,
            require_words=False,
        )


def ids(app, tenant, q="", **kwargs) -> list[int]:
    return [item.id for item in search(app, tenant, q, **kwargs).items]


# --- relevance, typos, highlighting ------------------------------------------------------------


@pytest.mark.smoke
def test_keyword_finds_active_products_and_ranks_title_matches_first(app, catalog):
    i = catalog.ids
    found = ids(app, catalog.tenant, "shirt")
    assert set(found) == {
        i.p1,
        i.p2,
        i.p7,
    }  # p7 says "shirt" in its description only; p4 is a draft
    assert found[-1] == i.p7
    assert found[0] == i.p1  # in stock and well rated beats out of stock (p2)
    assert ids(app, catalog.tenant, "red cotton shirt")[0] == i.p1  # every word must match
    assert ids(app, catalog.tenant, "acme") == [i.p1, i.p3] or set(
        ids(app, catalog.tenant, "acme")
    ) == {i.p1, i.p3}
    assert ids(app, catalog.tenant, "thrilling detective") == [i.p3]  # description
    assert ids(app, catalog.tenant, "denim") == [i.p2]  # attribute value and description
    assert ids(app, catalog.tenant, "books") == [i.p3]  # category name
    assert ids(app, catalog.tenant, "zebra") == []


def test_typos_are_tolerated(app, catalog):
    i = catalog.ids
    assert set(ids(app, catalog.tenant, "shrit")) >= {i.p1, i.p2}  # transposition
    assert ids(app, catalog.tenant, "mistery") == [i.p3]  # substitution
    assert ids(app, catalog.tenant, "leathr wallet") == [i.p6]  # deletion
    assert ids(app, catalog.tenant, "globx")[:0] == [] and set(
        ids(app, catalog.tenant, "globx")
    ) == {i.p2, i.p5, i.p7}


def test_user_input_never_breaks_the_query(app, catalog):
    for q in ['"shirt', "a:b", "AND", "shirt)", "*", "-", "(((", "title:red", "\\"]:
        body = search(app, catalog.tenant, q)
        assert body.total == len(body.items)


def test_highlights_mark_the_matched_words(app, catalog):
    body = search(app, catalog.tenant, "cotton", highlight=True)
    by_id = {item.id: item for item in body.items}
    assert "<b>Cotton</b>" in by_id[catalog.ids.p1].highlight["title"]
    assert "<b>cotton</b>" in by_id[catalog.ids.p1].highlight["description"]
    assert all(item.highlight is not None for item in body.items)  # asked for: on every hit
    assert all(
        item.highlight is None for item in search(app, catalog.tenant, "cotton").items
    )  # not asked for: on none


# --- filters ------------------------------------------------------------------------------------


def test_every_filter(app, catalog):
    i, t = catalog.ids, catalog.tenant
    everything = {i.p1, i.p2, i.p3, i.p5, i.p6, i.p7}
    assert set(ids(app, t)) == everything
    assert set(ids(app, t, category="clothing")) == {i.p1, i.p2, i.p5, i.p7}  # descendants included
    assert set(ids(app, t, category=str(i.shirts))) == {i.p1, i.p2}
    assert set(ids(app, t, brand=["acme"])) == {i.p1, i.p3}
    assert set(ids(app, t, brand=["acme", str(i.globex)])) == everything - {i.p6}
    assert set(ids(app, t, seller=str(catalog.s2.id))) == {i.p2, i.p5, i.p7}
    assert set(ids(app, t, min_price=Decimal("10"), max_price=Decimal("50"))) == {i.p1, i.p2, i.p3}
    assert set(ids(app, t, max_price=Decimal("9.99"))) == {i.p5, i.p7}
    assert set(ids(app, t, min_rating=Decimal("4.5"))) == {i.p1, i.p5}
    assert set(ids(app, t, in_stock=True)) == {i.p1, i.p5, i.p6, i.p7}  # p3's stock is all reserved
    assert set(ids(app, t, in_stock=False)) == {i.p2, i.p3}
    assert set(ids(app, t, attrs={"colour": ["red"]})) == {i.p1, i.p7}  # values ignore case
    assert set(ids(app, t, attrs={"COLOUR": ["Red", "blue"], "material": ["cotton"]})) == {i.p1}
    assert set(ids(app, t, featured=True)) == {i.p5}
    assert ids(app, t, "shirt", category="books") == []
    assert set(ids(app, t, "cotton", in_stock=True, brand=["acme"])) == {i.p1}


def test_unknown_filter_values_are_validation_errors(app, catalog):
    for filters, field in (
        ({"category": "nope"}, "category"),
        ({"brand": ["nope"]}, "brand"),
        ({"seller": "nope"}, "seller"),
        ({"attrs": {"nope": ["x"]}}, "attr_nope"),
    ):
        with pytest.raises(ValidationError) as error:
            search(app, catalog.tenant, "shirt", **filters)
        assert field in error.value.details


# --- facets -------------------------------------------------------------------------------------


def test_facets_add_up(app, catalog):
    i = catalog.ids
    body = search(app, catalog.tenant, facets=True)
    facets, total = body.facets, body.total
    assert total == 6
    assert {b.slug: b.count for b in facets.brands} == {"acme": 2, "globex": 3}
    assert sum(b.count for b in facets.brands) == total - 1  # p6 has no brand
    assert {c.slug: c.count for c in facets.categories} == {
        "t-shirts": 1,
        "shirts": 1,
        "clothing": 2,
        "books": 1,
    }
    assert sum(c.count for c in facets.categories) == total - 1  # p6 has no category
    assert sum(r.count for r in facets.price.ranges) == total
    assert facets.price.min == Decimal("5.00") and facets.price.max == Decimal("120.00")
    assert facets.price.ranges[0] == PriceRange(min=Decimal("0.00"), max=Decimal("25.00"), count=4)
    colour = next(a for a in facets.attributes if a.code == "colour")
    assert colour.values == (
        FacetValue(value="Blue", count=1),
        FacetValue(value="Green", count=1),
        FacetValue(value="Red", count=2),
    )
    assert colour.param == "attr_colour" and colour.name == "Colour"
    # within a category, only its filterable attributes (colour, set on Clothing) are counted
    within = search(app, catalog.tenant, category="clothing", facets=True).facets
    assert [a.code for a in within.attributes] == ["colour"]
    assert sum(b.count for b in within.brands) == 4
    # facets follow the query
    shirts = search(app, catalog.tenant, "shirt", facets=True).facets
    assert {b.slug: b.count for b in shirts.brands} == {"acme": 1, "globex": 2}
    assert search(app, catalog.tenant, "shirt").facets is None  # not asked for
    assert i.p1


def test_search_filters_counts_only(app, catalog):
    with app.app_context(), tenant_scope(catalog.tenant.id):
        body = service.search_filters("", ProductFilters(brand=["globex"]))
    assert body.total == 3 and [b.slug for b in body.brands] == ["globex"]


# --- sorts and pages ----------------------------------------------------------------------------


def test_every_sort_order(app, catalog):
    i, t = catalog.ids, catalog.tenant
    assert ids(app, t, sort="newest") == [i.p7, i.p6, i.p5, i.p3, i.p2, i.p1]
    assert ids(app, t, sort="price") == [i.p5, i.p7, i.p1, i.p3, i.p2, i.p6]
    assert ids(app, t, sort="-price") == [i.p6, i.p2, i.p3, i.p1, i.p7, i.p5]
    assert ids(app, t, sort="rating")[:4] == [i.p5, i.p1, i.p6, i.p2]
    assert ids(app, t, sort="popularity")[:4] == [i.p6, i.p2, i.p1, i.p5]
    # relevance without words: in stock, well rated and selling first; out of stock last
    assert set(ids(app, t, sort="relevance")[-2:]) == {i.p2, i.p3}
    assert ids(app, t, "shirt", sort="price") == [i.p7, i.p1, i.p2]


def test_pages(app, catalog):
    i, t = catalog.ids, catalog.tenant
    first = search(app, t, sort="price", page=1, page_size=4)
    second = search(app, t, sort="price", page=2, page_size=4)
    assert [p.id for p in first.items] == [i.p5, i.p7, i.p1, i.p3] and first.total == 6
    assert [p.id for p in second.items] == [i.p2, i.p6] and second.total == 6
    assert (second.page, second.page_size) == (2, 4)
    assert search(app, t, sort="price", page=100, page_size=4).items == []


# --- suggestions --------------------------------------------------------------------------------


def test_suggestions_complete_words_as_typed(app, catalog):
    i = catalog.ids
    with app.app_context(), tenant_scope(catalog.tenant.id):
        assert {s.product_id for s in service.suggestions("sh")} == {i.p1, i.p2}
        assert [s.product_id for s in service.suggestions("red co")] == [i.p1]
        assert [s.text for s in service.suggestions("WALL")] == ["Leather Wallet"]
        assert {s.product_id for s in service.suggestions("acm")} == {
            i.p1,
            i.p3,
        }  # brand names too
        assert service.suggestions("zz") == [] and service.suggestions("  ") == []
        assert len(service.suggestions("s", limit=1)) == 1


# --- tenancy ------------------------------------------------------------------------------------


def test_one_tenant_never_finds_another_tenants_products(app, catalog):
    assert catalog.foreign.id not in ids(app, catalog.tenant, "imported")
    assert ids(app, catalog.tenant, "imported") == []
    assert ids(app, catalog.other, "red cotton shirt") == [catalog.foreign.id]
    with app.app_context(), tenant_scope(catalog.other.id):
        assert [s.product_id for s in service.suggestions("red")] == [catalog.foreign.id]
        assert service.search_filters("", ProductFilters()).total == 1


# --- changes become visible ----------------------------------------------------------------------


def test_a_product_change_is_visible_after_indexing(app, catalog):
    i, t = catalog.ids, catalog.tenant
    with app.app_context(), tenant_scope(t.id):  # an ORM write (admin views, imports)
        db.session.get(Product, i.p3).title = "Mystery Thriller"
        db.session.commit()
    assert ids(app, t, "thriller") == [i.p3]
    assert ids(app, t, "novel") == []
    with (
        app.app_context(),
        tenant_scope(t.id),
    ):  # through the catalog service (catalog.product_changed)
        variant = VariantInput(sku="NEW-SKU-1", price=Decimal("99.00"), currency="USD")
        catalog_services.update_product(
            _user(catalog.s1), i.p1, ProductChanges(variants=(variant,))
        )
    assert set(ids(app, t, min_price=Decimal("90"), max_price=Decimal("100"))) == {i.p1}
    assert i.p2 not in ids(app, t, in_stock=True)
    with (
        app.app_context(),
        tenant_scope(t.id),
    ):  # stock: a conditional Core UPDATE + inventory.stock_changed
        stock = db.session.scalar(select(StockLevel).where(StockLevel.variant_id == i.p2_variant))
        inventory_services.adjust_stock(stock.id, 7, reason="receipt")
    assert i.p2 in ids(app, t, in_stock=True)
    with app.app_context(), tenant_scope(t.id):
        catalog_services.archive_product(_user(catalog.s1), i.p1)
    assert i.p1 not in ids(app, t, "shirt")
    with app.app_context(), tenant_scope(t.id):  # a deleted product leaves the index too
        db.session.delete(db.session.get(Product, i.p6))
        db.session.commit()
    assert ids(app, t, "wallet") == []


def _user(seller):
    return actor_for(db.session.get(User, seller.user.id))


# --- cards from the index ------------------------------------------------------------------------


def _statements(app):
    """Every SQL statement the app's engine runs while the block runs."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def recording():
        seen: list[str] = []
        engine = db.engine

        def record(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return recording()


def test_results_are_the_catalogs_cards_served_from_the_index(app, catalog):
    from app.catalog import queries

    i, t = catalog.ids, catalog.tenant
    with app.app_context(), tenant_scope(t.id):
        with _statements(app) as seen:
            body = service.search_products(
                "shirt",
                ProductFilters(),
                sort="price",
                facets=True,
                highlight=True,
                require_words=False,
            )
        assert seen == []  # words, sort, facets, highlights: the engine answers everything
        found = [item.id for item in body.items]
        assert found == [i.p7, i.p1, i.p2]
        expected = {c.id: c for c in queries.product_cards(found)}
        for item in body.items:
            card = ProductCard(
                **{f.name: getattr(item, f.name) for f in dataclasses.fields(ProductCard)}
            )
            assert card == expected[item.id]  # same values and types (Decimal, aware datetime)
            assert type(card.created_at) is type(expected[item.id].created_at)
            assert card.created_at.tzinfo is not None
        p1 = next(item for item in body.items if item.id == i.p1)
        assert p1.price == Decimal("10.00") and p1.rating.average == Decimal("4.50")
        assert p1.seller.id == catalog.s1.id and p1.in_stock is True


def test_cards_follow_changes_to_sellers_and_images(app, catalog):
    from app.catalog.models import ProductImage
    from app.sellers.models import SellerProfile

    i, t = catalog.ids, catalog.tenant

    def card(pid):
        return next(item for item in search(app, t, sort="newest").items if item.id == pid)

    with app.app_context(), tenant_scope(t.id):
        db.session.get(SellerProfile, catalog.s1.id).store_name = "Renamed Store"
        db.session.add(
            ProductImage(product_id=i.p6, url="https://img.example/wallet.jpg", alt_text="Wallet")
        )
        db.session.commit()
    assert card(i.p1).seller.store_name == "Renamed Store"
    assert card(i.p6).seller.store_name == "Renamed Store"
    assert card(i.p6).image == ImageRef(url="https://img.example/wallet.jpg", alt_text="Wallet")
    assert card(i.p2).seller.id == catalog.s2.id  # another seller's products are untouched


def test_hits_without_a_stored_card_are_read_from_the_catalog(app, catalog):
    from app.catalog import queries
    from app.search.types import Hit

    i, t = catalog.ids, catalog.tenant
    with app.app_context(), tenant_scope(t.id):
        stored = service.search_products(
            "", ProductFilters(), sort="price", require_words=False
        ).items
        hits = [Hit(id=item.id) for item in stored]  # as a document indexed before cards existed
        assert service.cards_of(hits) == queries.product_cards([h.id for h in hits])
        assert service.cards_of(hits) == service.cards_of(
            [Hit(id=item.id, card=documents.card_source(item)) for item in stored]
        )
        from_catalog = service.search_products(
            "", ProductFilters(), sort="price", require_words=False, highlight=True
        )
        assert i.p5 == stored[0].id and [h.id for h in from_catalog.items] == [h.id for h in hits]


def test_category_filters_follow_changes_to_categories(app, catalog):
    from app.catalog.models import Attribute, Category, ProductAttributeValue

    i, t = catalog.ids, catalog.tenant
    books = str(i.books)
    assert ids(app, t, category="books") == [i.p3]  # both remembered now (the catalog cache)
    assert search(app, t, category=books, facets=True).facets.attributes == ()
    with app.app_context(), tenant_scope(t.id):
        category = db.session.get(Category, i.books)
        category.slug = "novels"
        colour, material = (
            db.session.scalar(select(Attribute).where(Attribute.code == code))
            for code in ("colour", "material")
        )
        category.filterable_attributes.append(material)
        db.session.add_all(
            [
                ProductAttributeValue(product_id=i.p3, attribute=colour, value="Blue"),
                ProductAttributeValue(product_id=i.p3, attribute=material, value="Paper"),
            ]
        )
        db.session.commit()
    with pytest.raises(ValidationError):
        search(app, t, category="books")
    assert ids(app, t, category="novels") == [i.p3]
    # only the attributes now filterable on Books are counted (a stale entry would count colour too)
    assert [a.code for a in search(app, t, category=books, facets=True).facets.attributes] == [
        "material"
    ]


def test_facet_counts_follow_index_changes(app, catalog):
    """Facet counts may be cached (Tantivy: per index commit): a change shows at once."""
    from app.catalog.models import Brand

    i, t = catalog.ids, catalog.tenant

    def brands():
        return {b.slug: b.count for b in search(app, t, "shirt", facets=True).facets.brands}

    assert brands() == {"acme": 1, "globex": 2}
    assert brands() == {"acme": 1, "globex": 2}  # asked again: the same (from the cache, if any)
    with app.app_context(), tenant_scope(t.id):
        db.session.get(Product, i.p7).brand = db.session.get(Brand, i.acme)
        db.session.commit()
    assert brands() == {"acme": 2, "globex": 1}
    with app.app_context(), tenant_scope(t.id):
        body = service.search_filters("shirt", ProductFilters(brand=["acme"]))
    assert body.total == 2 and {b.slug: b.count for b in body.brands} == {"acme": 2}
