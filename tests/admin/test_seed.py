"""`flask seed` / admin.demo.seed: what it creates, that it respects tenancy, that its demo
logins work, and that the history it writes through the services (admin.demo.history: orders in
every state, payments, shipments, refunds, reviews, promotions, carts) is consistent. Each test
seeds tenants of its own (unique slugs), so the data of other tests, and of other runs, is never
counted."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import Integer, cast, func, select
from werkzeug.security import check_password_hash

from admin.demo.history import (
    FATES,
    HISTORY_DAYS,
    UNREAD_DAYS,
    WAITING_ORDERS,
    _Coupon,
    _plans,
    _Shop,
)
from admin.demo.seed import ATTRIBUTES, BRANDS, DEMO_PASSWORD, seed
from app.cart.models import Cart, CartItem
from app.catalog.models import (
    Attribute,
    Brand,
    Category,
    Product,
    ProductAttributeValue,
    ProductImage,
    ProductVariant,
    category_attributes,
)
from app.core.tenancy import tenant_scope, unscoped
from app.core.types import utcnow
from app.customers.models import Address, CustomerProfile
from app.events.models import OutboxEvent
from app.extensions import db
from app.inbox.models import Notification, NotificationReceipt
from app.inventory.models import LowStockAlert, StockLevel, StockMovement, Warehouse
from app.orders.lifecycle import expire_unpaid
from app.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    RefundRequest,
    ReservationStatus,
    StockReservation,
    SubOrder,
)
from app.payments.models import Payment, PaymentTransaction, Refund
from app.payouts import statements
from app.payouts.ledger import payout_settings
from app.payouts.models import SellerLedgerEntry, SellerLedgerRelease
from app.promotions.models import Promotion, PromotionRedemption
from app.reviews.models import Review
from app.reviews.services import bought
from app.security import roles
from app.security.models import User
from app.sellers.models import SellerProfile
from app.shipments.models import Shipment
from app.tenants.models import Tenant
from tests.conftest import unique

N_PRODUCTS, N_SELLERS, N_CUSTOMERS, N_SECOND = 50, 4, 6, 5
N_ORDERS = (
    16  # the least that gives every state its minimum (admin.demo.history.FATES), and two more
)
# what the demo's orders show: every state of an order a shop's staff meets
ORDER_STATES = {
    "pending",
    "paid",
    "processing",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
    "refund_requested",
    "refunded",
    "partially_refunded",
}


def _count(table, tenant_id: int, *where) -> int:
    """Rows of `table` in one tenant (Core, explicit filter: no reliance on the ORM hooks)."""
    with unscoped():
        return db.session.scalar(
            select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id, *where)
        )


def _tenant(slug: str) -> Tenant:
    with unscoped():
        return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


@pytest.fixture(scope="module")
def seeded(app):
    """One small seed for the module: tenant A (50 products and a history of 16 orders) and a
    second tenant B (5 products, no orders)."""
    slug_a, slug_b = unique("seed-a-"), unique("seed-b-")
    with app.app_context():
        report = seed(
            N_PRODUCTS,
            sellers=N_SELLERS,
            customers=N_CUSTOMERS,
            tenant=slug_a,
            second_tenant=slug_b,
            second_tenant_products=N_SECOND,
            seed=7,
            chunk_size=20,
            orders=N_ORDERS,
            second_tenant_orders=0,
        )
        ids = {t.slug: t.tenant_id for t in report.tenants}
        with tenant_scope(ids[slug_a]):
            order_ids = db.session.scalars(select(Order.id)).all()
        db.session.remove()
    return {
        "order_ids": order_ids,
        "report": report,
        "a": ids[slug_a],
        "b": ids[slug_b],
        "slug_a": slug_a,
        "slug_b": slug_b,
    }


def test_the_historys_notifications_are_dated_by_their_orders_and_mostly_read(seeded, ctx):
    """The history's notifications (new orders, status changes) carry the moment their order
    reached that step, not the seeding's minute; those older than UNREAD_DAYS were read, so a
    seller opening the demo sees the last days' news unread. Nobody is mailed about the past."""
    a = seeded["a"]
    with tenant_scope(a):
        notices = db.session.execute(
            select(Notification.id, Notification.data, Notification.created_at)
        ).all()
        receipts = db.session.execute(
            select(NotificationReceipt.notification_id, NotificationReceipt.read_at)
        ).all()
        placed = dict(db.session.execute(select(Order.id, Order.created_at)).all())
    with unscoped():
        mails_asked = db.session.scalar(
            select(func.count(OutboxEvent.id)).where(
                OutboxEvent.tenant_id == a, OutboxEvent.name == "mail.requested"
            )
        )
    about_orders = {n.id: n for n in notices if (n.data or {}).get("order_id")}
    assert len(about_orders) >= N_ORDERS  # a new-order notice per seller of each order, at least
    for notice in about_orders.values():
        assert notice.created_at >= placed[int(notice.data["order_id"])]
    # spread over the history's months, not stamped with one moment
    assert min(n.created_at for n in about_orders.values()) < utcnow() - dt.timedelta(days=30)
    recent = utcnow() - dt.timedelta(days=UNREAD_DAYS, hours=1)
    unread = [r for r in receipts if r.notification_id in about_orders and r.read_at is None]
    assert all(about_orders[r.notification_id].created_at >= recent for r in unread)
    assert sum(1 for r in receipts if r.read_at is not None) > len(unread)
    assert mails_asked == 0


