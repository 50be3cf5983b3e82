"""Tenancy is applied by the ORM hooks to every query and insert of every tenant-owned model."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from app.catalog.models import Attribute, Brand, Product, ProductAttributeValue, ProductImage
from app.commissions.models import CommissionRule
from app.core.errors import TenantError
from app.core.tenancy import tenant_scope, unscoped
from app.customers import services as customer_services
from app.extensions import db
from app.inventory import services as inventory
from app.inventory.models import LowStockAlert, StockLevel
from app.models import TENANT_OWNED
from app.payments import charges
from app.payments import refunds as payment_refunds
from app.payments.models import PaymentMethodSetting, ProcessedWebhook
from app.reviews import services as review_services
from app.reviews.inputs import NewReview
from app.search import analytics as search_analytics
from app.security.models import User
from app.sellers.actors import actor_for
from app.sellers.models import KycDocument, KycRequirement, KycReview
from tests.builders.banking import bank_account
from tests.builders.chat import add_chat_rows
from tests.builders.inbox import add_inbox_rows
from tests.builders.ledger import add_ledger_rows
from tests.builders.order_rows import add_order_rows, order_row
from tests.builders.pricing_rows import add_pricing_rows
from tests.builders.purchasing import purchase_order_rows

pytestmark = pytest.mark.smoke


@pytest.fixture(scope="module")
def _two_tenants_rows(app):
    """Tenant A with one row of every tenant-owned model; tenant B with its own product. Built once
    for the module (it takes seconds, and the per-model test runs once per tenant-owned model);
    the tests only read them, or write under tenant B."""
    from tests.builders.factories import Factory

    with app.app_context():
        try:
            return _build_two_tenants(Factory(app))
        finally:
            db.session.rollback()
            db.session.remove()


@pytest.fixture
def two_tenants(_two_tenants_rows, ctx):
    """The ids of tenants A and B, in an app context of the test's own."""
    return _two_tenants_rows


def _build_two_tenants(factory):
    a, b = factory.tenant(), factory.tenant()
    A = a.id
    seller_a = factory.seller(a)
    product_a = factory.product(seller_a, stock=4)
    factory.customer(a)
    c1, c2 = factory.customer(a), factory.customer(a)
    factory.product(factory.seller(b))
    bank_account(factory.app, seller_a)
    with tenant_scope(A):
        attribute = Attribute(code="colour", name="Colour")
        db.session.add(attribute)
        db.session.flush()
        db.session.add(
            ProductAttributeValue(product_id=product_a.id, attribute_id=attribute.id, value="Red")
        )
        db.session.add(ProductImage(product_id=product_a.id, url="https://img.example/a.jpg"))
        db.session.commit()
        inventory.adjust_stock(
            product_a.stock_level_id, -2, reason="adjustment"
        )  # 2 left <= reorder point 3: alert
        # wishlist item + activity, review + helpful vote
        customer_user = actor_for(db.session.get(User, c1.user_id))
        customer_services.add_to_wishlist(customer_user, product_a.id)
        review = review_services.create_review(
            customer_user, NewReview(product_id=product_a.id, rating=4, title="ok")
        )
        review_services.mark_helpful(actor_for(db.session.get(User, c2.user_id)), review.id)
        add_pricing_rows(seller_a.id, c1.user_id)
        add_order_rows(seller_a.id, c1.user_id, product_a.variant_id, product_a.stock_level_id)
        add_ledger_rows(seller_a.id)
        add_chat_rows(seller_a.id, c1.user_id, seller_a.user.id)
        # payments: a captured test-card payment (idempotency key, transactions) with a refund, a
        # processed webhook and a payment method setting
        payment = charges.start_payment(
            order_id=order_row(customer_user_id=c1.user_id, total="10.00"),
            amount=Decimal("10.00"),
            currency="USD",
            method="test_card",
            customer_user_id=c1.user_id,
            payment_details={"card_number": "4242424242424242"},
            idempotency_key="tenancy",
        )
        payment_refunds.refund(payment.id, Decimal("1.00"), "tenancy")
        db.session.add_all(
            [
                ProcessedWebhook(gateway="stripe", event_id="evt_tenancy", event_type="test"),
                PaymentMethodSetting(method="test_card"),
                CommissionRule(name="tenancy", rate=Decimal("0.1")),
            ]
        )
        db.session.commit()
        # a logged search and a click on a result (written by their event consumers)
        search_analytics.record_search("lamp", endpoint="test", total=1)
        search_analytics.record_click(
            query="lamp", product_id=product_a.id, position=0, user_id=None
        )
        # a KYC requirement, a document (its row: the file is the storage's) and its review
        db.session.add(KycRequirement(business_type="individual", document_type="passport"))
        document = KycDocument(
            seller_id=seller_a.id,
            document_type="passport",
            filename="passport.pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
            storage_name=f"tenancy-{A}.pdf",
        )
        db.session.add(document)
        db.session.flush()
        db.session.add(KycReview(document_id=document.id, decision="accepted"))
        db.session.commit()
        # the notification centre: a notification, its receipt, deliveries and recorded SMS, a
        # preference and a shop default
        add_inbox_rows(seller_a.user.id)
        # a supplier, a purchase order with a line, and a receipt of it
        purchase_order_rows(seller_a.id, product_a.variant_id, product_a.warehouse_id)
    return a.id, b.id


