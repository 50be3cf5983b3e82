"""Builders for the admin's product and customer pages (admin/views/product_page.py,
admin/views/customer_page.py): a product with known variants, stock per warehouse and images, a
customer with a name of its own, and orders with a known payment state."""

from __future__ import annotations

import re
from decimal import Decimal
from types import SimpleNamespace

from app.catalog.models import (
    Attribute,
    Product,
    ProductAttributeValue,
    ProductImage,
    ProductVariant,
)
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.inventory.models import StockLevel, Warehouse
from app.orders.models import Order
from app.security import roles
from app.security.models import User
from tests.builders.order_rows import order_row
from tests.conftest import unique


def warehouse(app, tenant_id: int, name: str, seller_id: int | None = None) -> int:
    with app.app_context(), tenant_scope(tenant_id):
        row = Warehouse(code=unique("W"), name=name, seller_id=seller_id)
        db.session.add(row)
        db.session.commit()
        return row.id


def stocked_product(
    app,
    seller,
    title: str,
    variants: list[dict],
    *,
    images: int = 0,
    attributes: tuple[tuple[str, str], ...] = (),
    status: str = "active",
) -> SimpleNamespace:
    """A product of `seller` with one variant per dict: price (text), currency ("USD"),
    compare_at (text or None), active (True), options ({}), stock: [(warehouse id, on hand,
    reserved, reorder point)]. `images` placeholder images (the first is the thumbnail), and
    (attribute name, value) pairs. Committed; its ids."""
    with app.app_context(), tenant_scope(seller.tenant_id):
        product = Product(
            seller_id=seller.id, title=title, slug=unique("p-"), status=status, description=""
        )
        db.session.add(product)
        for i, spec in enumerate(variants):
            product.variants.append(
                ProductVariant(
                    sku=unique("SKU-"),
                    price=Decimal(spec["price"]),
                    compare_at_price=Decimal(spec["compare_at"])
                    if spec.get("compare_at")
                    else None,
                    currency=spec.get("currency", "USD"),
                    is_active=spec.get("active", True),
                    options=spec.get("options", {}),
                    position=i,
                )
            )
        for n in range(images):
            product.images.append(
                ProductImage(
                    url=f"https://img.example.com/{unique('i')}.jpg", alt_text=title, position=n
                )
            )
        for name, value in attributes:
            attribute = Attribute(code=unique("a"), name=name, type="text")
            product.attribute_values.append(ProductAttributeValue(attribute=attribute, value=value))
        db.session.flush()
        stock_ids = []
        for variant, spec in zip(product.variants, variants, strict=True):
            for warehouse_id, on_hand, reserved, reorder in spec.get("stock", ()):
                level = StockLevel(
                    variant_id=variant.id,
                    warehouse_id=warehouse_id,
                    quantity_on_hand=on_hand,
                    quantity_reserved=reserved,
                    reorder_point=reorder,
                )
                db.session.add(level)
                db.session.flush()
                stock_ids.append(level.id)
        db.session.commit()
        return SimpleNamespace(
            id=product.id,
            title=title,
            skus=[v.sku for v in product.variants],
            variant_ids=[v.id for v in product.variants],
            image_urls=[i.url for i in product.images],
            stock_level_ids=stock_ids,
        )


def name_user(app, tenant_id: int, user_id: int, first: str, last: str) -> None:
    with app.app_context(), tenant_scope(tenant_id):
        user = db.session.get(User, user_id)
        user.first_name, user.last_name = first, last
        db.session.commit()


def customer_order(
    app,
    tenant_id: int,
    user_id: int,
    total: str,
    *,
    currency: str = "USD",
    status: str = "paid",
    payment_status: str = "captured",
    refunded: str = "0",
) -> int:
    """A bare order of the customer (order_rows.order_row) with its payment state set."""
    with app.app_context(), tenant_scope(tenant_id):
        order_id = order_row(
            customer_user_id=user_id, total=total, currency=currency, status=status
        )
        order = db.session.get(Order, order_id)
        order.payment_status = payment_status
        order.refunded_total = Decimal(refunded)
        db.session.commit()
        return order_id


def shelf(app, factory) -> dict:
    """A tenant with an Admin and two sellers. The seller's depots North and South; its products:
    Brass lamp (S at $12.50, compare-at $15.00: 10 on hand 2 reserved in North, 4 in South; L at
    $30.00: 5 in North; an inactive variant at $99.00: 50 in South; two images; Material: Brass),
    Oak stool (2 available, reorder point 5: low), Pine shelf (none available: out), Bare frame
    (no stock row, no image). The neighbour's Neighbour vase (one image)."""
    tenant = factory.tenant()
    seller, neighbour = factory.seller(tenant), factory.seller(tenant)
    north = warehouse(app, tenant.id, "North depot", seller.id)
    south = warehouse(app, tenant.id, "South depot", seller.id)
    lamp = stocked_product(
        app,
        seller,
        "Brass lamp",
        [
            {
                "price": "12.50",
                "compare_at": "15.00",
                "options": {"size": "S"},
                "stock": [(north, 10, 2, 3), (south, 4, 0, 3)],
            },
            {"price": "30.00", "options": {"size": "L"}, "stock": [(north, 5, 0, 3)]},
            # an inactive variant's price and stock count for neither the range nor the total
            {"price": "99.00", "active": False, "stock": [(south, 50, 0, 3)]},
        ],
        images=2,
        attributes=(("Material", "Brass"),),
    )
    low = stocked_product(
        app, seller, "Oak stool", [{"price": "40.00", "stock": [(north, 3, 1, 5)]}]
    )
    out = stocked_product(
        app, seller, "Pine shelf", [{"price": "25.00", "stock": [(north, 2, 2, 1)]}]
    )
    bare = stocked_product(app, seller, "Bare frame", [{"price": "8.00"}])
    other = stocked_product(app, neighbour, "Neighbour vase", [{"price": "9.99"}], images=1)
    return {
        "tenant": tenant,
        "admin": factory.user(tenant, roles.ADMIN),
        "seller": seller,
        "neighbour": neighbour,
        "lamp": lamp,
        "low": low,
        "out": out,
        "bare": bare,
        "other": other,
        "customer": factory.customer(tenant),
    }


def row_of(page: str, href: str) -> str:
    """The <tr> of a list page holding the link `href` (a row's show page)."""
    for row in re.findall(r"<tr.*?</tr>", page, re.S):
        if f'{href}"' in row:
            return row
    raise AssertionError(f"no row links to {href}")


def text_of(html: str) -> str:
    """The words of some HTML, tags left out, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
