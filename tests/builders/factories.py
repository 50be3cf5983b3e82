"""Builders for test data, through the same services and models the app uses.

Each builder runs in its own app context and returns a plain record (ids and the fields tests
need), never a live ORM object: HTTP tests must not hold an app context across requests (Flask
would then share `g` and the session between requests, which production never does)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from types import SimpleNamespace

from werkzeug.security import generate_password_hash

from app.catalog.models import Brand, Category, Product, ProductVariant
from app.core.tenancy import tenant_scope, unscoped
from app.core.types import utcnow
from app.customers.models import Address, CustomerProfile
from app.extensions import db
from app.inventory.models import StockLevel, Warehouse
from app.security import roles
from app.security.services import create_user
from app.sellers.models import SellerProfile
from app.tenants.services import create_tenant

PASSWORD = "Secret-password-1"
# The fixtures' users share one hash, made cheap on purpose: the suite signs in thousands of times,
# and werkzeug's default (scrypt, n=2**15) costs ~0.1 s of CPU per check. The check reads its cost
# from the stored hash, so the sign-in code under test is the product's own; every hash the product
# makes itself (registration, password change and reset) keeps the default.
_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def _uid() -> str:
    return uuid.uuid4().hex[:10]


class Factory:
    def __init__(self, app):
        self.app = app

    def tenant(self, slug: str | None = None):
        with self.app.app_context(), unscoped():
            tenant = create_tenant(slug=slug or f"t-{_uid()}", name="Test shop")
            return SimpleNamespace(id=tenant.id, slug=tenant.slug)

    def user(self, tenant, role: str = roles.CUSTOMER, email: str | None = None):
        with self.app.app_context(), tenant_scope(tenant.id):
            user = create_user(
                tenant_id=tenant.id,
                email=email or f"{_uid()}@example.com",
                password=PASSWORD,
                first_name="Test",
                last_name=role,
                role_names=[role],
                password_hash=_HASH,
                check_password=False,
            )
            db.session.commit()
            return SimpleNamespace(
                id=user.id, username=user.username, email=user.email, tenant_id=tenant.id
            )

    def seller(self, tenant, status: str = "approved"):
        user = self.user(tenant, roles.SELLER)
        with self.app.app_context(), tenant_scope(tenant.id):
            profile = SellerProfile(
                user_id=user.id,
                store_name=f"Store {_uid()}",
                slug=f"store-{_uid()}",
                status=status,
                commission_rate=Decimal("0.1000"),
            )
            db.session.add(profile)
            db.session.commit()
            return SimpleNamespace(
                id=profile.id, user=user, tenant_id=tenant.id, store_name=profile.store_name
            )

    def customer(self, tenant):
        user = self.user(tenant, roles.CUSTOMER)
        with self.app.app_context(), tenant_scope(tenant.id):
            profile = CustomerProfile(user_id=user.id)
            db.session.add(profile)
            db.session.flush()
            address = Address(
                customer_id=profile.id,
                full_name="Ada Lovelace",
                line1="1 Main St",
                city="London",
                postal_code="N1 1AA",
                country="GB",
                is_default=True,
            )
            db.session.add(address)
            db.session.commit()
            return SimpleNamespace(
                id=profile.id,
                user=user,
                user_id=user.id,
                tenant_id=tenant.id,
                address_id=address.id,
            )

    def product(
        self, seller, title: str | None = None, price: str = "19.99", stock: int = 10, **fields
    ):
        with self.app.app_context(), tenant_scope(seller.tenant_id):
            category = Category(name=f"Cat {_uid()}", slug=f"cat-{_uid()}")
            brand = Brand(name=f"Brand {_uid()}", slug=f"brand-{_uid()}")
            status = fields.pop("status", "active")
            # as the services and the demo seed keep it: a product that is not a draft was published
            fields.setdefault("published_at", None if status == "draft" else utcnow())
            product = Product(
                seller_id=seller.id,
                title=title or f"Product {_uid()}",
                slug=f"p-{_uid()}",
                status=status,
                category=category,
                brand=brand,
                **fields,
            )
            variant = ProductVariant(
                product=product,
                sku=f"SKU-{_uid()}",
                price=Decimal(price),
                currency="USD",
                options={"size": "M"},
            )
            warehouse = Warehouse(code=f"W{_uid()}", name="Main", seller_id=seller.id)
            db.session.add_all([category, brand, product, variant, warehouse])
            db.session.flush()
            stock_level = StockLevel(
                variant_id=variant.id,
                warehouse_id=warehouse.id,
                quantity_on_hand=stock,
                reorder_point=3,
            )
            db.session.add(stock_level)
            db.session.commit()
            return SimpleNamespace(
                id=product.id,
                title=product.title,
                seller_id=seller.id,
                tenant_id=seller.tenant_id,
                variant_id=variant.id,
                sku=variant.sku,
                stock_level_id=stock_level.id,
                warehouse_id=warehouse.id,
            )