@pytest.mark.parametrize("model", TENANT_OWNED, ids=lambda m: m.__name__)
def test_rows_of_tenant_a_are_never_visible_under_tenant_b(two_tenants, model):
    A, B = two_tenants
    with tenant_scope(A):
        a_rows = db.session.scalars(select(model)).all()
        assert a_rows, f"tenant A should have {model.__name__} rows"
        assert {r.tenant_id for r in a_rows} == {A}
        a_ids = [r.id for r in a_rows]
    db.session.expunge_all()
    with tenant_scope(B):
        b_rows = db.session.scalars(select(model)).all()
        assert all(r.tenant_id == B for r in b_rows)
        assert (
            db.session.scalar(select(func.count()).select_from(model).where(model.id.in_(a_ids)))
            == 0
        )
        assert db.session.get(model, a_ids[0]) is None


def test_inserts_get_the_current_tenant_and_writes_to_another_are_refused(two_tenants):
    A, B = two_tenants
    with tenant_scope(B):
        brand = Brand(name="Acme", slug="acme")
        db.session.add(brand)
        db.session.commit()
        assert brand.tenant_id == B
        db.session.add(Brand(name="Intruder", slug="intruder", tenant_id=A))
        with pytest.raises(TenantError):
            db.session.flush()
        db.session.rollback()


def test_bulk_update_under_b_leaves_a_untouched(two_tenants):
    A, B = two_tenants
    with tenant_scope(B):
        db.session.execute(update(Product).values(is_featured=True))
        db.session.commit()
    with tenant_scope(A):
        assert (
            db.session.scalar(
                select(func.count()).select_from(Product).where(Product.is_featured.is_(True))
            )
            == 0
        )


def test_relationship_loads_are_scoped_too(two_tenants):
    A, _ = two_tenants
    with tenant_scope(A):
        product = db.session.scalars(select(Product)).first()
        assert product.variants and all(v.tenant_id == A for v in product.variants)


def test_a_query_on_tenant_data_without_a_tenant_fails_closed(app, ctx):
    with pytest.raises(TenantError):
        db.session.scalars(select(Product)).all()


def test_users_are_tenant_members_and_super_admins_are_seen_everywhere(two_tenants):
    A, B = two_tenants
    with tenant_scope(B):
        users = db.session.scalars(select(User)).all()
        assert all(u.tenant_id in (B, None) for u in users)
        assert any(u.tenant_id is None and u.is_super_admin for u in users)
    with unscoped():
        assert (
            db.session.scalar(select(func.count()).select_from(User).where(User.tenant_id == A))
            >= 2
        )


def test_users_loaded_as_fabs_own_user_class_are_scoped_too(two_tenants):
    """FAB's relationships (Role.user, behind the roles page's search form) load FAB's base User
    class, not the app's: it was not filtered, and an Admin's roles page listed every tenant's users."""
    from flask_appbuilder.security.sqla.models import Role
    from flask_appbuilder.security.sqla.models import User as FabUser
    from sqlalchemy.orm import aliased

    A, B = two_tenants
    with unscoped():
        members_of_b = set(
            db.session.scalars(
                select(User.id).where((User.tenant_id == B) | User.tenant_id.is_(None))
            )
        )
        everyone = set(db.session.scalars(select(User.id)))
    assert everyone - members_of_b
    db.session.expunge_all()
    with tenant_scope(B):
        assert {u.id for u in db.session.scalars(select(FabUser))} <= members_of_b
        assert {u.id for u in db.session.scalars(select(aliased(FabUser)))} <= members_of_b
        for role in db.session.scalars(select(Role)):
            assert {u.id for u in role.user} <= members_of_b, role.name
    db.session.expunge_all()
    with pytest.raises(TenantError):  # and without a tenant, it fails closed like the app's class
        db.session.scalars(select(FabUser)).all()


def test_low_stock_alert_was_raised_by_the_event_consumer(two_tenants):
    A, _ = two_tenants
    with tenant_scope(A):
        alert = db.session.scalars(select(LowStockAlert)).one()
        assert alert.available == 2 and alert.reorder_point == 3
        assert (
            db.session.scalar(
                select(StockLevel.quantity_on_hand).where(StockLevel.id == alert.stock_level_id)
            )
            == 2
        )
        assert Decimal("0") <= db.session.scalars(select(Product)).first().rating_avg
