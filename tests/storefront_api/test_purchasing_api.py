"""/api/v1/inventory/suppliers and /purchase-orders: a seller's suppliers and purchase orders are
its own (another seller's and another storefront's answer 404), staff see the storefront's;
statuses move draft -> sent -> partly_received -> received or cancelled, nothing else (409 with
the steps allowed); receiving adds stock through the ledger, never more than ordered without
allow_over_receipt, and a receipt key receives once, also when sent twice at the same time."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.inventory.models import StockLevel, StockMovement
from app.security import roles
from tests.builders.api import error
from tests.builders.auth import api_headers
from tests.builders.back_office import warehouse

API = "/api/v1/inventory"


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    customer = factory.customer(tenant)
    mine = factory.product(seller, stock=1)
    second = factory.product(seller, stock=0)
    theirs = factory.product(other, stock=1)
    return {
        "tenant": tenant,
        "seller": seller,
        "mine": mine,
        "second": second,
        "theirs": theirs,
        "h": api_headers(app, seller.user),
        "h_other": api_headers(app, other.user),
        "h_admin": api_headers(app, admin),
        "h_customer": api_headers(app, customer.user),
    }


def _supplier(client, headers, **fields):
    answer = client.post(
        f"{API}/suppliers/",
        headers=headers,
        json={"name": "Acme", "currency": "USD", **fields},
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _draft(client, shop, supplier_id, lines=None):
    body = {
        "supplier_id": supplier_id,
        "warehouse_id": shop["mine"].warehouse_id,
        "expected_on": "2026-12-24",
        "lines": lines
        if lines is not None
        else [
            {"sku": shop["mine"].sku, "quantity_ordered": 10, "unit_cost": "2.5"},
            {"variant_id": shop["second"].variant_id, "quantity_ordered": 4, "unit_cost": 7},
        ],
    }
    answer = client.post(f"{API}/purchase-orders/", headers=shop["h"], json=body)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _on_hand(app, shop, stock_id):
    with app.app_context(), tenant_scope(shop["tenant"].id):
        return db.session.get(StockLevel, stock_id).quantity_on_hand


def _receipts_of(app, shop, stock_id):
    with app.app_context(), tenant_scope(shop["tenant"].id):
        return db.session.scalars(
            select(StockMovement).where(
                StockMovement.stock_level_id == stock_id, StockMovement.reason == "receipt"
            )
        ).all()


# --- suppliers ----------------------------------------------------------------------------------


def test_suppliers_belong_to_their_seller(app, client, shop):
    mine = _supplier(client, shop["h"], name="Mine", seller_id=999)  # a seller's is its own
    assert mine["seller_id"] == shop["seller"].id
    theirs = _supplier(client, shop["h_other"], name="Theirs")
    platform = _supplier(client, shop["h_admin"], name="Platform", currency="EUR")
    assert platform["seller_id"] is None
    named = _supplier(client, shop["h_admin"], name="Named", seller_id=shop["seller"].id)
    assert named["seller_id"] == shop["seller"].id
    client.delete(f"{API}/suppliers/{named['id']}/", headers=shop["h_admin"])
    error(
        client.post(
            f"{API}/suppliers/",
            headers=shop["h_admin"],
            json={"name": "Ghost", "currency": "USD", "seller_id": 2**31 - 1},
        ),
        422,
    )

    listed = client.get(f"{API}/suppliers/", headers=shop["h"]).get_json()
    assert [s["name"] for s in listed["items"]] == ["Mine"]
    staff = client.get(f"{API}/suppliers/", headers=shop["h_admin"]).get_json()
    assert {s["name"] for s in staff["items"]} == {"Mine", "Theirs", "Platform"}
    error(client.get(f"{API}/suppliers/{theirs['id']}/", headers=shop["h"]), 404, "not_found")
    error(
        client.patch(f"{API}/suppliers/{theirs['id']}/", headers=shop["h"], json={"name": "X"}),
        404,
    )
    error(client.delete(f"{API}/suppliers/{theirs['id']}/", headers=shop["h"]), 404)
    error(client.get(f"{API}/suppliers/", headers=shop["h_customer"]), 403, "forbidden")
    error(client.post(f"{API}/suppliers/", headers=shop["h"], json={"name": "No currency"}), 422)
    error(
        client.post(f"{API}/suppliers/", headers=shop["h"], json={"name": "A", "currency": "usd"}),
        422,
    )

    changed = client.patch(
        f"{API}/suppliers/{mine['id']}/",
        headers=shop["h"],
        json={"email": "orders@acme.example", "is_active": False},
    )
    assert changed.status_code == 200 and changed.get_json()["is_active"] is False
    inactive = client.get(f"{API}/suppliers/?is_active=false", headers=shop["h"]).get_json()
    assert [s["id"] for s in inactive["items"]] == [mine["id"]]
    assert client.delete(f"{API}/suppliers/{mine['id']}/", headers=shop["h"]).status_code == 204


def test_a_supplier_with_purchase_orders_is_not_deleted(client, shop):
    supplier = _supplier(client, shop["h"])
    _draft(client, shop, supplier["id"])
    error(
        client.delete(f"{API}/suppliers/{supplier['id']}/", headers=shop["h"]),
        409,
        "supplier_in_use",
    )


# --- purchase orders ----------------------------------------------------------------------------


def test_a_draft_with_lines_and_its_rules(client, shop):
    supplier = _supplier(client, shop["h"])
    order = _draft(client, shop, supplier["id"])
    assert order["status"] == "draft" and order["allowed_transitions"] == ["sent", "cancelled"]
    assert order["currency"] == "USD" and order["total"] == "53.00"
    assert [line["quantity_open"] for line in order["lines"]] == [10, 4]
    assert order["lines"][0]["unit_cost"] == "2.5000"
    # another seller's variant, another currency, a variant twice, another seller's warehouse
    theirs = [{"sku": shop["theirs"].sku, "quantity_ordered": 1, "unit_cost": 1}]
    error(
        client.post(
            f"{API}/purchase-orders/",
            headers=shop["h"],
            json={
                "supplier_id": supplier["id"],
                "warehouse_id": shop["mine"].warehouse_id,
                "lines": theirs,
            },
        ),
        422,
    )
    euros = [{"sku": shop["mine"].sku, "quantity_ordered": 1, "unit_cost": 1, "currency": "EUR"}]
    error(
        client.post(
            f"{API}/purchase-orders/",
            headers=shop["h"],
            json={
                "supplier_id": supplier["id"],
                "warehouse_id": shop["mine"].warehouse_id,
                "lines": euros,
            },
        ),
        422,
    )
    twice = [{"sku": shop["mine"].sku, "quantity_ordered": 1, "unit_cost": 1}] * 2
    error(
        client.post(
            f"{API}/purchase-orders/",
            headers=shop["h"],
            json={
                "supplier_id": supplier["id"],
                "warehouse_id": shop["mine"].warehouse_id,
                "lines": twice,
            },
        ),
        422,
    )
    error(
        client.post(
            f"{API}/purchase-orders/",
            headers=shop["h"],
            json={"supplier_id": supplier["id"], "warehouse_id": shop["theirs"].warehouse_id},
        ),
        422,
    )
    negative = [{"sku": shop["mine"].sku, "quantity_ordered": 1, "unit_cost": -1}]
    error(
        client.post(
            f"{API}/purchase-orders/",
            headers=shop["h"],
            json={
                "supplier_id": supplier["id"],
                "warehouse_id": shop["mine"].warehouse_id,
                "lines": negative,
            },
        ),
        422,
    )
    # a draft's lines may be replaced
    replaced = client.patch(
        f"{API}/purchase-orders/{order['id']}/",
        headers=shop["h"],
        json={
            "notes": "call first",
            "lines": [{"sku": shop["mine"].sku, "quantity_ordered": 3, "unit_cost": "1.10"}],
        },
    )
    assert replaced.status_code == 200, replaced.get_json()
    assert [line["quantity_ordered"] for line in replaced.get_json()["lines"]] == [3]
    assert replaced.get_json()["notes"] == "call first"


def test_statuses_move_only_along_their_transitions(app, client, shop):
    supplier = _supplier(client, shop["h"])
    empty = _draft(client, shop, supplier["id"], lines=[])
    error(client.post(f"{API}/purchase-orders/{empty['id']}/send/", headers=shop["h"]), 422)
    order = _draft(client, shop, supplier["id"])
    url = f"{API}/purchase-orders/{order['id']}"
    receive = {"lines": [{"line_id": order["lines"][0]["id"], "quantity": 1}]}
    err = error(
        client.post(f"{url}/receive/", headers=shop["h"], json=receive),
        409,
        "purchase_order_status",
    )
    assert err["details"] == {"status": "draft", "allowed": ["sent", "cancelled"]}
    sent = client.post(f"{url}/send/", headers=shop["h"])
    assert sent.status_code == 200 and sent.get_json()["status"] == "sent"
    assert sent.get_json()["sent_at"] is not None
    error(client.post(f"{url}/send/", headers=shop["h"]), 409, "purchase_order_status")
    error(
        client.patch(f"{url}/", headers=shop["h"], json={"notes": "late"}),
        409,
        "purchase_order_status",
    )
    cancelled = client.post(f"{url}/cancel/", headers=shop["h"])
    assert cancelled.get_json()["status"] == "cancelled"
    error(client.post(f"{url}/cancel/", headers=shop["h"]), 409, "purchase_order_status")
    error(client.post(f"{url}/receive/", headers=shop["h"], json=receive), 409)
    assert _on_hand(app, shop, shop["mine"].stock_level_id) == 1


@pytest.mark.smoke  # also on SQLite (the embedded default)
def test_receiving_adds_stock_through_the_ledger_partly_then_fully(app, client, shop):
    supplier = _supplier(client, shop["h"])
    order = _draft(client, shop, supplier["id"])
    url = f"{API}/purchase-orders/{order['id']}"
    client.post(f"{url}/send/", headers=shop["h"])
    first, second = order["lines"]
    partial = client.post(
        f"{url}/receive/",
        headers=shop["h"],
        json={"lines": [{"line_id": first["id"], "quantity": 4}], "receipt_key": "dn-1"},
    )
    assert partial.status_code == 201, partial.get_json()
    assert partial.get_json()["purchase_order"]["status"] == "partly_received"
    assert _on_hand(app, shop, shop["mine"].stock_level_id) == 5
    [movement] = _receipts_of(app, shop, shop["mine"].stock_level_id)
    assert movement.delta_on_hand == 4 and movement.reference == f"{order['number']}/dn-1"

    over = {"lines": [{"line_id": first["id"], "quantity": 7}], "receipt_key": "dn-2"}
    err = error(client.post(f"{url}/receive/", headers=shop["h"], json=over), 409, "over_receipt")
    assert err["details"]["lines"][str(first["id"])] == {
        "ordered": 10,
        "received": 4,
        "receiving": 7,
    }
    assert _on_hand(app, shop, shop["mine"].stock_level_id) == 5

    rest = client.post(
        f"{url}/receive/",
        headers=shop["h"],
        json={
            "lines": [
                {"line_id": first["id"], "quantity": 7},
                {"line_id": second["id"], "quantity": 4},
            ],
            "receipt_key": "dn-2",
            "allow_over_receipt": True,
        },
    )
    assert rest.status_code == 201, rest.get_json()
    done = rest.get_json()["purchase_order"]
    assert done["status"] == "received" and done["received_at"] is not None
    assert [line["quantity_received"] for line in done["lines"]] == [11, 4]
    assert rest.get_json()["over_receipt"] is True
    assert _on_hand(app, shop, shop["mine"].stock_level_id) == 12
    # the second variant had no stock in this warehouse: its row was made
    with app.app_context(), tenant_scope(shop["tenant"].id):
        made = db.session.scalar(
            select(StockLevel).where(
                StockLevel.variant_id == shop["second"].variant_id,
                StockLevel.warehouse_id == shop["mine"].warehouse_id,
            )
        )
        assert made.quantity_on_hand == 4
    error(
        client.post(
            f"{url}/receive/",
            headers=shop["h"],
            json={"lines": [{"line_id": second["id"], "quantity": 1}]},
        ),
        409,
        "purchase_order_status",
    )


@pytest.mark.smoke  # also on SQLite (the embedded default)
def test_a_receipt_key_receives_once(app, client, shop):
    supplier = _supplier(client, shop["h"])
    order = _draft(client, shop, supplier["id"])
    url = f"{API}/purchase-orders/{order['id']}"
    client.post(f"{url}/send/", headers=shop["h"])
    body = {"lines": [{"line_id": order["lines"][0]["id"], "quantity": 2}], "receipt_key": "k"}
    first = client.post(f"{url}/receive/", headers=shop["h"], json=body)
    again = client.post(f"{url}/receive/", headers=shop["h"], json=body)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["replayed"] is True and again.get_json()["id"] == first.get_json()["id"]
    assert _on_hand(app, shop, shop["mine"].stock_level_id) == 3
    other = {"lines": [{"line_id": order["lines"][0]["id"], "quantity": 3}], "receipt_key": "k"}
    error(client.post(f"{url}/receive/", headers=shop["h"], json=other), 409, "receipt_key_reused")
    # a line of another order
    error(
        client.post(
            f"{url}/receive/",
            headers=shop["h"],
            json={"lines": [{"line_id": 2**31 - 1, "quantity": 1}]},
        ),
        422,
    )


def test_concurrent_receipts_with_one_key_add_stock_once(app, client, shop):
    supplier = _supplier(client, shop["h"])
    order = _draft(client, shop, supplier["id"])
    url = f"{API}/purchase-orders/{order['id']}"
    client.post(f"{url}/send/", headers=shop["h"])
    body = {"lines": [{"line_id": order["lines"][0]["id"], "quantity": 5}], "receipt_key": "race"}
    answers = []
    start = threading.Barrier(4)

    def run():
        start.wait()
        response = app.test_client().post(f"{url}/receive/", headers=shop["h"], json=body)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [201] * 4, answers
    assert sum(1 for _, body in answers if not body["replayed"]) == 1
    assert _on_hand(app, shop, shop["mine"].stock_level_id) == 6
    assert len(_receipts_of(app, shop, shop["mine"].stock_level_id)) == 1


@pytest.mark.smoke  # also on SQLite (the embedded default)
def test_receiving_into_a_platform_warehouse_makes_its_stock_row(app, client, shop):
    platform = warehouse(app, shop["tenant"].id, "Fulfilment")
    supplier = _supplier(client, shop["h"])
    answer = client.post(
        f"{API}/purchase-orders/",
        headers=shop["h"],
        json={
            "supplier_id": supplier["id"],
            "warehouse_id": platform,
            "lines": [{"sku": shop["mine"].sku, "quantity_ordered": 2, "unit_cost": 1}],
        },
    )
    order = answer.get_json()
    url = f"{API}/purchase-orders/{order['id']}"
    client.post(f"{url}/send/", headers=shop["h"])
    client.post(
        f"{url}/receive/",
        headers=shop["h"],
        json={"lines": [{"line_id": order["lines"][0]["id"], "quantity": 2}]},
    )
    rows = client.get(
        f"{API}/?sku={shop['mine'].sku}&warehouse_id={platform}", headers=shop["h"]
    ).get_json()
    assert [r["quantity_on_hand"] for r in rows["items"]] == [2]


def test_purchase_orders_are_scoped_to_their_seller_and_tenant(app, client, factory, shop):
    supplier = _supplier(client, shop["h"])
    order = _draft(client, shop, supplier["id"])
    url = f"{API}/purchase-orders/{order['id']}"
    for method, path in (
        ("get", f"{url}/"),
        ("post", f"{url}/send/"),
        ("post", f"{url}/cancel/"),
    ):
        error(getattr(client, method)(path, headers=shop["h_other"]), 404)
    assert client.get(f"{API}/purchase-orders/", headers=shop["h_other"]).get_json()["total"] == 0
    # the other seller cannot order at this seller's supplier
    error(
        client.post(
            f"{API}/purchase-orders/",
            headers=shop["h_other"],
            json={"supplier_id": supplier["id"], "warehouse_id": shop["theirs"].warehouse_id},
        ),
        422,
    )
    staff = client.get(f"{API}/purchase-orders/?status=draft", headers=shop["h_admin"]).get_json()
    assert [o["id"] for o in staff["items"]] == [order["id"]]
    elsewhere = factory.tenant()
    h_b = api_headers(app, factory.user(elsewhere, roles.ADMIN))
    error(client.get(f"{url}/", headers=h_b), 404)
    assert client.get(f"{API}/suppliers/", headers=h_b).get_json()["total"] == 0
    error(client.get(f"{API}/purchase-orders/", headers=shop["h_customer"]), 403)