def test_counts_per_table(seeded, ctx):
    a, report = seeded["a"], seeded["report"]
    created = report.tenants[0].created
    assert _count(Product.__table__, a) == N_PRODUCTS == created["products"]
    assert _count(SellerProfile.__table__, a) == N_SELLERS
    assert _count(CustomerProfile.__table__, a) == N_CUSTOMERS
    assert _count(User.__table__, a) == N_SELLERS + N_CUSTOMERS + 1  # + the tenant admin
    assert _count(Attribute.__table__, a) == len(ATTRIBUTES)
    assert _count(Brand.__table__, a) == len(BRANDS)
    # 3 platform fulfilment centres + the digital one (USD tenant) + one per seller
    assert _count(Warehouse.__table__, a) == 4 + N_SELLERS
    assert _count(Warehouse.__table__, a, Warehouse.__table__.c.seller_id.is_(None)) == 4
    for model in (
        Category,
        ProductVariant,
        ProductImage,
        ProductAttributeValue,
        StockLevel,
        StockMovement,
        LowStockAlert,
        Address,
        Review,
        Order,
        SubOrder,
        Payment,
        Shipment,
        RefundRequest,
        Promotion,
    ):
        assert _count(model.__table__, a) == created[model.__tablename__], model.__name__
    assert created["orders"] >= N_ORDERS and created["reviews"] > 0
    assert _count(Order.__table__, seeded["b"]) == 0  # second_tenant_orders=0
    # shapes: 1-4 variants, 1-3 images per product; 1-2 addresses per customer, exactly one default
    with tenant_scope(a):
        per_product = db.session.execute(
            select(
                Product.id,
                func.count(func.distinct(ProductVariant.id)),
                func.count(func.distinct(ProductImage.id)),
            )
            .join(ProductVariant, ProductVariant.product_id == Product.id)
            .join(ProductImage, ProductImage.product_id == Product.id)
            .group_by(Product.id)
        ).all()
        assert len(per_product) == N_PRODUCTS
        assert all(1 <= v <= 4 and 1 <= i <= 3 for _, v, i in per_product)
        addresses = db.session.execute(
            select(
                Address.customer_id, func.count(), func.sum(cast(Address.is_default, Integer))
            ).group_by(Address.customer_id)
        ).all()
        assert len(addresses) == N_CUSTOMERS
        assert all(1 <= n <= 2 and defaults == 1 for _, n, defaults in addresses)
    assert _count(Product.__table__, seeded["b"]) == N_SECOND


def test_category_tree_attributes_and_products_are_realistic(seeded, ctx):
    a = seeded["a"]
    with tenant_scope(a):
        categories = db.session.scalars(select(Category)).all()
        by_id = {c.id: c for c in categories}

        def depth(c):
            return 1 if c.parent_id is None else 1 + depth(by_id[c.parent_id])

        assert {depth(c) for c in categories} == {1, 2, 3}
        assert all(c.slug and c.seo_title and c.seo_description for c in categories)
        assert "Clothing" in {c.name for c in categories if c.parent_id is None}
        linked = db.session.scalar(
            select(func.count())
            .select_from(category_attributes)
            .join(Category, Category.id == category_attributes.c.category_id)
        )
        assert linked > len(categories)  # most leaves offer several filters
        products = db.session.scalars(select(Product)).all()
        statuses = {p.status for p in products}
        assert "active" in statuses and statuses <= {"active", "draft", "archived"}
        assert sum(p.status == "active" for p in products) > N_PRODUCTS // 2
        for p in products:
            assert p.title and p.description and p.slug.endswith(f"-{p.id}")
            assert (
                p.category is not None and p.category.children == []
            )  # products sit in leaf categories
            assert Decimal("0") <= p.rating_avg <= Decimal("5")
            assert (p.rating_count == 0) == (p.rating_avg == 0)
            assert (p.published_at is None) == (p.status == "draft")
        sellers = db.session.scalars(select(SellerProfile)).all()
        assert all(Decimal("0.05") <= s.commission_rate <= Decimal("0.20") for s in sellers)
        assert {p.seller.status for p in products} == {"approved"}


def test_variants_skus_prices_and_currency(seeded, ctx):
    a, b = seeded["a"], seeded["b"]
    for tenant_id in (a, b):
        currency = db.session.get(Tenant, tenant_id).default_currency
        with tenant_scope(tenant_id):
            variants = db.session.scalars(select(ProductVariant)).all()
            skus = [v.sku for v in variants]
            assert len(skus) == len(set(skus)), "SKUs are unique per tenant"
            for v in variants:
                assert (
                    isinstance(v.price, Decimal)
                    and v.price == v.price.quantize(Decimal("0.01"))
                    and v.price > 0
                )
                assert v.compare_at_price is None or v.compare_at_price > v.price
                assert v.currency == currency
                assert isinstance(v.options, dict)
                if v.product.product_type == "physical":
                    assert v.weight_kg is not None and v.weight_kg > 0
            images = db.session.scalars(select(ProductImage)).all()
            assert all(
                re.fullmatch(r"https://picsum\.photos/seed/[\w-]+/600/600", i.url) for i in images
            )
            slugs = db.session.scalars(select(Product.slug)).all()
            assert len(slugs) == len(set(slugs))
            lowest: dict[int, Decimal] = {}
            for v in variants:
                if v.is_active:
                    lowest[v.product_id] = min(v.price, lowest.get(v.product_id, v.price))
            stored = dict(db.session.execute(select(Product.id, Product.min_price)).all())
            assert stored == {pid: lowest.get(pid) for pid in stored}, (
                "the seeder fills products.min_price"
            )


