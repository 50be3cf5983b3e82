"""Catalog: category tree, attributes, brands, products, variants and images."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import MONEY, TimestampMixin, UTCDateTime
from app.sellers.models import SellerProfile
from app.tenants.models import TenantScoped

PRODUCT_STATUSES = ("draft", "active", "archived")
PRODUCT_TYPES = ("physical", "digital")
ATTRIBUTE_TYPES = ("text", "number", "boolean", "choice")

category_attributes = Table(
    "category_attributes",
    Model.metadata,
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    Column("attribute_id", ForeignKey("attributes.id", ondelete="CASCADE"), primary_key=True),
)


class Attribute(TenantScoped, Model):
    """A product property that storefronts can filter on (size, colour, material, ...)."""

    __tablename__ = "attributes"
    __table_args__ = (UniqueConstraint("tenant_id", "code", name="uq_attributes_tenant_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    type: Mapped[str] = mapped_column(String(16), default="text", nullable=False)
    unit: Mapped[str | None] = mapped_column(String(16))

    def __repr__(self) -> str:
        return self.name


class Category(TenantScoped, TimestampMixin, Model):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("tenant_id", "slug", name="uq_categories_tenant_slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    slug: Mapped[str] = mapped_column(String(140), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    seo_title: Mapped[str | None] = mapped_column(String(200))
    seo_description: Mapped[str | None] = mapped_column(String(500))

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", order_by="Category.position"
    )
    filterable_attributes: Mapped[list[Attribute]] = relationship(secondary=category_attributes)

    def __repr__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id and self.parent else self.name


class Brand(TenantScoped, TimestampMixin, Model):
    __tablename__ = "brands"
    __table_args__ = (UniqueConstraint("tenant_id", "slug", name="uq_brands_tenant_slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    slug: Mapped[str] = mapped_column(String(140), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    logo_url: Mapped[str | None] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    def __repr__(self) -> str:
        return self.name


class Product(TenantScoped, TimestampMixin, Model):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("tenant_id", "slug", name="uq_products_tenant_slug"),
        Index("ix_products_tenant_status_created", "tenant_id", "status", "created_at"),
        Index("ix_products_seller_created", "seller_id", "created_at"),
        Index("ix_products_tenant_title", "tenant_id", "title"),
        # a seller's titles in order: its title search reads them, not every product (migration 0021)
        Index("ix_products_tenant_seller_title", "tenant_id", "seller_id", "title"),
        # a seller's products newest first, and their count, straight from the index
        Index("ix_products_tenant_seller", "tenant_id", "seller_id", "id"),
        # the storefront's "rating" and "popularity" sorts
        Index(
            "ix_products_tenant_status_rating", "tenant_id", "status", "rating_avg", "rating_count"
        ),
        Index("ix_products_tenant_status_sold", "tenant_id", "status", "sold_count"),
        Index("ix_products_tenant_status_min_price", "tenant_id", "status", "min_price"),
        # category facets (brand, price range, totals) answered from this index alone
        Index(
            "ix_products_tenant_status_category_facets",
            "tenant_id",
            "status",
            "category_id",
            "brand_id",
            "min_price",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(
        ForeignKey("sellers.id", ondelete="RESTRICT"), nullable=False
    )
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    brand_id: Mapped[int | None] = mapped_column(
        ForeignKey("brands.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    slug: Mapped[str] = mapped_column(String(280), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft", nullable=False)
    product_type: Mapped[str] = mapped_column(String(16), default="physical", nullable=False)
    is_featured: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False, index=True)
    # Kept consistent by the reviews and orders services.
    rating_avg: Mapped[Decimal] = mapped_column(Numeric(3, 2), default=Decimal("0"), nullable=False)
    rating_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    sold_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # The lowest price among the active variants (NULL: none). Kept by app/catalog/min_price.py in
    # every flush; the storefront's price sort and price facets read it instead of a per-row MIN().
    min_price: Mapped[Decimal | None] = mapped_column(MONEY)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    seller: Mapped[SellerProfile] = relationship(SellerProfile)
    category: Mapped[Category | None] = relationship(Category)
    brand: Mapped[Brand | None] = relationship(Brand)
    variants: Mapped[list[ProductVariant]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductVariant.position"
    )
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductImage.position"
    )
    attribute_values: Mapped[list[ProductAttributeValue]] = relationship(
        back_populates="product", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return self.title


class ProductAttributeValue(TenantScoped, Model):
    __tablename__ = "product_attribute_values"
    __table_args__ = (
        UniqueConstraint("product_id", "attribute_id", name="uq_product_attribute_values_pair"),
        # the attribute facets join from products and read (attribute, value) from this index alone
        Index(
            "ix_product_attribute_values_product_facets",
            "tenant_id",
            "product_id",
            "attribute_id",
            "value",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), nullable=False
    )
    attribute_id: Mapped[int] = mapped_column(
        ForeignKey("attributes.id", ondelete="CASCADE"), nullable=False
    )
    value: Mapped[str] = mapped_column(String(255), nullable=False)

    product: Mapped[Product] = relationship(back_populates="attribute_values", lazy="selectin")
    attribute: Mapped[Attribute] = relationship(Attribute, lazy="joined")

    def __repr__(self) -> str:
        return f"{self.attribute.name}: {self.value}" if self.attribute else self.value


class ProductVariant(TenantScoped, TimestampMixin, Model):
    __tablename__ = "product_variants"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sku", name="uq_product_variants_tenant_sku"),
        Index("ix_product_variants_tenant_seller", "tenant_id", "seller_id", "id"),
        # a Super Admin's SKU search spans tenants (migration 0021)
        Index("ix_product_variants_sku", "sku"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint(
            "compare_at_price IS NULL OR compare_at_price >= 0", name="compare_at_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # active_history: a move to another product knows the product it left (its min_price changes)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
        active_history=True,
    )
    # the product's seller, copied (app/inventory/ownership.py keeps it in step) so that a seller's
    # variants are one indexed lookup instead of a join through products
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), nullable=False)
    sku: Mapped[str] = mapped_column(String(64), nullable=False)
    title: Mapped[str | None] = mapped_column(String(255))
    price: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    compare_at_price: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3), default="USD", nullable=False)
    weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    # option values such as {"size": "M", "colour": "red"}
    options: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    # selectin: a page of variants loads its products in one query, not one per row
    product: Mapped[Product] = relationship(back_populates="variants", lazy="selectin")

    @property
    def options_label(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted((self.options or {}).items()))

    def __repr__(self) -> str:
        return f"{self.sku} ({self.options_label})" if self.options else self.sku


class ProductImage(TenantScoped, TimestampMixin, Model):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), nullable=False, index=True
    )
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_variants.id", ondelete="SET NULL")
    )
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    alt_text: Mapped[str | None] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    product: Mapped[Product] = relationship(back_populates="images", lazy="selectin")
    variant: Mapped[ProductVariant | None] = relationship(ProductVariant)

    def __repr__(self) -> str:
        return self.url
