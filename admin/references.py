"""The rows admin pages point at by id where no relationship leads to them (a lower domain keeps
the id of a higher one's row, e.g. a payment its order's): shown by name, linked to their page when
the user may open it, searched by name (admin.formatting.Reference, MarketModelView.references)."""

from __future__ import annotations

from admin.base import is_seller_user
from admin.formatting import Reference
from app.catalog.models import Category, Product
from app.orders.models import Order
from app.security.models import User
from app.sellers.models import SellerProfile
from app.tenants.models import Tenant


def _person(user) -> str:
    """Staff read a customer by name and e-mail; a seller by name only."""
    return str(user) if is_seller_user() else f"{user} <{user.email}>"


ORDER = Reference(Order, lambda order: order.number, "OrderView", search=("number",))
USER = Reference(User, _person, "MarketUserView", search=("email", "first_name", "last_name"))
PRODUCT = Reference(Product, lambda product: product.title, "ProductView", search=("title",))
TENANT = Reference(Tenant, lambda tenant: tenant.name, "TenantView")
CATEGORY = Reference(Category, str, "CategoryView", search=("name",))
SELLER = Reference(
    SellerProfile, lambda seller: seller.store_name, "SellerView", search=("store_name",)
)
