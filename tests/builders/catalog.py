"""Builders for catalog tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from app.catalog.models import (
    Attribute,
    Brand,
    Category,
    Product,
    ProductAttributeValue,
    ProductImage,
    ProductVariant,
)
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.inventory.models import StockLevel, Warehouse
from tests.conftest import unique

BASE = "/api/v1/products"


def taxonomy() -> SimpleNamespace:
    """In the current tenant (an app context and tenant scope open): an attribute colour, filterable
    on Clothing; categories Clothing > Shirts > T-shirts, and Books; brands Acme and Globex; a
    platform warehouse. Flushed, not committed."""
    colour = Attribute(code="colour", name="Colour", type="choice")
    clothing = Category(name="Clothing", slug="clothing", filterable_attributes=[colour])
    shirts = Category(name="Shirts", slug="shirts", parent=clothing)
    tees = Category(name="T-shirts", slug="t-shirts", parent=shirts)
    books = Category(name="Books", slug="books")
    acme, globex = Brand(name="Acme", slug="acme"), Brand(name="Globex", slug="globex")
    wh = Warehouse(code=unique("W"), name="Main")
    db.session.add_all([colour, clothing, shirts, tees, books, acme, globex, wh])
    db.session.flush()
    return SimpleNamespace(
        colour=colour,
        clothing=clothing,
        shirts=shirts,
        tees=tees,
        books=books,
        acme=acme,
        globex=globex,
        wh=wh,
    )


def add_product(
    title: str,
    seller,
    category,
    brand,
    prices: list[str],
    stock: int,
    *,
    warehouse: Warehouse,
    now: dt.datetime,
    sizes: str | None = None,
    description: str = "",
    image: bool = False,
    rating: str = "0",
    count: int = 0,
    sold: int = 0,
    age: int = 0,
    attrs=(),
    status: str = "active",
    featured: bool = False,
    reserved: int = 0,
) -> Product:
    """A product of known figures in the current tenant: a variant per price (sized S, M, L... from
    `sizes`, else no options), `stock` on hand (`reserved` of it reserved) of the first one in
    `warehouse`, (attribute, value) pairs, an image when asked, created `age` days before `now`.
    Flushed, not committed."""
    p = Product(
        title=title,
        slug=unique("p-"),
        seller_id=seller.id,
        category=category,
        brand=brand,
        status=status,
        is_featured=featured,
        rating_avg=Decimal(rating),
        rating_count=count,
        sold_count=sold,
        description=description,
        created_at=now - dt.timedelta(days=age),
    )
    db.session.add(p)
    for i, price in enumerate(prices):
        p.variants.append(
            ProductVariant(
                sku=unique("SKU-"),
                price=Decimal(price),
                currency="USD",
                options={"size": sizes[i]} if sizes else {},
                position=i,
            )
        )
    if image:
        p.images.append(ProductImage(url=f"https://img.example.com/{title}.jpg", alt_text=title))
    for attribute, value in attrs:
        p.attribute_values.append(ProductAttributeValue(attribute=attribute, value=value))
    db.session.flush()
    db.session.add(
        StockLevel(
            variant_id=p.variants[0].id,
            warehouse_id=warehouse.id,
            quantity_on_hand=stock,
            quantity_reserved=reserved,
        )
    )
    return p


def build_catalog(app, factory):
    """One tenant with the taxonomy above and a hidden category, two sellers and five products
    (P4 a draft) with known prices, stock, ratings, sales and ages."""
    tenant = factory.tenant()
    s1, s2 = factory.seller(tenant), factory.seller(tenant)
    now = dt.datetime.now(dt.timezone.utc)
    with app.app_context(), tenant_scope(tenant.id):
        t = taxonomy()
        db.session.add(Category(name="Hidden", slug="hidden", is_active=False))

        def product(title, seller, category, brand, prices, stock, *, colour=None, **figures):
            return add_product(
                title,
                seller,
                category,
                brand,
                prices,
                stock,
                warehouse=t.wh,
                now=now,
                sizes="SML",
                description=f"About {title}",
                image=True,
                count=3 if figures.get("sold") else 0,
                attrs=[(t.colour, colour)] if colour else (),
                **figures,
            )

        p1 = product(
            "Red Shirt",
            s1,
            t.tees,
            t.acme,
            ["10.00", "30.00"],
            5,
            rating="4.50",
            sold=10,
            age=5,
            colour="Red",
        )
        p2 = product(
            "Blue Shirt",
            s2,
            t.shirts,
            t.globex,
            ["50.00"],
            0,
            rating="3.00",
            sold=50,
            age=4,
            colour="Blue",
        )
        p3 = product("Novel", s1, t.books, t.acme, ["20.00"], 3, reserved=3, age=3)
        p4 = product("Draft Shirt", s1, t.clothing, t.acme, ["15.00"], 1, status="draft", age=2)
        p5 = product(
            "Green Hat",
            s2,
            t.clothing,
            t.globex,
            ["5.00"],
            2,
            rating="5.00",
            sold=5,
            age=1,
            colour="Green",
            featured=True,
        )
        db.session.commit()
        ids = SimpleNamespace(
            p1=p1.id,
            p2=p2.id,
            p3=p3.id,
            p4=p4.id,
            p5=p5.id,
            clothing=t.clothing.id,
            shirts=t.shirts.id,
            tees=t.tees.id,
            books=t.books.id,
            acme=t.acme.id,
            globex=t.globex.id,
            p1_variants=[v.id for v in p1.variants],
            p1_sku=p1.variants[0].sku,
            stock_p1=p1.variants[0].id,
        )
    return SimpleNamespace(tenant=tenant, s1=s1, s2=s2, ids=ids)


def product_body(**overrides) -> dict:
    body = {
        "title": "Linen Shirt",
        "description": "Cool",
        "status": "active",
        "variants": [
            {
                "sku": unique("LS-"),
                "price": "29.90",
                "compare_at_price": "39.90",
                "currency": "EUR",
                "options": {"size": "M"},
            }
        ],
        "images": [{"url": "https://img.example.com/linen.jpg", "alt_text": "Linen"}],
        "attributes": [{"code": "colour", "value": "White"}],
    }
    body.update(overrides)
    return body
