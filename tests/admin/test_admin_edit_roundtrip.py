"""Saving an admin edit form unchanged changes nothing.

Every registered ModelView that has an edit form is opened, for each role whose permissions (in the
database, as `flask init` wrote them) allow editing it, on every row of a shop that role can open;
the rendered form is read as a browser reads it, posted back unchanged, and must be saved (a
redirect with FAB's success message, no error) without changing the row or writing an audit row.
Decimal columns hold values at their full scale (a 0.0725 tax rate, a 0.065 commission, a 0.307 kg
weight), datetimes have seconds, texts have several lines, optional columns are left empty.

A view added later is covered without editing this test; one with an edit form but no row here to
test fails it (add a row to `editable_shop`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask import url_for
from flask_appbuilder import ModelView
from flask_appbuilder.security.sqla.models import Group
from sqlalchemy import func, inspect, select
from werkzeug.datastructures import MultiDict

from app.catalog.models import (
    Attribute,
    Category,
    Product,
    ProductAttributeValue,
    ProductImage,
    ProductVariant,
)
from app.commissions.models import CommissionRule
from app.core.tenancy import tenant_scope, unscoped
from app.customers.models import CustomerProfile
from app.extensions import db
from app.inventory.models import Warehouse
from app.payments.models import PaymentMethodSetting
from app.payouts.models import PayoutSettings
from app.promotions.models import Promotion
from app.purchasing.models import DRAFT
from app.reviews.models import Review
from app.reviews.services import sync_product_rating
from app.security import roles
from app.security.models import AuditLog
from app.sellers.models import KycRequirement, SellerProfile
from app.shipping.models import ShippingMethod, ShippingRateBracket, ShippingZone
from app.tax.models import TaxRule, TaxSettings
from app.tenants.models import Tenant
from tests.builders.admin import BrowserForm, login
from tests.builders.banking import ABA, bank_account
from tests.builders.purchasing import purchase_order_rows

pytestmark = pytest.mark.smoke

EDITOR_ROLES = (roles.ADMIN, roles.SELLER, roles.SUPER_ADMIN)
TWO_LINES = "First line of the text.\nSecond line, after a line break."


# --- reading a form as a browser submits it ------------------------------------------------------


# --- the shop: a row for every editable view, at full scale ---------------------------------------


def db_category(app, tenant_id, product_id) -> int:
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.get(Product, product_id).category_id


def _add(app, tenant_id, *objects):
    with app.app_context(), tenant_scope(tenant_id):
        db.session.add_all(objects)
        db.session.commit()
        return [o.id for o in objects]


@pytest.fixture
def editable_shop(app, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    seller, other_seller = factory.seller(tenant), factory.seller(tenant)
    product = factory.product(seller, price="12.50", description=TWO_LINES)
    factory.product(other_seller)
    customer = factory.customer(tenant)
    tid = tenant.id
    with app.app_context(), tenant_scope(tid):
        profile = db.session.get(SellerProfile, seller.id)
        profile.commission_rate, profile.description = Decimal("0.065"), TWO_LINES
        variant = db.session.get(ProductVariant, product.variant_id)
        variant.weight_kg, variant.compare_at_price = Decimal("0.307"), Decimal("14.90")
        customer_profile = db.session.get(CustomerProfile, customer.id)
        customer_profile.date_of_birth, customer_profile.loyalty_points = dt.date(1990, 5, 17), 120
        db.session.commit()
    (attribute_id,) = _add(app, tid, Attribute(code="material", name="Material"))
    _add(
        app,
        tid,
        Review(
            product_id=product.id, customer_id=customer.id, rating=4, title="Solid", body=TWO_LINES
        ),
    )
    with app.app_context(), tenant_scope(tid):
        sync_product_rating(
            product.id
        )  # the product's rating summary counts the review, as the service keeps it
        db.session.commit()
    _add(
        app,
        tid,
        ProductAttributeValue(product_id=product.id, attribute_id=attribute_id, value="Oak"),
        ProductImage(
            product_id=product.id, variant_id=product.variant_id, url="https://img.example/1.jpg"
        ),
        PaymentMethodSetting(
            method="bank_transfer", display_name="Bank transfer", instructions=TWO_LINES
        ),
        TaxRule(name="Sales tax US-CA", country="US", region="CA", rate=Decimal("0.0725")),
        KycRequirement(business_type="company", document_type="company_register"),
        TaxRule(name="VAT FR", country="FR", rate=Decimal("0.2000"), priority=1),
        TaxSettings(prices_include_tax=True),
        CommissionRule(
            name="Seller in its category",
            seller_id=seller.id,
            category_id=db_category(app, tid, product.id),
            rate=Decimal("0.0725"),
            fixed_amount=Decimal("0.30"),
            currency="USD",
            fixed_per="order",
            valid_from=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
        ),
        CommissionRule(name="Platform default", rate=Decimal("0.1000")),
        PayoutSettings(hold_days=14, minimum_payout=Decimal("25.50")),
        Promotion(
            name="Seller sale",
            description=TWO_LINES,
            kind="percentage",
            value=Decimal("12.50"),
            min_subtotal=Decimal("25.00"),
            funded_by="seller",
            seller_id=seller.id,
            starts_at=dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
            ends_at=dt.datetime(2030, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc),
        ),
        Promotion(
            name="Platform coupon",
            kind="fixed_amount",
            value=Decimal("5.05"),
            code="SAVE5",
            product_ids=[product.id],
            usage_limit=100,
        ),
    )
    # one default and one other account (a US account number with its routing number)
    bank_account(app, seller, holder=TWO_LINES.splitlines()[0])
    bank_account(
        app, seller, iban=None, account_number="000123456789", routing_number=ABA, country="US"
    )
    (zone_id,) = _add(app, tid, ShippingZone(name="Domestic", areas="US, US-CA"))
    (method_id,) = _add(
        app,
        tid,
        ShippingMethod(
            zone_id=zone_id,
            name="By weight",
            rate_type="weight",
            min_days=2,
            max_days=5,
            free_over=Decimal("99.95"),
        ),
    )
    _add(
        app,
        tid,
        ShippingRateBracket(
            method_id=method_id,
            min_value=Decimal("0.125"),
            max_value=Decimal("2.500"),
            rate=Decimal("4.95"),
        ),
        ShippingMethod(
            zone_id=zone_id, name="Flat", seller_id=seller.id, flat_rate=Decimal("6.90")
        ),
    )
    with app.app_context(), unscoped():
        group = Group(name=f"Group {tenant.slug}", label="Night shift", description=None)
        db.session.add(group)
        db.session.commit()
    # a supplier and a draft purchase order of the seller (only drafts are editable)
    with app.app_context(), tenant_scope(tid):
        purchase_order_rows(seller.id, product.variant_id, product.warehouse_id, status=DRAFT)
    # a neighbour storefront using the same product slug and coupon code, with tax settings of its
    # own: a Super Admin (who reads every tenant) saving the shop's rows must not trip over them
    neighbour = factory.tenant()
    twin = factory.product(factory.seller(neighbour))
    with app.app_context(), unscoped():
        slug = db.session.get(Product, product.id).slug
        db.session.get(Product, twin.id).slug = slug
        db.session.commit()
    _add(
        app,
        neighbour.id,
        Promotion(
            name="Neighbour coupon", kind="fixed_amount", value=Decimal("1.00"), code="SAVE5"
        ),
        TaxSettings(prices_include_tax=False),
    )
    return SimpleNamespace(
        tenant=tenant,
        users={
            roles.ADMIN: (admin.username, None),
            roles.SELLER: (seller.user.username, None),
            roles.SUPER_ADMIN: (app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"]),
        },
    )


# --- helpers -----------------------------------------------------------------------------------


def editable_views(app) -> list[ModelView]:
    return [
        view
        for view in app.appbuilder.baseviews
        if isinstance(view, ModelView) and "can_edit" in (view.base_permissions or [])
    ]


def roles_that_edit(app, view) -> list[str]:
    """The roles whose permissions in the database allow `can_edit` on the view."""
    sm = app.appbuilder.sm
    with app.app_context(), unscoped():
        out = []
        for name in EDITOR_ROLES:
            pairs = {
                (pv.permission.name, pv.view_menu.name) for pv in sm.find_role(name).permissions
            }
            if ("can_edit", view.class_permission_name) in pairs:
                out.append(name)
        return out


def candidate_pks(app, model, tenant_id) -> list:
    """The rows of the shop's tenant (the tenant itself for Tenant; every row of a table that has
    no tenant, such as roles)."""
    pk = inspect(model).primary_key[0]
    stmt = select(pk).order_by(pk)
    if model is Tenant:
        stmt = stmt.where(Tenant.id == tenant_id)
    elif "tenant_id" in inspect(model).columns:
        stmt = stmt.where(inspect(model).columns["tenant_id"] == tenant_id)
    with app.app_context(), unscoped():
        return list(db.session.scalars(stmt))


def snapshot(app, model, pk) -> dict:
    """Every column of the row, and the ids on the other side of its many-to-many relations."""
    with app.app_context(), unscoped():
        obj = db.session.get(model, pk)
        mapper = inspect(model)
        values = {attr.key: getattr(obj, attr.key) for attr in mapper.column_attrs}
        for rel in mapper.relationships:
            if rel.secondary is not None:
                values[rel.key] = sorted(inspect(o).identity for o in getattr(obj, rel.key))
        db.session.rollback()
        return values


def last_audit_id(app) -> int:
    with app.app_context(), unscoped():
        return db.session.scalar(select(func.coalesce(func.max(AuditLog.id), 0)))


def take_flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.pop("_flashes", []))


def edit_url(app, view, pk) -> str:
    with app.test_request_context():
        return url_for(f"{view.endpoint}.edit", pk=pk)


def save_unchanged(app, client, view, pk) -> tuple[list[str], bool]:
    """Open the edit form of row `pk`, post it back as rendered; the problems seen, and whether
    the role could open the row at all (a 404 is a row it may not see)."""
    model = view.datamodel.obj
    url = edit_url(app, view, pk)
    page = client.get(url)
    if page.status_code == 404:
        return [], False
    if page.status_code != 200:
        return [f"GET {url}: {page.status_code}"], True
    form = BrowserForm(page.get_data(as_text=True))
    if form.blocked:  # the browser would not even send it
        return [
            f"GET {url}: required but empty, the browser refuses to send the form: {form.blocked}"
        ], True
    take_flashes(client)
    before, audit_before = snapshot(app, model, pk), last_audit_id(app)
    response = client.post(url, data=MultiDict(form.pairs))
    problems = []
    flashes = take_flashes(client)
    if response.status_code != 302:
        body = response.get_data(as_text=True)
        errors = [
            line.strip()
            for line in body.splitlines()
            if "alert-danger" in line or "error" in line.lower()
        ]
        problems.append(f"POST {url}: {response.status_code} (not saved) {errors[:5]}")
    refused = [message for category, message in flashes if category != "success"]
    if refused:
        problems.append(f"POST {url}: {refused}")
    elif response.status_code == 302 and not flashes:
        problems.append(f"POST {url}: no 'Changed Row' message")
    after = snapshot(app, model, pk)
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    if changed:
        problems.append(f"{model.__name__} {pk} changed: {changed}")
    with app.app_context(), unscoped():
        audit = db.session.scalars(select(AuditLog).where(AuditLog.id > audit_before)).all()
        if audit:
            problems.append(
                f"audit rows written: {[(a.entity, a.entity_id, a.before, a.after) for a in audit]}"
            )
    return problems, True


# --- the test ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", EDITOR_ROLES)
def test_every_edit_form_saved_unchanged_changes_nothing(app, editable_shop, role):
    """Each role on a shop of its own, so what one role's saves did cannot hide another's."""
    shop = editable_shop
    views = editable_views(app)
    assert len(views) > 20, "the views were not discovered"
    username, password = shop.users[role]
    client = login(app, shop.tenant.slug, username, *([password] if password else []))[0]
    problems: list[str] = []
    tested = 0
    for view in views:
        if role not in roles_that_edit(app, view):
            continue
        opened = 0
        for pk in candidate_pks(app, view.datamodel.obj, shop.tenant.id):
            found, could_open = save_unchanged(app, client, view, pk)
            opened += could_open
            problems += [f"{type(view).__name__}: {p}" for p in found]
        if not opened:
            problems.append(f"{type(view).__name__}: no row to test (add one to editable_shop)")
        tested += opened
    assert not problems, "\n".join(problems)
    assert tested >= 8


# --- what the issue named, one by one ----------------------------------------------------------


def _readonly_text(html: str, field_id: str) -> str | None:
    """The text of the read-only display of `field_id`, or None when there is none."""
    import re

    found = re.search(
        rf'<p class="form-control-static market-readonly" id="{field_id}">(.*?)</p>', html, re.S
    )
    return None if found is None else re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_seller_edits_its_profile_and_cannot_touch_commission_or_status(app, factory):
    """A seller with a 3-decimal commission saves its own profile: the commission is shown as text,
    not an input, the status is on no edit form (it moves only through the seller page's steps,
    app.sellers.onboarding), and a post that carries them anyway changes neither."""
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    with app.app_context(), tenant_scope(tenant.id):
        db.session.get(SellerProfile, seller.id).commission_rate = Decimal("0.065")
        db.session.commit()
    client, _ = login(app, tenant.slug, seller.user.username)
    url = f"/admin/sellers/edit/{seller.id}"
    html = client.get(url).get_data(as_text=True)
    form = BrowserForm(html)
    assert "commission_rate" not in form.names and "status" not in form.names
    assert {"store_name", "description", "contact_email"} <= set(form.names)
    assert _readonly_text(html, "commission_rate") == "0.0650"

    data = MultiDict(form.pairs)
    data["store_name"] = ""
    refused = client.post(url, data=data).get_data(as_text=True)  # back with an error: still shown
    assert (
        "This field is required." in refused
        and _readonly_text(refused, "commission_rate") == "0.0650"
    )
    data["store_name"] = dict(form.pairs)["store_name"]
    data["description"] = "Hand-made lamps since 1990."
    data["commission_rate"], data["status"] = "0.0100", "suspended"  # forged: not in the form
    take_flashes(client)
    response = client.post(url, data=data)
    assert response.status_code == 302
    assert [category for category, _ in take_flashes(client)] == ["success"]
    with app.app_context(), tenant_scope(tenant.id):
        profile = db.session.get(SellerProfile, seller.id)
        assert (profile.description, profile.commission_rate, profile.status) == (
            "Hand-made lamps since 1990.",
            Decimal("0.0650"),
            "approved",
        )

    # an Admin still edits both, at the column's scale
    admin = factory.user(tenant, roles.ADMIN)
    admin_client, _ = login(app, tenant.slug, admin.username)
    html = admin_client.get(url).get_data(as_text=True)
    assert _readonly_text(html, "commission_rate") is None
    data = MultiDict(BrowserForm(html).pairs)
    assert data["commission_rate"] == "0.0650"
    data["commission_rate"] = "0.0725"
    assert admin_client.post(url, data=data).status_code == 302
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.get(SellerProfile, seller.id).commission_rate == Decimal("0.0725")


def test_seller_cannot_move_its_product_or_warehouse_to_another_store(app, factory):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    product = factory.product(seller)
    client, _ = login(app, tenant.slug, seller.user.username)
    for url, model, pk in (
        (f"/admin/products/edit/{product.id}", Product, product.id),
        (f"/admin/warehouses/edit/{product.warehouse_id}", Warehouse, product.warehouse_id),
    ):
        html = client.get(url).get_data(as_text=True)
        form = BrowserForm(html)
        assert "seller" not in form.names and _readonly_text(html, "seller") == seller.store_name
        data = MultiDict(form.pairs)
        data["seller"] = str(other.id)  # forged
        take_flashes(client)
        assert client.post(url, data=data).status_code == 302
        assert [category for category, _ in take_flashes(client)] == ["success"]
        with app.app_context(), tenant_scope(tenant.id):
            assert db.session.get(model, pk).seller_id == seller.id


def test_decimals_render_at_the_columns_scale_and_more_digits_are_refused(app, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    product = factory.product(factory.seller(tenant), price="12.50")
    (rule_id,) = _add(
        app,
        tenant.id,
        TaxRule(name="Sales tax US-CA", country="US", region="CA", rate=Decimal("0.0725")),
    )
    with app.app_context(), tenant_scope(tenant.id):
        db.session.get(ProductVariant, product.variant_id).weight_kg = Decimal("0.307")
        db.session.commit()
    client, _ = login(app, tenant.slug, admin.username)

    variant_url = f"/admin/variants/edit/{product.variant_id}"
    variant_form = MultiDict(BrowserForm(client.get(variant_url).get_data(as_text=True)).pairs)
    assert [variant_form[name] for name in ("price", "weight_kg", "compare_at_price")] == [
        "12.50",
        "0.307",
        "",
    ]

    url = f"/admin/tax-rules/edit/{rule_id}"
    form = MultiDict(BrowserForm(client.get(url).get_data(as_text=True)).pairs)
    assert form["rate"] == "0.0725"
    audit_before = last_audit_id(app)
    for rate, message in (
        ("0.07251", "Rate takes at most 4 decimal places: 0.07251 has 5."),
        ("123.5", "Rate must be less than 100 (2 digits before the decimal point)."),
        ("NaN", "Rate: not a number."),
    ):
        form["rate"] = rate
        response = client.post(url, data=form)
        assert response.status_code == 200 and message in response.get_data(as_text=True), rate
    for price, message in (("12.505", "Price takes at most 2 decimal places: 12.505 has 3."),):
        variant_form["price"] = price
        response = client.post(variant_url, data=variant_form)
        assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert last_audit_id(app) == audit_before
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.get(TaxRule, rule_id).rate == Decimal("0.0725")
        assert db.session.get(ProductVariant, product.variant_id).price == Decimal("12.50")

    form["rate"] = "0.07250"  # the same number: saved, nothing changes
    assert client.post(url, data=form).status_code == 302
    assert last_audit_id(app) == audit_before
    form["rate"] = "0.0875"
    assert client.post(url, data=form).status_code == 302
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.get(TaxRule, rule_id).rate == Decimal("0.0875")


def test_promotion_datetimes_are_shown_and_read_in_utc(app, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    starts = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    (promotion_id,) = _add(
        app,
        tenant.id,
        Promotion(name="Winter sale", kind="percentage", value=Decimal("10.00"), starts_at=starts),
    )
    client, _ = login(app, tenant.slug, admin.username)
    url = f"/admin/promotions/edit/{promotion_id}"
    html = client.get(url).get_data(as_text=True)
    form = MultiDict(BrowserForm(html).pairs)
    assert (form["starts_at"], form["ends_at"]) == ("2030-01-02 03:04:05", "")
    assert 'class="input-group-addon">UTC<' in html and "appbuilder_datetime" not in html
    form["ends_at"] = "2030-01-09T06:00:00+02:00"  # an offset is converted
    assert client.post(url, data=form).status_code == 302
    form["starts_at"] = "next monday"
    refused = client.post(url, data=form)
    assert (
        refused.status_code == 200
        and "Not a date and time: use YYYY-MM-DD HH:MM:SS (UTC)." in refused.get_data(as_text=True)
    )
    with app.app_context(), tenant_scope(tenant.id):
        promotion = db.session.get(Promotion, promotion_id)
        assert (promotion.starts_at, promotion.ends_at) == (
            starts,
            dt.datetime(2030, 1, 9, 4, 0, tzinfo=dt.timezone.utc),
        )


def test_optional_columns_and_checkboxes_can_be_left_empty(app, factory):
    """A slug the view makes from the name, and an unticked checkbox, are not `required`: the browser
    sends the form with them empty, and the save fills the slug in."""
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    (category_id,) = _add(app, tenant.id, Category(name="Desk lamps", slug="old-slug"))
    client, _ = login(app, tenant.slug, admin.username)
    url = f"/admin/categories/edit/{category_id}"
    html = client.get(url).get_data(as_text=True)
    form = BrowserForm(html)
    assert form.required == ["name", "position"]  # not the slug, not the checkbox
    assert '<option selected value="__None">—</option>' in html  # no parent, shown as such
    data = MultiDict([(k, v) for k, v in form.pairs if k != "is_active"])  # unticked
    data["slug"] = ""
    assert client.post(url, data=data).status_code == 302
    with app.app_context(), tenant_scope(tenant.id):
        category = db.session.get(Category, category_id)
        assert (category.slug, category.is_active) == ("desk-lamps", False)