def test_every_variant_has_stock_and_a_consistent_ledger(seeded, ctx):
    """Every variant has stock; after the history's orders, what each stock row holds is what its
    ledger says, what it reserves is what the orders still hold, and a low-stock alert is open
    exactly where an active product's stock is at or below its reorder point."""
    a = seeded["a"]
    with tenant_scope(a):
        without_stock = db.session.scalar(
            select(func.count(ProductVariant.id))
            .outerjoin(StockLevel, StockLevel.variant_id == ProductVariant.id)
            .where(StockLevel.id.is_(None))
        )
        assert without_stock == 0
        levels = db.session.scalars(select(StockLevel)).all()
        assert levels and all(
            s.quantity_on_hand >= 0 and 0 <= s.quantity_reserved <= s.quantity_on_hand
            for s in levels
        )
        assert all(s.reorder_point > 0 for s in levels)
        ledger = {
            row[0]: (row[1], row[2])
            for row in db.session.execute(
                select(
                    StockMovement.stock_level_id,
                    func.sum(StockMovement.delta_on_hand),
                    func.sum(StockMovement.delta_reserved),
                ).group_by(StockMovement.stock_level_id)
            ).all()
        }
        held = dict(
            db.session.execute(
                select(StockReservation.stock_level_id, func.sum(StockReservation.quantity))
                .where(StockReservation.status == ReservationStatus.HELD)
                .group_by(StockReservation.stock_level_id)
            ).all()
        )
        assert held, "the pending, paid and processing orders hold stock"
        for s in levels:
            on_hand, reserved = ledger.get(s.id, (0, 0))
            assert (on_hand, reserved) == (s.quantity_on_hand, s.quantity_reserved), s.id
            assert s.quantity_reserved == held.get(s.id, 0), s.id
        sold = db.session.scalar(
            select(func.count()).select_from(StockMovement).where(StockMovement.reason == "sale")
        )
        assert sold > 0
        open_alerts = {
            alert.stock_level_id: alert
            for alert in db.session.scalars(
                select(LowStockAlert).where(LowStockAlert.resolved_at.is_(None))
            ).all()
        }
        for s in levels:
            low = s.available <= s.reorder_point and s.variant.product.status == "active"
            assert (s.id in open_alerts) == low, s.id
        assert all(alert.available <= alert.reorder_point for alert in open_alerts.values())
        # each variant's stock is in its seller's warehouse or a platform one, never another seller's
        for s in levels:
            assert s.warehouse.seller_id in (None, s.variant.product.seller_id)


def test_second_tenant_is_invisible_under_the_first(seeded, ctx):
    a, b = seeded["a"], seeded["b"]
    with tenant_scope(b):
        b_ids = db.session.scalars(select(Product.id)).all()
        b_skus = db.session.scalars(select(ProductVariant.sku)).all()
    assert len(b_ids) == N_SECOND
    db.session.expunge_all()
    with tenant_scope(a):
        assert db.session.scalar(select(func.count(Product.id))) == N_PRODUCTS
        assert db.session.scalar(select(func.count(Product.id)).where(Product.id.in_(b_ids))) == 0
        assert db.session.get(Product, b_ids[0]) is None
        assert all(p.tenant_id == a for p in db.session.scalars(select(Product)).all())
        # the same e-mail addresses exist in both tenants only under their own domain
        emails = set(db.session.scalars(select(User.email).where(User.tenant_id.isnot(None))).all())
        assert f"seller1@{seeded['slug_a']}.example.com" in emails
        assert not any(e.endswith(f"@{seeded['slug_b']}.example.com") for e in emails)
        # SKUs may repeat across tenants; under A only A's exist
        assert (
            db.session.scalar(
                select(func.count(ProductVariant.id)).where(
                    ProductVariant.sku.in_(b_skus), ProductVariant.tenant_id != a
                )
            )
            == 0
        )


HISTORY_MODELS = (Order, Payment, Shipment, RefundRequest, Review, Promotion, Cart)


