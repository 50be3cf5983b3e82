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


def build_catalog(app, factory):
    """One tenant with a category tree, two brands, a colour attribute, two sellers and five products
    (P4 a draft) with known prices, stock, ratings, sales and ages."""
    tenant = factory.tenant()
    s1, s2 = factory.seller(tenant), factory.seller(tenant)
    now = dt.datetime.now(dt.timezone.utc)
    with app.app_context(), tenant_scope(tenant.id):
        colour = Attribute(code="colour", name="Colour", type="choice")
        clothing = Category(name="Clothing", slug="clothing", filterable_attributes=[colour])
        shirts = Category(name="Shirts", slug="shirts", parent=clothing)
        tees = Category(name="T-shirts", slug="t-shirts", parent=shirts)
        books = Category(name="Books", slug="books")
        hidden = Category(name="Hidden", slug="hidden", is_active=False)
        acme, globex = Brand(name="Acme", slug="acme"), Brand(name="Globex", slug="globex")
        wh = Warehouse(code=unique("W"), name="Main")
        db.session.add_all([colour, clothing, shirts, tees, books, hidden, acme, globex, wh])
        db.session.flush()

        def product(
            title,
            seller,
            category,
            brand,
            prices,
            stock,
            *,
            rating="0",
            sold=0,
            age=0,
            colour_value=None,
            status="active",
            featured=False,
            reserved=0,
        ):
            p = Product(
                title=title,
                slug=unique("p-"),
                seller_id=seller.id,
                category=category,
                brand=brand,
                status=status,
                is_featured=featured,
                rating_avg=Decimal(rating),
                rating_count=3 if sold else 0,
                sold_count=sold,
                description=f"About {title}",
                created_at=now - dt.timedelta(days=age),
            )
            db.session.add(p)
            for i, price in enumerate(prices):
                p.variants.append(
                    ProductVariant(
                        sku=unique("SKU-"),
                        price=Decimal(price),
                        currency="USD",
                        options={"size": "SML"[i]},
                        position=i,
                    )
                )
            p.images.append(
                ProductImage(url=f"https://img.example.com/{title}.jpg", alt_text=title)
            )
            if colour_value:
                p.attribute_values.append(
                    ProductAttributeValue(attribute=colour, value=colour_value)
                )
            db.session.flush()
            db.session.add(
                StockLevel(
                    variant_id=p.variants[0].id,
                    warehouse_id=wh.id,
                    quantity_on_hand=stock,
                    quantity_reserved=reserved,
                )
            )
            return p

        p1 = product(
            "Red Shirt",
            s1,
            tees,
            acme,
            ["10.00", "30.00"],
            5,
            rating="4.50",
            sold=10,
            age=5,
            colour_value="Red",
        )
        p2 = product(
            "Blue Shirt",
            s2,
            shirts,
            globex,
            ["50.00"],
            0,
            rating="3.00",
            sold=50,
            age=4,
            colour_value="Blue",
        )
        p3 = product("Novel", s1, books, acme, ["20.00"], 3, reserved=3, age=3)
        p4 = product("Draft Shirt", s1, clothing, acme, ["15.00"], 1, status="draft", age=2)
        p5 = product(
            "Green Hat",
            s2,
            clothing,
            globex,
            ["5.00"],
            2,
            rating="5.00",
            sold=5,
            age=1,
            colour_value="Green",
            featured=True,
        )
        db.session.commit()
        ids = SimpleNamespace(
            p1=p1.id,
            p2=p2.id,
            p3=p3.id,
            p4=p4.id,
            p5=p5.id,
            clothing=clothing.id,
            shirts=shirts.id,
            tees=tees.id,
            books=books.id,
            acme=acme.id,
            globex=globex.id,
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
