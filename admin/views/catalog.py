"""Catalog admin: categories, attributes, brands, products, variants, images."""

from __future__ import annotations

from sqlalchemy import inspect

from admin.base import MarketModelView, datamodel
from admin.related_select import PRODUCT_SEARCH, VARIANT_SEARCH
from admin.views.fulfilment import ProductBulkActions
from admin.views.product_page import ProductPageMixin
from app.catalog import scopes, services
from app.catalog.models import (
    ATTRIBUTE_TYPES,
    PRODUCT_STATUSES,
    PRODUCT_TYPES,
    Attribute,
    Brand,
    Category,
    Product,
    ProductAttributeValue,
    ProductImage,
    ProductVariant,
)
from app.security import roles
from app.sellers.models import SellerProfile


class CategoryView(MarketModelView):
    datamodel = datamodel(Category)
    route_base = "/admin/categories"
    list_title = "Categories"
    item_title = "Category"
    list_columns = ["name", "slug", "parent", "position", "is_active"]
    search_columns = ["name", "slug", "parent", "is_active"]
    add_columns = edit_columns = [
        "name",
        "slug",
        "parent",
        "position",
        "is_active",
        "description",
        "seo_title",
        "seo_description",
        "filterable_attributes",
    ]
    show_columns = add_columns + ["created_at", "updated_at"]
    order_columns = ["name", "position"]
    base_order = ("position", "asc")
    description_columns = {"slug": "Left empty, it is made from the name."}
    optional_columns = ("slug",)

    def before_save(self, item, is_new):
        services.prepare_category(item)


class AttributeView(MarketModelView):
    datamodel = datamodel(Attribute)
    route_base = "/admin/attributes"
    list_title = "Attributes"
    item_title = "Attribute"
    list_columns = ["name", "code", "type", "unit"]
    search_columns = ["name", "code", "type"]
    add_columns = edit_columns = show_columns = ["name", "code", "type", "unit"]
    choices_columns = {"type": ATTRIBUTE_TYPES}


class BrandView(MarketModelView):
    datamodel = datamodel(Brand)
    route_base = "/admin/brands"
    list_title = "Brands"
    item_title = "Brand"
    list_columns = ["name", "slug", "is_active"]
    search_columns = ["name", "slug", "is_active"]
    add_columns = edit_columns = ["name", "slug", "description", "logo_url", "is_active"]
    optional_columns = ("slug",)
    show_columns = add_columns + ["created_at", "updated_at"]

    def before_save(self, item, is_new):
        services.prepare_brand(item)


class VariantView(MarketModelView):
    datamodel = datamodel(ProductVariant)
    route_base = "/admin/variants"
    list_title = "Variants"
    item_title = "Variant"
    list_columns = [
        "sku",
        "product",
        "options_label",
        "price",
        "compare_at_price",
        "currency",
        "is_active",
    ]
    label_columns = {"options_label": "Options", "weight_kg": "Weight (kg)"}
    search_columns = ["sku", "title", "product", "is_active", "currency", "price"]
    add_columns = edit_columns = [
        "product",
        "sku",
        "title",
        "price",
        "compare_at_price",
        "currency",
        "weight_kg",
        "is_active",
        "position",
    ]
    show_columns = add_columns + ["options", "created_at", "updated_at"]
    base_order = ("id", "desc")

    seller_scope = staticmethod(scopes.variants_of_seller)
    related_scopes = {"product": scopes.products_of_seller}
    ajax_related = {"product": PRODUCT_SEARCH}

    def claim_for_seller(self, item, seller_id, is_new):
        services.seller_may_write(seller_id)  # a seller not approved changes nothing

    def owned_by_seller(self, item, seller_id):
        return scopes.owns_variant(seller_id, item)

    def before_save(self, item, is_new):
        services.prepare_variant(item)