def test_if_empty_does_not_double_the_data_and_a_rerun_only_adds_products(seeded, app):
    slug_a, a = seeded["slug_a"], seeded["a"]
    with app.app_context():
        before = {
            m.__tablename__: _count(m.__table__, a)
            for m in (
                Product,
                ProductVariant,
                User,
                Category,
                Brand,
                SellerProfile,
                CustomerProfile,
                Warehouse,
                *HISTORY_MODELS,
            )
        }
        report = seed(
            500, tenant=slug_a, second_tenant=seeded["slug_b"], if_empty=True, orders=N_ORDERS
        )
        assert [t.skipped for t in report.tenants] == [True, True]
        assert sum(report.created.values()) == 0
        after = {
            name: _count(m.__table__, a)
            for name, m in (
                (m.__tablename__, m)
                for m in (
                    Product,
                    ProductVariant,
                    User,
                    Category,
                    Brand,
                    SellerProfile,
                    CustomerProfile,
                    Warehouse,
                    *HISTORY_MODELS,
                )
            )
        }
        assert after == before

        # without --if-empty, a second run reuses users, categories, brands and warehouses, and
        # writes no second history into a tenant that has orders
        report = seed(
            10,
            sellers=N_SELLERS,
            customers=N_CUSTOMERS,
            tenant=slug_a,
            second_tenant=None,
            seed=7,
            orders=N_ORDERS,
        )
        assert report.tenants[0].created["products"] == 10
        for model in HISTORY_MODELS:
            if model is not Review:  # the new products come with their catalogue reviews
                assert _count(model.__table__, a) == before[model.__tablename__], model
        for name in (
            "ab_user",
            "categories",
            "brands",
            "sellers",
            "customer_profiles",
            "warehouses",
            "shipping_zones",
            "shipping_methods",
            "tax_rules",
        ):
            assert report.tenants[0].created[name] == 0, name
        assert _count(Product.__table__, a) == before["products"] + 10
        assert _count(User.__table__, a) == before["ab_user"]
        db.session.remove()


def test_demo_sellers_can_log_in_and_see_only_their_products(seeded, app):
    slug_a, a = seeded["slug_a"], seeded["a"]
    seller_login = next(
        login
        for login in seeded["report"].logins
        if login.role == "Seller" and login.tenant == slug_a
    )
    assert seller_login.password == DEMO_PASSWORD
    with app.app_context(), tenant_scope(a):
        users = db.session.scalars(select(User).where(User.tenant_id == a)).all()
        assert all(check_password_hash(u.password, DEMO_PASSWORD) for u in users)
        sellers = [u for u in users if roles.SELLER in u.role_names]
        assert len(sellers) == N_SELLERS and all(u.is_staff and u.active for u in sellers)
        seller = next(u for u in sellers if u.email == seller_login.login)
        profile = db.session.scalar(select(SellerProfile).where(SellerProfile.user_id == seller.id))
        own = db.session.scalar(
            select(func.count(Product.id)).where(Product.seller_id == profile.id)
        )
        premium = [u for u in users if roles.PREMIUM_CUSTOMER in u.role_names]
        assert premium and all(roles.CUSTOMER in u.role_names for u in premium)
        customer_email = next(u.email for u in users if u.role_names == {roles.CUSTOMER})
        db.session.remove()
    assert 0 < own < N_PRODUCTS

    # HTTP outside any pushed app context: otherwise every request shares one `g` (and the
    # user flask-login caches there)
    headers = {"X-Tenant": slug_a}
    client = app.test_client()
    response = client.post(
        "/login/", data={"username": seller_login.login, "password": DEMO_PASSWORD}, headers=headers
    )
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    page = client.get("/admin/products/list/", headers=headers)
    assert page.status_code == 200
    count = re.search(r"Record Count:</strong>\s*(\d+)", page.get_data(as_text=True))
    assert count and int(count.group(1)) == own  # their own products, not the tenant's

    # customers have the same password, but the admin login refuses them
    other = app.test_client()
    other.post(
        "/login/", data={"username": customer_email, "password": DEMO_PASSWORD}, headers=headers
    )
    response = other.get("/admin/products/list/", headers=headers)
    assert response.status_code == 302 and "/login/" in response.headers["Location"]


def test_same_seed_gives_the_same_catalogue(app):
    def catalogue(slug, random_seed):
        seed(15, sellers=3, customers=5, tenant=slug, second_tenant=None, seed=random_seed)
        tid = _tenant(slug).id
        with tenant_scope(tid):
            rows = db.session.execute(
                select(Product.title, Product.status, ProductVariant.price, ProductVariant.options)
                .join(ProductVariant, ProductVariant.product_id == Product.id)
                .order_by(Product.id, ProductVariant.position)
            ).all()
            stores = db.session.scalars(
                select(SellerProfile.store_name).order_by(SellerProfile.id)
            ).all()
        return [tuple(r) for r in rows], stores

    with app.app_context():
        first = catalogue(unique("det-"), 11)
        again = catalogue(unique("det-"), 11)
        other = catalogue(unique("det-"), 12)
        db.session.remove()
    assert first == again
    assert first != other


