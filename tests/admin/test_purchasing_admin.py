"""/admin/suppliers and /admin/purchase-orders: a seller works on its own suppliers and their
purchase orders only (lists, pages, forms, steps); a purchase order's page adds lines to a draft,
sends it and receives deliveries into stock, a receipt form sent twice receiving once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.inventory.models import StockLevel
from app.purchasing.models import PurchaseOrder, Supplier
from app.security import roles
from tests.builders.admin import login, scope

SUPPLIERS = "/admin/suppliers"
ORDERS = "/admin/purchase-orders"


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    mine = factory.product(seller, stock=2)
    theirs = factory.product(other, stock=2)
    with scope(app, tenant.id):
        theirs_supplier = Supplier(seller_id=other.id, name="Theirs Supplies", currency="USD")
        db.session.add(theirs_supplier)
        db.session.flush()
        theirs_order = PurchaseOrder(
            number="PO-THEIRS-1",
            supplier_id=theirs_supplier.id,
            seller_id=other.id,
            warehouse_id=theirs.warehouse_id,
            status="draft",
            currency="USD",
        )
        db.session.add(theirs_order)
        db.session.commit()
        ids = theirs_supplier.id, theirs_order.id
    return {
        "tenant": tenant,
        "seller": seller,
        "other": other,
        "admin": admin,
        "mine": mine,
        "theirs": theirs,
        "theirs_supplier": ids[0],
        "theirs_order": ids[1],
    }


def _on_hand(app, shop, stock_id):
    with scope(app, shop["tenant"].id):
        return db.session.get(StockLevel, stock_id).quantity_on_hand


def _seller_makes_an_order(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    made = client.post(
        f"{SUPPLIERS}/add",
        data={"name": "Mine Supplies", "currency": "usd", "is_active": "y"},
    )
    assert made.status_code == 302, made.get_data(as_text=True)[:2000]
    with scope(app, shop["tenant"].id):
        supplier = db.session.scalar(select(Supplier).where(Supplier.name == "Mine Supplies"))
        assert supplier.seller_id == shop["seller"].id and supplier.currency == "USD"
        supplier_id = supplier.id
    made = client.post(
        f"{ORDERS}/add",
        data={
            "supplier": str(supplier_id),
            "warehouse": str(shop["mine"].warehouse_id),
            "notes": "first order",
        },
    )
    assert made.status_code == 302, made.get_data(as_text=True)[:2000]
    with scope(app, shop["tenant"].id):
        order = db.session.scalar(
            select(PurchaseOrder).where(PurchaseOrder.supplier_id == supplier_id)
        )
        assert order.status == "draft" and order.seller_id == shop["seller"].id
        assert order.currency == "USD" and order.number.startswith("PO-")
        return client, order.id


def test_a_seller_orders_sends_and_receives_from_its_page(app, shop):
    client, order_id = _seller_makes_an_order(app, shop)
    page = f"{ORDERS}/show/{order_id}"
    added = client.post(
        f"{ORDERS}/add-line/{order_id}",
        data={"sku": shop["mine"].sku, "quantity": "6", "unit_cost": "1,25"},
    )
    assert added.status_code == 302
    refused = client.post(
        f"{ORDERS}/add-line/{order_id}",
        data={"sku": shop["theirs"].sku, "quantity": "1", "unit_cost": "1"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "no such variant" in refused
    html = client.get(page).get_data(as_text=True)
    assert (
        shop["mine"].sku in html and "Send to supplier" in html and shop["theirs"].sku not in html
    )
    assert client.post(f"{ORDERS}/send/{order_id}").status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Receive into stock" in html and "Add a line" not in html
    key = re.search(r'name="receipt_key" value="([0-9a-f]+)"', html).group(1)
    line_field = re.search(r'name="(line-\d+)"', html).group(1)
    receipt = {"receipt_key": key, line_field: "4", "note": "slip 88"}
    assert client.post(f"{ORDERS}/receive/{order_id}", data=receipt).status_code == 302
    assert _on_hand(app, shop, shop["mine"].stock_level_id) == 6
    again = client.post(f"{ORDERS}/receive/{order_id}", data=receipt, follow_redirects=True)
    assert "nothing was received twice" in again.get_data(as_text=True)
    assert _on_hand(app, shop, shop["mine"].stock_level_id) == 6
    over = client.post(
        f"{ORDERS}/receive/{order_id}",
        data={"receipt_key": "k2", line_field: "5"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "more units than ordered" in over
    assert _on_hand(app, shop, shop["mine"].stock_level_id) == 6
    client.post(
        f"{ORDERS}/receive/{order_id}",
        data={"receipt_key": "k3", line_field: "5", "allow_over_receipt": "y"},
    )
    assert _on_hand(app, shop, shop["mine"].stock_level_id) == 11
    with scope(app, shop["tenant"].id):
        assert db.session.get(PurchaseOrder, order_id).status == "received"
    html = client.get(page).get_data(as_text=True)
    assert "Receipts" in html and "slip 88" in html and "more than ordered" in html
    assert "Receive into stock" not in html and "Send to supplier" not in html


def test_a_seller_never_reaches_another_sellers_suppliers_or_orders(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    assert "Theirs Supplies" not in client.get(f"{SUPPLIERS}/list/").get_data(as_text=True)
    assert "PO-THEIRS-1" not in client.get(f"{ORDERS}/list/").get_data(as_text=True)
    supplier, order = shop["theirs_supplier"], shop["theirs_order"]
    assert client.get(f"{SUPPLIERS}/show/{supplier}").status_code == 404
    assert client.get(f"{SUPPLIERS}/edit/{supplier}").status_code == 404
    assert client.get(f"{ORDERS}/show/{order}").status_code == 404
    for step in ("send", "cancel", "add-line", "receive"):
        assert client.post(f"{ORDERS}/{step}/{order}", data={"sku": "x"}).status_code == 404
    # the add form offers only its own suppliers
    add = client.get(f"{ORDERS}/add").get_data(as_text=True)
    assert "Theirs Supplies" not in add
    # posting another seller's supplier anyway is refused
    client.post(
        f"{ORDERS}/add",
        data={"supplier": str(supplier), "warehouse": str(shop["mine"].warehouse_id)},
    )
    with scope(app, shop["tenant"].id):
        assert (
            db.session.scalar(
                select(PurchaseOrder).where(PurchaseOrder.supplier_id == supplier)
            ).number
            == "PO-THEIRS-1"
        )
        assert (
            len(
                db.session.scalars(
                    select(PurchaseOrder).where(PurchaseOrder.supplier_id == supplier)
                ).all()
            )
            == 1
        )


def test_staff_see_every_sellers_purchase_orders(app, shop):
    _seller_makes_an_order(app, shop)
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    listed = client.get(f"{ORDERS}/list/").get_data(as_text=True)
    assert "PO-THEIRS-1" in listed and "Mine Supplies" in listed
    page = client.get(f"{ORDERS}/show/{shop['theirs_order']}").get_data(as_text=True)
    assert "Theirs Supplies" in page and "No lines yet" in page
    assert "Cancel purchase order" in page
    assert client.post(f"{ORDERS}/cancel/{shop['theirs_order']}").status_code == 302
    with scope(app, shop["tenant"].id):
        assert db.session.get(PurchaseOrder, shop["theirs_order"]).status == "cancelled"