class ProductImageView(MarketModelView):
    datamodel = datamodel(ProductImage)
    route_base = "/admin/product-images"
    list_title = "Product images"
    item_title = "Product image"
    list_columns = ["product", "url", "alt_text", "position"]
    search_columns = ["product", "alt_text", "url"]
    add_columns = edit_columns = show_columns = [
        "product",
        "variant",
        "url",
        "alt_text",
        "position",
    ]

    seller_scope = staticmethod(scopes.images_of_seller)
    related_scopes = {
        "product": scopes.products_of_seller,
        "variant": scopes.variants_of_seller,
    }
    ajax_related = {"product": PRODUCT_SEARCH, "variant": VARIANT_SEARCH}

    def claim_for_seller(self, item, seller_id, is_new):
        services.seller_may_write(seller_id)  # a seller not approved changes nothing

    def owned_by_seller(self, item, seller_id):
        return scopes.owns_image(seller_id, item)


class ProductAttributeValueView(MarketModelView):
    datamodel = datamodel(ProductAttributeValue)
    route_base = "/admin/product-attributes"
    list_title = "Product attribute values"
    item_title = "Product attribute value"
    list_columns = ["product", "attribute", "value"]
    search_columns = ["product", "attribute", "value"]
    add_columns = edit_columns = show_columns = ["product", "attribute", "value"]

    seller_scope = staticmethod(scopes.attribute_values_of_seller)
    related_scopes = {"product": scopes.products_of_seller}
    ajax_related = {"product": PRODUCT_SEARCH}

    def claim_for_seller(self, item, seller_id, is_new):
        services.seller_may_write(seller_id)  # a seller not approved changes nothing

    def owned_by_seller(self, item, seller_id):
        return scopes.owns_attribute_value(seller_id, item)


class ProductView(ProductPageMixin, ProductBulkActions, MarketModelView):
    """Publish selected / Archive selected: admin/views/fulfilment.py. The list's thumbnail, price
    range and stock, and the product's page on one screen: admin/views/product_page.py."""

    datamodel = datamodel(Product)
    route_base = "/admin/products"
    list_title = "Products"
    show_title = "Product"
    add_title = "Add product"
    edit_title = "Edit product"
    list_columns = [
        "thumbnail",
        "title",
        "price_range",
        "stock",
        "status",
        "seller",
        "category",
        "brand",
        "rating_avg",
        "created_at",
    ]  # a featured product: a star after its title (product_page.FEATURED)
    # seller/category/brand by name, search-as-you-type: plain selects would load every row of
    # those tables per page
    search_columns = [
        "title",
        "slug",
        "status",
        "product_type",
        "is_featured",
        "seller",
        "category",
        "brand",
        "created_at",
    ]
    search_related = {"seller": ("store_name",), "category": ("name",), "brand": ("name",)}
    label_columns = {
        "thumbnail": "Image",
        "price_range": "Price",
        "created_at": "Created",
        "stock": "Available",
        "is_featured": "Featured",
        "rating_avg": "Rating",
    }
    add_columns = edit_columns = [
        "title",
        "slug",
        "seller",
        "category",
        "brand",
        "status",
        "product_type",
        "is_featured",
        "description",
    ]
    show_columns = add_columns + [
        "rating_avg",
        "rating_count",
        "sold_count",
        "published_at",
        "created_at",
        "updated_at",
    ]
    order_columns = ["title", "status", "created_at", "rating_avg"]
    base_order = ("id", "desc")
    related_views = [VariantView, ProductImageView, ProductAttributeValueView]
    optional_columns = ("slug",)
    description_columns = {
        "slug": "Left empty, it is made from the title.",
        "seller": "Sellers always create products for their own store.",
    }
    readonly_columns = {roles.SELLER: ("seller",)}
    choices_columns = {"status": PRODUCT_STATUSES, "product_type": PRODUCT_TYPES}

    seller_scope = staticmethod(scopes.products_of_seller)
    related_scopes = {"seller": lambda sid: SellerProfile.id == sid}

    def claim_for_seller(self, item, seller_id, is_new):
        services.own_by_seller(item, seller_id, is_new=is_new)

    def owned_by_seller(self, item, seller_id):
        return scopes.owns_product(seller_id, item)

    def before_save(self, item, is_new):
        before = (
            None
            if is_new
            else next(iter(inspect(item).attrs.status.history.deleted or ()), item.status)
        )
        services.reserve_quota_for_status(before, item.status)
        services.prepare_product(item)
