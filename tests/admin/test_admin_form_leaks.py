"""No admin page offers a Seller another seller's rows, nor any row of another tenant.

FAB fills the select boxes of a view's add and edit forms, and of its list page's "Search" filters,
with rows of the related tables; search-as-you-type selects (MarketModelView.ajax_related) get them
from `<view>/related/<column>/`. A select that is not scoped (related_scopes, or no relation in the
search form) lists every row of the tenant: another seller's products, warehouses, customers, orders.

The views are discovered from what the Seller role may list (FAB's permissions, as `flask init`
grants them from admin/roles.py), so a view added later is checked without touching this file. For
each one, seller A opens the list page, the add form (if it may add) and the edit form of one of its
own rows (if it may edit), and calls every AJAX endpoint of the view. Nothing may name (by text) or
carry (by option value or result id) a row owned by seller B of the same tenant, or any row of
another tenant. Shared reference data of the tenant (categories, brands, attributes, platform
warehouses and shipping zones) is not a leak; in the other tenant, everything is. The tenant's
Admin walks every view it may list the same way, for rows of the other tenant (FAB's own views
included: the roles page's user select once listed every tenant's users).
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask_appbuilder import ModelView
from sqlalchemy import select

from admin.base import MarketModelView
from app.catalog.models import (
    Attribute,
    Brand,
    Category,
    Product,
    ProductAttributeValue,
    ProductImage,
    ProductVariant,
)
from app.core.tenancy import tenant_scope, unscoped
from app.customers.models import Address, CustomerProfile
from app.extensions import db
from app.inventory import services as inventory
from app.inventory.models import Warehouse
from app.orders.models import Order, RefundRequest, SubOrder
from app.payments.models import Payment, PaymentTransaction, Refund
from app.promotions.models import Promotion
from app.reviews import services as review_services
from app.reviews.inputs import NewReview
from app.reviews.models import Review
from app.security import roles
from app.security.models import User
from app.sellers.actors import actor_for
from app.sellers.models import SellerProfile
from app.shipping.models import ShippingMethod, ShippingZone
from tests.builders.admin import login
from tests.builders.auth import api_headers
from tests.builders.banking import bank_account
from tests.builders.orders import CARD_OK, configure_pricing, patch, place, sub_of
from tests.builders.purchasing import purchase_order_rows

pytestmark = pytest.mark.smoke  # a few seconds, on SQLite too

NEIGHBOUR = "Neighbourleak"  # seller B, same tenant
FOREIGN = "Foreignleak"  # the other tenant
MINE = "Ownrow"


def _holdings(app, client, factory, tenant, tag: str) -> SimpleNamespace:
    """A seller with a product (variant, stock, warehouse, image, attribute value, ledger row and
    low-stock alert), a promotion, its own shipping method, and a customer of its own who reviewed
    the product and ordered it (paid, shipped with a label). Everything nameable carries `tag`."""
    seller = factory.seller(tenant)
    product = factory.product(seller, title=f"{tag} Lantern", stock=4)
    customer = factory.customer(tenant)
    uid = uuid.uuid4().hex[:6]
    with app.app_context(), tenant_scope(tenant.id):
        db.session.get(SellerProfile, seller.id).store_name = f"{tag} Store {uid}"
        variant = db.session.get(ProductVariant, product.variant_id)
        variant.sku, variant.title = f"{tag.upper()}-{uid}", f"{tag} XL"
        warehouse = db.session.get(Warehouse, product.warehouse_id)
        warehouse.name, warehouse.code = f"{tag} Depot", f"{tag.upper()[:6]}{uid}"
        user = db.session.get(User, customer.user_id)
        user.first_name, user.last_name, user.email = (
            tag,
            f"{tag}son",
            f"{tag.lower()}-{uid}@example.com",
        )
        db.session.get(Address, customer.address_id).full_name = f"{tag} Buyer"
        attribute = Attribute(code=f"m{uid}", name=f"Material {uid}")  # shared reference data
        db.session.add(attribute)
        db.session.flush()
        db.session.add_all(
            [
                ProductAttributeValue(
                    product_id=product.id, attribute_id=attribute.id, value=f"{tag} oak"
                ),
                ProductImage(
                    product_id=product.id,
                    url=f"https://img.example/{tag}.jpg",
                    alt_text=f"{tag} photo",
                ),
                Promotion(
                    name=f"{tag} Sale",
                    code=f"{tag.upper()}{uid}",
                    kind="percentage",
                    value=Decimal("1"),
                    funded_by="seller",
                    seller_id=seller.id,
                    product_ids=[],
                    category_ids=[],
                    seller_ids=[],
                ),
                ShippingMethod(
                    zone=ShippingZone(name=f"Zone {uid}", areas="ZZ"),
                    name=f"{tag} Courier",
                    seller_id=seller.id,
                    flat_rate=Decimal("1.00"),
                ),
            ]
        )
        db.session.commit()
        # a supplier of its own and a draft purchase order at it (issue 18)
        purchase_order_rows(
            seller.id, product.variant_id, product.warehouse_id, f"{tag} Supplies", "draft"
        )
        inventory.adjust_stock(product.stock_level_id, -2)  # a ledger row and a low-stock alert
        review_services.create_review(
            actor_for(db.session.get(User, customer.user_id)),
            NewReview(product_id=product.id, rating=4, title=f"{tag} review"),
        )
    bank_account(app, seller, holder=f"{tag} Holder")
    h = api_headers(app, customer.user)
    order = place(client, None, h=h, items=[(product.variant_id, 1)], payment=CARD_OK)
    h_seller = api_headers(app, seller.user)
    assert patch(client, h_seller, order["id"], status="processing").status_code == 200
    sub = sub_of(order, seller.id)
    response = client.post(
        "/api/v1/shipping/create-label/", headers=h_seller, json={"sub_order_id": sub["id"]}
    )
    assert response.status_code in (200, 201), response.get_json()
    return SimpleNamespace(seller=seller, product=product, customer=customer, order=order, sub=sub)


def _owned_by(app, tenant_id: int, who: SimpleNamespace) -> dict[type, set[int]]:
    """Rows of the tenant that belong to `who` alone: every row with its seller_id, and what hangs
    off its product, its customer and its order."""
    owned: dict[type, set[int]] = {}
    with app.app_context(), tenant_scope(tenant_id):
        for mapper in db.Model.registry.mappers:
            model = mapper.class_
            if "seller_id" in mapper.columns and "tenant_id" in mapper.columns:
                owned.setdefault(model, set()).update(
                    db.session.scalars(
                        select(mapper.primary_key[0]).where(model.seller_id == who.seller.id)
                    )
                )
        extra = {
            SellerProfile: {who.seller.id},
            Review: select(Review.id).where(Review.product_id == who.product.id),
            ProductImage: select(ProductImage.id).where(ProductImage.product_id == who.product.id),
            ProductAttributeValue: select(ProductAttributeValue.id).where(
                ProductAttributeValue.product_id == who.product.id
            ),
            CustomerProfile: {who.customer.id},
            User: {who.customer.user_id, who.seller.user.id},
            Address: {who.customer.address_id},
            Order: {who.order["id"]},
            Payment: select(Payment.id).where(Payment.order_id == who.order["id"]),
            PaymentTransaction: select(PaymentTransaction.id).where(
                PaymentTransaction.order_id == who.order["id"]
            ),
            Refund: select(Refund.id).where(Refund.order_id == who.order["id"]),
        }
        for model, ids in extra.items():
            owned.setdefault(model, set()).update(
                ids if isinstance(ids, set) else db.session.scalars(ids)
            )
    return owned


def _every_row_of(app, tenant_id: int) -> dict[type, set[int]]:
    rows: dict[type, set[int]] = {}
    with app.app_context(), unscoped():
        for mapper in db.Model.registry.mappers:
            if "tenant_id" in mapper.columns and len(mapper.primary_key) == 1:
                rows[mapper.class_] = set(
                    db.session.scalars(
                        select(mapper.primary_key[0]).where(
                            mapper.columns["tenant_id"] == tenant_id
                        )
                    )
                )
    return rows


@pytest.fixture(scope="module")
def world(app):
    from tests.builders.factories import Factory

    factory = Factory(app)
    client = app.test_client()
    tenant, other = factory.tenant(), factory.tenant()
    for t in (tenant, other):
        configure_pricing(app, t.id)
    mine = _holdings(app, client, factory, tenant, MINE)
    neighbour = _holdings(app, client, factory, tenant, NEIGHBOUR)
    foreign = _holdings(app, client, factory, other, FOREIGN)
    with app.app_context(), tenant_scope(other.id):  # the other tenant's reference data, named too
        for model in (Category, Brand, Attribute, ShippingZone):
            for row in db.session.scalars(select(model)):
                row.name = f"{FOREIGN} {model.__name__} {row.id}"
        db.session.commit()
    # an order of A's customer from both sellers, paid; B cancels its part (refunded to the customer
    # through a refund request of B's sub-order): the order is A's too, B's sub-order and refund are not
    h = api_headers(app, mine.customer.user)
    shared = place(
        client,
        None,
        h=h,
        items=[(mine.product.variant_id, 1), (neighbour.product.variant_id, 1)],
        payment=CARD_OK,
    )
    response = client.post(
        f"/api/v1/orders/{shared['id']}/cancel/", headers=api_headers(app, neighbour.seller.user)
    )
    assert response.status_code == 200, response.get_json()
    forbidden = _owned_by(app, tenant.id, neighbour)
    foreign_rows = _every_row_of(app, other.id)
    with app.app_context(), tenant_scope(tenant.id):
        b_sub = db.session.scalar(
            select(SubOrder).where(
                SubOrder.order_id == shared["id"], SubOrder.seller_id == neighbour.seller.id
            )
        )
        b_requests = set(
            db.session.scalars(
                select(RefundRequest.id).where(RefundRequest.sub_order_id == b_sub.id)
            )
        )
        b_refunds = set(
            db.session.scalars(
                select(RefundRequest.payment_refund_id).where(
                    RefundRequest.sub_order_id == b_sub.id
                )
            )
        )
        b_sub_number = b_sub.number
    assert b_requests and b_refunds - {None}, (
        "B's cancellation was refunded through a refund request"
    )
    forbidden.setdefault(RefundRequest, set()).update(b_requests)
    forbidden.setdefault(Refund, set()).update(b_refunds - {None})
    for model, ids in foreign_rows.items():
        forbidden.setdefault(model, set()).update(ids)
    texts = [
        NEIGHBOUR,
        FOREIGN,
        neighbour.order["number"],
        foreign.order["number"],
        neighbour.sub["number"],
        foreign.sub["number"],
        b_sub_number,
    ]
    return SimpleNamespace(
        tenant=tenant,
        mine=mine,
        neighbour=neighbour,
        foreign=foreign,
        forbidden=forbidden,
        texts=[t.lower() for t in texts],
        foreign_rows=foreign_rows,
        foreign_texts=[t.lower() for t in (FOREIGN, foreign.order["number"])],
        admin=factory.user(tenant, roles.ADMIN),
    )


def views_of(app, role_name: str) -> list[tuple[ModelView, set[str]]]:
    """Every model view `role_name` may list, with the permissions it has on it."""
    with app.app_context():
        role = app.appbuilder.sm.find_role(role_name)
        granted = {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}
    views = []
    for view in app.appbuilder.baseviews:
        if isinstance(view, ModelView) and ("can_list", view.class_permission_name) in granted:
            views.append(
                (view, {perm for perm, name in granted if name == view.class_permission_name})
            )
    return views


def seller_views(app) -> list[tuple[ModelView, set[str]]]:
    return views_of(app, roles.SELLER)


_UNESCAPE = {
    "\\u003c": "<",
    "\\u003e": ">",
    "\\u0026": "&",
    "\\u0027": "'",
    '\\"': '"',
    "\\n": "\n",
}
_SELECT = re.compile(r"<select\b([^>]*)>(.*?)</select>", re.S | re.I)
_OPTION = re.compile(r"<option\b([^>]*)>(.*?)</option>", re.S | re.I)
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')


def _selects(html: str):
    """(field name, [(value, text)]) of every <select>, also those FAB's search widget holds as
    JSON strings in a script (its filter templates)."""
    for escaped, plain in _UNESCAPE.items():
        html = html.replace(escaped, plain)
    for attrs, body in _SELECT.findall(html):
        attrs = dict(_ATTR.findall(attrs))
        name = attrs.get("id") or attrs.get("name") or ""
        options = [
            (dict(_ATTR.findall(a)).get("value", ""), re.sub(r"<[^>]+>", "", text).strip())
            for a, text in _OPTION.findall(body)
        ]
        yield name, options


def _related_model(view: ModelView, field: str):
    field = re.sub(r"^_flt_\d+_", "", field)
    try:
        if view.datamodel.is_relation(field):
            return view.datamodel.get_related_model(field)
    except Exception:  # noqa: BLE001 - not a column of this model: an enum or a filter operator select
        return None
    return None


def _leaks_in_page(view, where: str, html: str, world) -> list[str]:
    leaks = []
    lowered = html.lower()
    for text in world.texts:
        if text in lowered:
            at = lowered.index(text)
            leaks.append(f"{where}: names {text!r}: …{html[max(0, at - 120) : at + 60]!r}…")
    for field, options in _selects(html):
        model = _related_model(view, field)
        if model is None:
            continue
        bad = world.forbidden.get(model, set())
        carried = sorted(int(v) for v, _ in options if v.isdigit() and int(v) in bad)
        if carried:
            leaks.append(f"{where}: select {field!r} offers {model.__name__} ids {carried}")
    return leaks


def _leaks_in_rows(view, where: str, html: str, world) -> list[str]:
    """Rows of the view's own model linked from a list page (show/edit links) that are not A's."""
    bad = world.forbidden.get(view.datamodel.obj, set())
    shown = {
        int(pk) for pk in re.findall(rf"{re.escape(view.route_base)}/(?:show|edit)/(\d+)", html)
    }
    return (
        [f"{where}: lists {view.datamodel.obj.__name__} ids {sorted(shown & bad)}"]
        if shown & bad
        else []
    )


def _leaks_in_ajax(view, client, world) -> list[str]:
    leaks = []
    for column in getattr(view, "ajax_related", {}) or {}:
        model = view.datamodel.get_related_model(column)
        bad = world.forbidden.get(model, set())
        url = f"{view.route_base}/related/{column}/"
        queries = ["", NEIGHBOUR, FOREIGN, *map(str, sorted(bad)[:30])]
        for q in queries:
            response = client.get(url, query_string={"q": q})
            if response.status_code in (403, 404):
                break  # the seller has no select for it
            assert response.status_code == 200, (url, response.status_code)
            for row in response.get_json()["results"]:
                if row["id"] in bad or any(t in row["text"].lower() for t in world.texts):
                    leaks.append(f"{url}?q={q}: {model.__name__} {row['id']} {row['text']!r}")
    return leaks


@pytest.fixture(scope="module")
def seller_client(app, world):
    client, _ = login(app, world.tenant.slug, world.mine.seller.user.username)
    return client


def test_the_views_a_seller_may_list_are_discovered(app):
    from admin.roles import SELLER_VIEWS

    names = {view.__class__.__name__ for view, _ in seller_views(app)}
    # pages that list only the signed-in user's own rows through a service (no model view to walk
    # here): their isolation has its own tests (tests/admin/inbox for My notifications,
    # tests/admin/test_list_exports.py for My exports, tests/storefront_api/test_data_import_api.py
    # for the seller's imports behind Data management, tests/admin/test_analytics_admin.py for the
    # seller's own sales and stock analytics, tests/superset for the BI dashboards' guest tokens)
    own_pages = {
        "MyNotificationsView",
        "DataExportsView",
        "DataManagementView",
        "SalesAnalyticsView",
        "StockAnalyticsView",
        "BIDashboardsView",
    }
    listed = {name for name, perms in SELLER_VIEWS.items() if "can_list" in perms} - own_pages
    assert listed <= names, listed - names  # (FindView, the navbar's search, lists nothing)
    assert all(isinstance(view, MarketModelView) for view, _ in seller_views(app)), (
        "every view uses the base"
    )


def test_the_world_has_something_to_leak(world):
    for model in (
        Product,
        ProductVariant,
        Warehouse,
        SellerProfile,
        Promotion,
        Review,
        CustomerProfile,
        SubOrder,
        ShippingMethod,
    ):
        assert world.forbidden.get(model), model.__name__
    # seller B's rows are in the same tenant as A's: only seller scoping can hide them
    assert world.neighbour.seller.tenant_id == world.mine.seller.tenant_id


def _walk(client, views, world) -> tuple[list[str], list[str]]:
    """Every page of `views` the client may open (list, show and edit of the first row it lists,
    add) and every AJAX select endpoint: what leaks, and which views had a row to edit."""
    leaks, edited = [], []
    for view, perms in views:
        base = view.route_base
        response = client.get(f"{base}/list/")
        assert response.status_code == 200, (base, response.status_code)
        html = response.data.decode()
        leaks += _leaks_in_page(view, f"{base}/list/", html, world)
        leaks += _leaks_in_rows(view, f"{base}/list/", html, world)
        own = re.search(rf"{re.escape(base)}/show/(\d+)", html)
        if own is not None and "can_show" in perms:  # the show page: its related views' lists
            response = client.get(f"{base}/show/{own.group(1)}")
            assert response.status_code == 200, (
                f"{base}/show/{own.group(1)}",
                response.status_code,
            )
            leaks += _leaks_in_page(
                view, f"{base}/show/{own.group(1)}", response.data.decode(), world
            )
        if "can_add" in perms and "can_add" in view.base_permissions:
            response = client.get(f"{base}/add")
            assert response.status_code == 200, (f"{base}/add", response.status_code)
            leaks += _leaks_in_page(view, f"{base}/add", response.data.decode(), world)
        if "can_edit" in perms and "can_edit" in view.base_permissions:
            row = re.search(rf"{re.escape(base)}/edit/(\d+)", html)
            if row is not None:
                response = client.get(f"{base}/edit/{row.group(1)}")
                assert response.status_code == 200, (
                    f"{base}/edit/{row.group(1)}",
                    response.status_code,
                )
                leaks += _leaks_in_page(
                    view, f"{base}/edit/{row.group(1)}", response.data.decode(), world
                )
                edited.append(base)
        leaks += _leaks_in_ajax(view, client, world)
    return leaks, edited


def test_no_page_offers_a_seller_another_sellers_or_tenants_rows(app, world, seller_client):
    views = seller_views(app)
    leaks, edited = _walk(seller_client, views, world)
    assert not leaks, "\n".join(leaks)
    # every view a seller may edit had one of A's rows to open: the world must keep giving it one
    editable = {
        view.route_base
        for view, perms in views
        if "can_edit" in perms and "can_edit" in view.base_permissions
    }
    assert editable and set(edited) == editable, editable - set(edited)


def test_no_page_offers_an_admin_another_tenants_rows(app, world):
    """The tenant's Admin sees both sellers' rows, never one of the other tenant."""
    client, _ = login(app, world.tenant.slug, world.admin.username)
    other_tenant_only = SimpleNamespace(forbidden=world.foreign_rows, texts=world.foreign_texts)
    leaks, edited = _walk(client, views_of(app, roles.ADMIN), other_tenant_only)
    assert not leaks, "\n".join(leaks)
    assert "/admin/products" in edited and "/admin/shipping-methods" in edited
