"""Product lists are written without marshmallow (storefront_api/products.py card_page, issue 19)
and must stay byte for byte what ProductPageSchema, which documents them, would dump: cards with
and without a brand, a category, an image, a price (no active variant), a compare-at price, a
rating; several variants (the lead is the cheapest active one, then by position); out of stock.
The cards themselves (app.catalog.queries.product_cards, plain rows since issue 19) are checked
against the product page's own figures."""

from __future__ import annotations

from decimal import Decimal

from flask import jsonify

from app.catalog import queries
from app.catalog.models import Product, ProductImage, ProductVariant
from app.core.paging import Page
from app.core.tenancy import tenant_scope
from app.extensions import db
from storefront_api.products import ProductPageSchema, card_page
from tests.builders.auth import api_headers


def _shop(app, factory):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    plain = factory.product(seller, title="Plain", price="5.00")
    rich = factory.product(seller, title="Rich", price="30.00", stock=0)
    bare = factory.product(seller, title="Bare", price="7.50")
    with app.app_context(), tenant_scope(tenant.id):
        product = db.session.get(Product, rich.id)
        product.rating_avg, product.rating_count, product.sold_count = Decimal("4.25"), 8, 3
        product.is_featured = True
        db.session.add_all(
            [
                ProductImage(product_id=rich.id, url="https://img.test/b.jpg", position=1),
                ProductImage(
                    product_id=rich.id, url="https://img.test/a.jpg", alt_text="A", position=0
                ),
                ProductVariant(  # cheaper than the first, later by position: the lead
                    product_id=rich.id,
                    sku=f"R2-{rich.id}",
                    price=Decimal("12.345"),
                    compare_at_price=Decimal("20"),
                    currency="USD",
                    position=5,
                ),
                ProductVariant(  # cheapest but inactive: never the lead
                    product_id=rich.id,
                    sku=f"R3-{rich.id}",
                    price=Decimal("1.00"),
                    currency="USD",
                    position=6,
                    is_active=False,
                ),
            ]
        )
        gone = db.session.get(Product, bare.id)
        gone.brand_id = gone.category_id = None
        for variant in gone.variants:
            variant.is_active = False
        db.session.commit()
    return tenant, [plain.id, rich.id, bare.id]


def test_the_written_page_is_the_schemas_dump(app, factory):
    tenant, ids = _shop(app, factory)
    with app.test_request_context(), tenant_scope(tenant.id):
        cards = queries.product_cards(ids)
        page = Page(items=cards, total=41, page=2, page_size=3)
        assert card_page(page).get_data() == jsonify(ProductPageSchema().dump(page)).get_data()
    plain, rich, bare = cards
    assert [c.id for c in cards] == ids
    assert (rich.price, rich.compare_at_price, rich.currency) == (
        Decimal("12.35"),
        Decimal("20.00"),
        "USD",
    )
    assert rich.image.url == "https://img.test/a.jpg" and rich.image.alt_text == "A"
    assert rich.rating.average == Decimal("4.25") and rich.rating.count == 8
    assert rich.in_stock is False  # its first variant has 0 units, the second no stock row
    assert plain.image is None and plain.in_stock is True and plain.brand is not None
    assert bare.price is None and bare.brand is None and bare.category is None
    assert bare.in_stock is False


def test_the_list_answers_the_cards_the_product_page_agrees_with(app, client, factory):
    tenant, ids = _shop(app, factory)
    h = api_headers(tenant=tenant)
    listed = client.get("/api/v1/products/?page_size=10", headers=h)
    assert listed.status_code == 200
    body = listed.get_json()
    assert body["total"] == 3 and body["page"] == 1 and body["page_size"] == 10
    assert sorted(c["title"] for c in body["items"]) == ["Bare", "Plain", "Rich"]
    for card in body["items"]:
        page = client.get(f"/api/v1/products/{card['id']}/", headers=h).get_json()
        assert (card["title"], card["slug"], card["seller"]) == (
            page["title"],
            page["slug"],
            page["seller"],
        )
        active = [v for v in page["variants"] if v["is_active"]]
        assert card["in_stock"] == any(v["in_stock"] for v in active)
        assert card["price"] == (min(v["price"] for v in active) if active else None)