@pytest.mark.smoke
def test_small_seed_smoke(app):
    """Runs on SQLite too (`make run`'s database): a tiny seed of two tenants, stock for every
    variant, tenancy, logins, and a short history in every state whose payments add up."""
    slug, second = unique("smoke-"), unique("smoke2-")
    with app.app_context():
        report = seed(
            12,
            sellers=2,
            customers=3,
            tenant=slug,
            second_tenant=second,
            second_tenant_products=3,
            seed=1,
            orders=14,
            second_tenant_orders=0,
        )
        a, b = (t.tenant_id for t in report.tenants)
        assert (
            report.tenants[0].created["products"] == 12
            and report.tenants[1].created["products"] == 3
        )
        assert report.tenants[0].failures == []
        with tenant_scope(a):
            assert db.session.scalar(select(func.count(Product.id))) == 12
            variants = db.session.scalar(select(func.count(ProductVariant.id)))
            stocked = db.session.scalar(select(func.count(func.distinct(StockLevel.variant_id))))
            assert variants >= 12 and stocked == variants
            seller = db.session.scalar(
                select(User).where(User.email == f"seller1@{slug}.example.com")
            )
            assert seller is not None and check_password_hash(seller.password, DEMO_PASSWORD)
            statuses = set(db.session.scalars(select(Order.status)).all())
            paid = db.session.scalar(
                select(func.sum(Order.total - Order.refunded_total)).where(
                    Order.paid_at.isnot(None)
                )
            )
            kept = db.session.scalar(
                select(func.sum(Payment.amount_captured - Payment.amount_refunded))
            )
        assert ORDER_STATES <= statuses, statuses
        assert paid == kept
        with tenant_scope(b):
            assert db.session.scalar(select(func.count(Product.id))) == 3
        again = seed(12, tenant=slug, second_tenant=second, if_empty=True, orders=14)
        assert all(t.skipped for t in again.tenants)
        assert _count(Product.__table__, a) == 12
        assert _count(Order.__table__, a) == report.tenants[0].created["orders"]
        db.session.remove()


def test_a_guest_can_check_out_the_seeded_catalog(app, seeded):
    """The seed gives each tenant a domestic shipping zone and its tax rules, so a storefront can
    buy at once (before, every checkout of `make run`'s catalog answered no_shipping_method)."""
    a = seeded["a"]
    with app.app_context(), tenant_scope(a):
        variant_id = db.session.scalar(
            select(StockLevel.variant_id)
            .join(ProductVariant, ProductVariant.id == StockLevel.variant_id)
            .join(Product, Product.id == ProductVariant.product_id)
            .where(
                Product.status == "active",
                ProductVariant.is_active.is_(True),
                StockLevel.quantity_on_hand - StockLevel.quantity_reserved >= 2,
            )
            .order_by(StockLevel.variant_id)
            .limit(1)
        )
        db.session.remove()
    client = app.test_client()
    client.environ_base["HTTP_X_TENANT"] = seeded["slug_a"]
    added = client.post("/api/v1/cart/add/", json={"variant_id": variant_id, "quantity": 1})
    assert added.status_code in (200, 201), added.get_json()
    token = added.headers["X-Cart-Token"]
    address = {
        "full_name": "Dana Guest",
        "line1": "1 Market St",
        "city": "San Francisco",
        "region": "CA",
        "postal_code": "94105",
        "country": "US",
    }
    placed = client.post(
        "/api/v1/orders/",
        headers={"X-Cart-Token": token, "Idempotency-Key": unique("seed-co-")},
        json={
            "email": "dana@example.com",
            "shipping_address": address,
            "payment": {"method": "test_card", "details": {"number": "4242424242424242"}},
        },
    )
    body = placed.get_json()
    assert placed.status_code == 201, body
    assert Decimal(body["tax_total"]) > 0 and body["sub_orders"], body
    abroad = client.post("/api/v1/cart/add/", json={"variant_id": variant_id, "quantity": 1})
    refused = client.post(
        "/api/v1/orders/",
        headers={
            "X-Cart-Token": abroad.headers["X-Cart-Token"],
            "Idempotency-Key": unique("seed-co-"),
        },
        json={
            "email": "dana@example.com",
            "shipping_address": {**address, "country": "JP", "region": None},
            "payment": {"method": "test_card", "details": {"number": "4242424242424242"}},
        },
    )
    assert (
        refused.status_code == 409 and refused.get_json()["error"]["code"] == "no_shipping_method"
    )


# --- the history: orders, payments, shipments, refunds, reviews, promotions, carts ---------------


def test_the_history_has_orders_in_every_state(seeded, ctx):
    a = seeded["a"]
    assert seeded["report"].tenants[0].failures == []  # no service refused a step
    with tenant_scope(a):
        statuses = Counter(db.session.scalars(select(Order.status)).all())
        guests = db.session.scalar(
            select(func.count(Order.id)).where(Order.customer_user_id.is_(None))
        )
    assert ORDER_STATES <= set(statuses), statuses
    assert sum(statuses.values()) >= N_ORDERS
    assert statuses["pending"] >= 2 and statuses["refund_requested"] >= 2
    assert guests < sum(statuses.values())  # customers' orders (and a guest's, now and then)


