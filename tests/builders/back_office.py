"""Builders for the admin's product and customer pages (admin/views/product_page.py,
admin/views/customer_page.py): a product with known variants, stock per warehouse and images, a
customer with a name of its own, and orders with a known payment state."""

from __future__ import annotations

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
