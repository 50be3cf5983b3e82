"""Which catalog rows a seller owns, as SQL conditions: the one home of the rule, called by the
catalog's services and queries and by the admin's seller scoping (admin/views/catalog.py, and the
reviews of its products in app/reviews/scopes.py). A seller owns its products, their variants,
images and attribute values; an admin every row of the tenant. The same rules for one row in hand
(`owns_product`, `owns_variant`, ...) are what the API's product writes and the admin's seller
saves check."""

from __future__ import annotations

from sqlalchemy import select

from app.catalog.models import Product, ProductAttributeValue, ProductImage, ProductVariant
from app.sellers.services import OFF_STOREFRONT, seller_id_of, sellers_off_storefront


def on_storefront() -> list:
    """The conditions a product meets for a customer to see it (lists, detail, facets, search
    documents): active, and of a seller that is not suspended (nor rejected). One home: every
    customer-facing read of products uses it."""
    return [Product.status == "active", Product.seller_id.not_in(sellers_off_storefront())]


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


# --- the same rule for one row in hand (a form about to be saved, a row the API loaded) -----------


def owns_product(seller_id: int, product: Product | None) -> bool:
    """Whether `product`, as it stands (a form's choice of seller included), is seller `seller_id`'s."""
    return product is not None and seller_id_of(product) == seller_id


def owns_variant(seller_id: int, variant: ProductVariant | None) -> bool:
    """A variant is the seller of its product's."""
    return variant is not None and owns_product(seller_id, variant.product)


def owns_image(seller_id: int, image: ProductImage) -> bool:
    """An image of the seller's product, showing no variant or a variant of that product."""
    if not owns_product(seller_id, image.product):
        return False
    return image.variant is None or image.variant.product_id == image.product.id


def shown_on_storefront(product: Product) -> bool:
    """`on_storefront()` for one product in hand (its seller loaded)."""
    return listed(product.status, product.seller.status if product.seller is not None else None)


def listed(status: str, seller_status: str | None) -> bool:
    """`on_storefront()` for a product's status and its seller's, read as plain values."""
    return status == "active" and seller_status not in OFF_STOREFRONT


def owns_attribute_value(seller_id: int, value: ProductAttributeValue) -> bool:
    return owns_product(seller_id, value.product)