def test_payments_add_up_to_what_the_orders_were_paid_and_refunded(seeded, ctx):
    a, history = seeded["a"], seeded["order_ids"]  # not the orders other tests place
    with tenant_scope(a):
        orders = db.session.scalars(select(Order).where(Order.id.in_(history))).all()
        payments = db.session.scalars(select(Payment).where(Payment.order_id.in_(history))).all()
        captured, refunded, tx_captured, tx_refunded, refunds = (Counter() for _ in range(5))
        for p in payments:
            captured[p.order_id] += p.amount_captured
            refunded[p.order_id] += p.amount_refunded
        for t in db.session.scalars(
            select(PaymentTransaction).where(
                PaymentTransaction.status == "succeeded", PaymentTransaction.order_id.in_(history)
            )
        ).all():
            if t.kind in ("capture", "mark_received"):
                tx_captured[t.order_id] += t.amount
            elif t.kind == "refund":
                tx_refunded[t.order_id] += t.amount
        for r in db.session.scalars(select(Refund).where(Refund.status == "completed")).all():
            refunds[r.order_id] += r.amount
        methods = Counter(p.method for p in payments)
        gateways = {p.gateway for p in payments}
    assert {p.order_id for p in payments} == {o.id for o in orders}  # each has its payment(s)
    assert {"test_card", "bank_transfer"} <= set(methods) and gateways == {"test", "manual"}
    for o in orders:
        if o.paid_at is None:  # never paid: pending, or cancelled before it was
            assert o.status in ("pending", "cancelled") and captured[o.id] == 0, o.number
            continue
        assert captured[o.id] == tx_captured[o.id] == o.total, o.number
        assert refunded[o.id] == tx_refunded[o.id] == refunds[o.id] == o.refunded_total, o.number
        if o.status == "refunded":
            assert o.refunded_total == o.total and o.payment_status == "refunded", o.number
        elif o.status == "partially_refunded":
            assert 0 < o.refunded_total < o.total, o.number
        elif o.status == "cancelled":  # cancelled after it was paid: refunded in full
            assert o.refunded_total == o.total, o.number
        else:
            assert o.refunded_total == 0 and o.payment_status == "captured", o.number
    paid = [o for o in orders if o.paid_at is not None]
    assert sum(captured.values()) - sum(refunded.values()) == sum(
        (o.total - o.refunded_total for o in paid), Decimal("0")
    )


def test_refund_requests_wait_for_a_decision_and_decided_ones_are_settled(seeded, ctx):
    a = seeded["a"]
    with tenant_scope(a):
        requests = db.session.scalars(select(RefundRequest)).all()
        subs = {s.id: s for s in db.session.scalars(select(SubOrder)).all()}
    by_status = Counter(r.status for r in requests)
    assert by_status["requested"] >= 2 and by_status["completed"] >= 2
    assert by_status["rejected"] >= 1
    for r in requests:
        sub = subs[r.sub_order_id]
        if r.status == "requested":  # waiting: the seller or an admin decides
            assert sub.status == "refund_requested" and r.decided_at is None
        elif r.status == "completed":
            assert sub.status in ("refunded", "partially_refunded") and r.decided_at is not None
        else:
            assert r.status == "rejected" and sub.status == sub.status_before_refund
    assert any(r.lines for r in requests)  # returns of units, not only amounts


def test_shipped_and_delivered_sub_orders_have_labels_and_tracking(seeded, ctx):
    a = seeded["a"]
    with tenant_scope(a):
        subs = db.session.scalars(select(SubOrder)).all()
        shipments = {s.sub_order_id: s for s in db.session.scalars(select(Shipment)).all()}
        events = {s.id: [e.status for e in s.events] for s in shipments.values()}
        pdfs = {s.id: (s.label_pdf or b"")[:5] for s in shipments.values()}
    delivered_or_later = {"delivered", "completed", "refund_requested", "refunded"}
    for sub in subs:
        shipment = shipments.get(sub.id)
        if sub.status == "shipped":
            assert shipment is not None and shipment.status == "label_created", sub.number
            assert events[shipment.id] == ["label_created"]
        elif sub.status in delivered_or_later | {"partially_refunded"}:
            assert shipment is not None and shipment.status == "delivered", sub.number
            assert events[shipment.id] == ["label_created", "delivered"]
        elif sub.status in ("pending", "paid", "processing"):
            assert shipment is None, sub.number
        if shipment is not None:
            assert pdfs[shipment.id] == b"%PDF-" and shipment.tracking_number
            assert shipment.shipped_at is not None


