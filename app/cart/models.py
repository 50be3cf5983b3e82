"""Carts and their items. Prices are never stored here: every read prices the cart afresh."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import ProductVariant
from app.core.types import TimestampMixin
from app.security.models import User
from app.tenants.models import TenantScoped


class Cart(TenantScoped, TimestampMixin, Model):
    """A signed-in customer's cart (user_id set, one per user) or a guest's (token_hash set).

    The guest's token is shown once to the client; only its SHA-256 is stored."""

    __tablename__ = "carts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", name="uq_carts_tenant_user"),
        UniqueConstraint("tenant_id", "token_hash", name="uq_carts_tenant_token"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"))
    token_hash: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User | None] = relationship(User)
    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartItem.id", lazy="selectin"
    )

    @property
    def item_count(self) -> int:
        return sum(item.quantity for item in self.items)

    def __repr__(self) -> str:
        return f"cart {self.id} of {self.user}" if self.user_id else f"guest cart {self.id}"


class CartItem(TenantScoped, TimestampMixin, Model):
    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "cart_id", "variant_id", name="uq_cart_items_tenant_cart_variant"
        ),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cart_id: Mapped[int] = mapped_column(
        ForeignKey("carts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    variant_id: Mapped[int] = mapped_column(
        ForeignKey("product_variants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)

    cart: Mapped[Cart] = relationship(back_populates="items")
    variant: Mapped[ProductVariant] = relationship(ProductVariant, lazy="joined")

    def __repr__(self) -> str:
        return f"{self.quantity} × {self.variant}"
