"""Which catalog rows a seller owns, as SQL conditions: the one home of the rule, called by the
catalog's services and queries and by the admin's seller scoping (admin/views/catalog.py, and the
reviews of its products in app/reviews/scopes.py). A seller owns its products, their variants,
images and attribute values; an admin every row of the tenant."""

from __future__ import annotations

from sqlalchemy import select

from app.catalog.models import Product, ProductAttributeValue, ProductImage, ProductVariant


def products_of_seller(seller_id: int):
    return Product.seller_id == seller_id


def product_ids_of_seller(seller_id: int):
    """SELECT of the seller's product ids: IN (subquery) rather than EXISTS per row, MariaDB turns
    it into one semi-join."""
    return select(Product.id).where(products_of_seller(seller_id))


def variants_of_seller(seller_id: int):
    """The seller's variants (by the variant's copy of its product's seller)."""
    return ProductVariant.seller_id == seller_id


def images_of_seller(seller_id: int):
    return ProductImage.product_id.in_(product_ids_of_seller(seller_id))


def attribute_values_of_seller(seller_id: int):
    return ProductAttributeValue.product_id.in_(product_ids_of_seller(seller_id))