def test_product_ratings_are_what_their_reviews_say(seeded, ctx):
    """Counters recomputed as the reviews service does (approved reviews, half-up to 0.01)."""
    a = seeded["a"]
    with tenant_scope(a):
        summary = {
            product_id: (count, avg)
            for product_id, count, avg in db.session.execute(
                select(Review.product_id, func.count(Review.id), func.avg(Review.rating))
                .where(Review.status == "approved")
                .group_by(Review.product_id)
            ).all()
        }
        products = db.session.execute(
            select(Product.id, Product.rating_count, Product.rating_avg)
        ).all()
        verified = db.session.execute(
            select(CustomerProfile.user_id, Review.product_id)
            .join(CustomerProfile, CustomerProfile.id == Review.customer_id)
            .where(Review.verified_purchase.is_(True))
        ).all()
        assert verified, "customers reviewed what the history delivered to them"
        assert all(bought(user_id, product_id) for user_id, product_id in verified)
        statuses = set(db.session.scalars(select(Review.status)).all())
    assert sum(1 for _, count, _ in products if count) > N_PRODUCTS // 3
    for product_id, count, avg in products:
        expected_count, expected_avg = summary.get(product_id, (0, 0))
        expected = Decimal(str(expected_avg or 0)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert (count, avg) == (expected_count, expected), product_id
    assert "approved" in statuses


def test_the_history_lies_in_the_past_months_and_reads_consistently(seeded, ctx):
    """The services stamped what they wrote with the seeding's clock; the history then moved it
    into the past: six months of orders, each timeline in order, numbers dated by placement."""
    a = seeded["a"]
    now = utcnow()
    with tenant_scope(a):
        orders = db.session.scalars(select(Order)).all()
        events = db.session.scalars(select(OrderEvent).order_by(OrderEvent.id)).all()
        subs = db.session.scalars(select(SubOrder)).all()
        references = db.session.scalars(
            select(StockMovement.reference).where(StockMovement.reason != "receipt")
        ).all()
        shipments = db.session.scalars(select(Shipment)).all()
        lines = db.session.scalar(select(func.count(OrderLine.id)))
    by_id = {o.id: o for o in orders}
    oldest = now - dt.timedelta(days=HISTORY_DAYS + 1)
    assert all(oldest < o.created_at <= now for o in orders)
    assert (now - min(o.created_at for o in orders)).days > 30  # not all of it this month
    assert lines >= len(orders)
    for o in orders:
        assert o.number.startswith(o.created_at.strftime("%y%m%d-")), o.number
        assert o.created_at <= o.updated_at <= now
        if o.paid_at is not None:
            assert o.created_at <= o.paid_at <= now
        if o.status == "pending":  # placed minutes ago: the reservation still runs
            assert o.reservation_expires_at > now
    for sub in subs:
        assert sub.number.startswith(by_id[sub.order_id].number + "-")
    last: dict[int, dt.datetime] = {}
    for e in events:
        order = by_id[e.order_id]
        assert order.created_at <= e.created_at <= now, (order.number, e.to_status)
        assert e.created_at >= last.get(e.order_id, e.created_at), (order.number, e.to_status)
        last[e.order_id] = e.created_at
    numbers = {o.number for o in orders} | {s.number for s in subs}
    for reference in references:  # the ledger names orders by their (dated) numbers
        kind, _, rest = reference.partition(":")
        assert kind in ("order", "refund") and rest.split(":")[0] in numbers, reference
    for shipment in shipments:
        assert by_id[shipment.order_id].paid_at <= shipment.shipped_at <= now


def test_the_seller_ledger_is_dated_by_the_history_some_money_available_some_pending(seeded, ctx):
    """The ledger is append-only, so the history writes it dated (admin.demo.history._write_ledger):
    each paid sub-order's sale when it was paid, each delivery's release when it was delivered
    (available the hold period later), each refund when it was decided. So the demo's sellers see
    money available (deliveries older than the hold period) and money pending (sub-orders not
    delivered yet, or delivered within it), and a statement reads in date order."""
    a = seeded["a"]
    now = utcnow()
    with tenant_scope(a):
        hold = dt.timedelta(days=payout_settings().hold_days)
        entries = db.session.scalars(select(SellerLedgerEntry).order_by(SellerLedgerEntry.id)).all()
        releases = db.session.scalars(select(SellerLedgerRelease)).all()
        paid_at = dict(
            db.session.execute(
                select(OrderEvent.sub_order_id, func.min(OrderEvent.created_at))
                .where(OrderEvent.to_status == "paid", OrderEvent.sub_order_id.is_not(None))
                .group_by(OrderEvent.sub_order_id)
            ).all()
        )
        delivered_at = dict(
            db.session.execute(
                select(OrderEvent.sub_order_id, func.min(OrderEvent.created_at))
                .where(OrderEvent.to_status == "delivered", OrderEvent.sub_order_id.is_not(None))
                .group_by(OrderEvent.sub_order_id)
            ).all()
        )
        sellers = db.session.scalars(select(SellerProfile.id)).all()
        balances = [b for seller_id in sellers for b in statements.balances(seller_id)]
    assert entries and releases
    # every paid sub-order has its sale, dated when it was paid; every delivery its release
    sales = {e.sub_order_id: e.created_at for e in entries if e.kind == "sale"}
    assert set(sales) == set(paid_at)
    for sub_order_id, at in sales.items():
        assert at == paid_at[sub_order_id]
    assert {r.sub_order_id: r.delivered_at for r in releases} == delivered_at
    assert all(r.available_at - r.delivered_at == hold for r in releases)
    # ids follow dates (a statement's running balance reads in order), all of it in the past
    stamps = [e.created_at for e in entries]
    assert stamps == sorted(stamps) and stamps[-1] <= now
    assert (now - stamps[0]).days > 30
    # some money available, some still pending
    assert any(r.available_at <= now for r in releases)
    assert sum(b.available for b in balances) > 0 and sum(b.pending for b in balances) > 0


def test_promotions_were_redeemed_and_carts_are_open(seeded, ctx):
    a, history = seeded["a"], seeded["order_ids"]  # not the orders other tests place now
    with tenant_scope(a):
        promotions = db.session.scalars(select(Promotion)).all()
        redemptions = Counter(db.session.scalars(select(PromotionRedemption.promotion_id)).all())
        placed = dict(
            db.session.execute(
                select(PromotionRedemption.id, Order.created_at)
                .join(Order, Order.id == PromotionRedemption.order_id)
                .where(Order.id.in_(history))
            ).all()
        )
        stamped = dict(
            db.session.execute(
                select(PromotionRedemption.id, PromotionRedemption.created_at).where(
                    PromotionRedemption.order_id.in_(history)
                )
            ).all()
        )
        open_carts = db.session.scalar(select(func.count(func.distinct(CartItem.cart_id))))
        sellers_own = [p for p in promotions if p.funded_by == "seller"]
    assert len(promotions) >= 4 and sellers_own
    assert sum(redemptions.values()) > 0
    for p in promotions:
        assert p.uses_count == redemptions[p.id], p.name
    assert placed == stamped  # redeemed as the order was placed
    runs = {p.id: (p.starts_at, p.ends_at) for p in promotions}
    with tenant_scope(a):
        used = db.session.execute(
            select(PromotionRedemption.promotion_id, PromotionRedemption.created_at)
        ).all()
    for promotion_id, at in used:  # while the promotion ran
        starts, ends = runs[promotion_id]
        assert (starts is None or starts <= at) and (ends is None or at < ends)
    assert open_carts >= 1


def test_the_history_is_planned_the_same_for_the_same_seed(seeded, ctx):
    a, now = seeded["a"], dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone.utc)
    coupons = {
        "WELCOME10": _Coupon(now - dt.timedelta(days=365), first_order=True),
        "WINTER20": _Coupon(now - dt.timedelta(days=10)),
    }

    def plan(seed_value):
        with tenant_scope(a):
            shop = _Shop(a, "US", random.Random(seed_value), now)
            return [
                (p.fate, p.at, [(v.id, q) for v, q in p.items], p.method, p.coupon, p.reviews)
                for p in _plans(shop, 40, coupons)
            ]

    first = plan(3)
    assert first == plan(3)
    assert first != plan(4)
    assert {fate for fate, *_ in first} == set(FATES)


def test_few_stock_rows_are_low_so_a_seller_sees_a_handful_of_alerts(seeded, ctx):
    """A shop restocks before it runs out: only a few rows in a thousand are seeded out of stock
    or at their reorder point, the rest hold weeks of sales above it, so the history's orders do
    not push them under either. (The default demo's biggest seller had 704 open alerts.)"""
    with tenant_scope(seeded["a"]):
        rows = db.session.scalar(
            select(func.count(StockLevel.id))
            .join(ProductVariant, ProductVariant.id == StockLevel.variant_id)
            .join(Product, Product.id == ProductVariant.product_id)
            .where(Product.status == "active")
        )
        alerts = db.session.scalar(
            select(func.count(LowStockAlert.id)).where(LowStockAlert.resolved_at.is_(None))
        )
        healthy = db.session.scalar(
            select(func.count(StockLevel.id)).where(
                StockLevel.quantity_on_hand - StockLevel.quantity_reserved
                >= 2 * StockLevel.reorder_point
            )
        )
    assert rows > 50
    assert alerts <= max(2, rows // 50), (alerts, rows)
    assert healthy >= rows * 0.9


def test_a_demo_started_again_later_has_bank_transfers_waiting_again(seeded, app):
    """The demo's unpaid orders are bank transfers waiting for an admin to mark the money
    received: an order paid by hand waits ORDER_PAY_BY_HAND_DAYS (a card order's 30 minutes
    would have cancelled them soon after `make run`). Once the reservation cron has cancelled
    them, as any unpaid order, `flask seed --if-empty` (what `make run` runs) places a few new
    ones, so the order desk shows orders waiting however late the demo is started again; its
    counters say what it added. Runs last: it cancels the module's pending orders."""
    slug_a, a = seeded["slug_a"], seeded["a"]
    days = app.config["ORDER_PAY_BY_HAND_DAYS"]
    with app.app_context():
        with tenant_scope(a):
            waiting = db.session.scalars(
                select(Order).where(
                    Order.status == "pending", Order.id.in_(seeded["order_ids"])
                )  # the history's, not the orders other tests place now
            ).all()
            assert waiting and {o.payment_method for o in waiting} == {"bank_transfer"}
            assert all(
                o.reservation_expires_at > utcnow() + dt.timedelta(days=days - 2) for o in waiting
            )
        db.session.remove()
        # a week and more later: the cron has cancelled them
        later = utcnow() + dt.timedelta(days=days, hours=1)
        while expire_unpaid(now=later, tenant_id=a):
            pass
        with tenant_scope(a):
            assert not db.session.scalar(
                select(func.count(Order.id)).where(Order.status == "pending")
            )
        before = _count(Order.__table__, a)
        report = seed(5, tenant=slug_a, second_tenant=None, if_empty=True, orders=N_ORDERS)
        (result,) = report.tenants
        assert result.skipped and result.failures == []
        assert result.created["orders"] == WAITING_ORDERS == _count(Order.__table__, a) - before
        assert result.created["payments"] == WAITING_ORDERS
        now = utcnow()
        with tenant_scope(a):
            fresh = db.session.scalars(select(Order).where(Order.status == "pending")).all()
            assert len(fresh) == WAITING_ORDERS
            for order in fresh:
                assert order.payment_method == "bank_transfer"
                assert order.reservation_expires_at > now + dt.timedelta(days=days - 2)
                assert order.created_at <= now
                (payment,) = db.session.scalars(
                    select(Payment).where(Payment.order_id == order.id)
                ).all()
                assert (payment.method, payment.status) == ("bank_transfer", "pending")
            held = db.session.scalar(
                select(func.count(StockReservation.id)).where(
                    StockReservation.order_id.in_([o.id for o in fresh]),
                    StockReservation.status == ReservationStatus.HELD,
                )
            )
            assert held >= WAITING_ORDERS
        db.session.remove()
        # started again while they wait: nothing is added
        report = seed(5, tenant=slug_a, second_tenant=None, if_empty=True, orders=N_ORDERS)
        assert sum(report.created.values()) == 0
        db.session.remove()
