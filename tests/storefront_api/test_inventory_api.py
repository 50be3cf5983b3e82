"""/api/v1/inventory: stock levels, adjust, bulk-update, transfers and movements.

Staff see every row of their storefront, a seller only the stock of its variants and its own
warehouses (another seller's rows answer 404, or a row error in a bulk update), customers 403.
Every change of units is a movement of the ledger; stock never goes negative, also under
concurrent requests on MariaDB (real threads, each its own test client: a request per thread, as
gunicorn's workers serve them)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.core.tenancy import tenant_scope
from app.events.idempotency import IdempotencyKey
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
    mine = factory.product(seller, stock=5)
    theirs = factory.product(other, stock=7)
    return {
        "tenant": tenant,
        "seller": seller,
        "other": other,
        "mine": mine,
        "theirs": theirs,
        "h": api_headers(app, seller.user),
        "h_other": api_headers(app, other.user),
        "h_admin": api_headers(app, admin),
        "h_customer": api_headers(app, customer.user),
    }


def _stock(app, shop, stock_id):
    with app.app_context(), tenant_scope(shop["tenant"].id):
        row = db.session.get(StockLevel, stock_id)
        return None if row is None else (row.quantity_on_hand, row.quantity_reserved)


def _movements(app, shop, stock_id):
    with app.app_context(), tenant_scope(shop["tenant"].id):
        return db.session.scalars(
            select(StockMovement)
            .where(StockMovement.stock_level_id == stock_id)
            .order_by(StockMovement.id)
        ).all()


# --- who sees what ------------------------------------------------------------------------------


def test_a_seller_lists_only_its_stock_staff_all_customers_none(client, shop):
    mine = client.get(f"{API}/", headers=shop["h"]).get_json()
    assert [row["id"] for row in mine["items"]] == [shop["mine"].stock_level_id]
    assert mine["total"] == 1 and mine["page"] == 1
    item = mine["items"][0]
    assert item["sku"] == shop["mine"].sku and item["quantity_on_hand"] == 5
    assert item["available"] == 5 and item["product_id"] == shop["mine"].id

    every = client.get(f"{API}/", headers=shop["h_admin"]).get_json()
    assert {row["id"] for row in every["items"]} == {
        shop["mine"].stock_level_id,
        shop["theirs"].stock_level_id,
    }
    error(client.get(f"{API}/", headers=shop["h_customer"]), 403, "forbidden")
    error(client.get(f"{API}/", headers={"X-Tenant": shop["tenant"].slug}), 401, "unauthorized")


def test_another_sellers_stock_answers_404_on_every_operation(client, shop):
    theirs = shop["theirs"].stock_level_id
    error(client.get(f"{API}/{theirs}/", headers=shop["h"]), 404, "not_found")
    error(
        client.post(
            f"{API}/{theirs}/adjust/", headers=shop["h"], json={"delta": -1, "reason": "count"}
        ),
        404,
    )
    error(client.patch(f"{API}/{theirs}/", headers=shop["h"], json={"reorder_point": 1}), 404)
    error(
        client.post(
            f"{API}/transfers/",
            headers=shop["h"],
            json={
                "stock_level_id": theirs,
                "to_warehouse_id": shop["mine"].warehouse_id,
                "quantity": 1,
            },
        ),
        404,
    )
    page = client.get(f"{API}/movements/?stock_level_id={theirs}", headers=shop["h"]).get_json()
    assert page["items"] == [] and page["total"] == 0
    assert client.get(f"{API}/{theirs}/", headers=shop["h_admin"]).status_code == 200


def test_another_tenants_stock_is_not_found(app, client, factory, shop):
    elsewhere = factory.tenant()
    admin_b = factory.user(elsewhere, roles.ADMIN)
    h_b = api_headers(app, admin_b)
    error(client.get(f"{API}/{shop['mine'].stock_level_id}/", headers=h_b), 404)
    assert client.get(f"{API}/", headers=h_b).get_json()["total"] == 0
    # a token of tenant A is refused at tenant B's storefront
    error(client.get(f"{API}/", headers={**shop["h_admin"], "X-Tenant": elsewhere.slug}), 401)


def test_filters_combine_and_undocumented_ones_are_refused(app, client, shop):
    h = shop["h_admin"]
    by_sku = client.get(f"{API}/?sku={shop['theirs'].sku}", headers=h).get_json()
    assert [r["id"] for r in by_sku["items"]] == [shop["theirs"].stock_level_id]
    by_seller = client.get(f"{API}/?seller_id={shop['seller'].id}", headers=h).get_json()
    assert [r["id"] for r in by_seller["items"]] == [shop["mine"].stock_level_id]
    by_product = client.get(f"{API}/?product_id={shop['theirs'].id}", headers=h).get_json()
    assert [r["id"] for r in by_product["items"]] == [shop["theirs"].stock_level_id]
    by_warehouse = client.get(
        f"{API}/?warehouse_id={shop['mine'].warehouse_id}", headers=h
    ).get_json()
    assert [r["id"] for r in by_warehouse["items"]] == [shop["mine"].stock_level_id]
    assert client.get(f"{API}/?low_stock=true", headers=h).get_json()["total"] == 0
    client.post(
        f"{API}/{shop['mine'].stock_level_id}/adjust/",
        headers=h,
        json={"delta": -3, "reason": "count"},
    )
    low = client.get(f"{API}/?low_stock=true", headers=h).get_json()
    assert [r["id"] for r in low["items"]] == [shop["mine"].stock_level_id]
    assert low["items"][0]["low_stock"] is True
    paged = client.get(f"{API}/?page_size=1&page=2", headers=h).get_json()
    assert paged["total"] == 2 and len(paged["items"]) == 1
    details = error(client.get(f"{API}/?colour=red", headers=h), 422, "validation_error")
    assert "colour" in details["details"]
    error(client.get(f"{API}/?page_size=1000", headers=h), 422)


# --- adjust -------------------------------------------------------------------------------------


def test_adjust_needs_a_reason_and_writes_one_movement(app, client, shop):
    stock_id = shop["mine"].stock_level_id
    url = f"{API}/{stock_id}/adjust/"
    err = error(client.post(url, headers=shop["h"], json={"delta": 2}), 422, "validation_error")
    assert "reason" in err["details"]
    error(client.post(url, headers=shop["h"], json={"delta": 2, "reason": "sale"}), 422)
    error(client.post(url, headers=shop["h"], json={"delta": 0, "reason": "count"}), 422)
    error(client.post(url, headers=shop["h"], json={"delta": "2", "reason": "count"}), 422)
    assert _movements(app, shop, stock_id) == []

    answer = client.post(
        url, headers=shop["h"], json={"delta": 3, "reason": "receipt", "note": "box 4"}
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["quantity_on_hand"] == 8
    [movement] = _movements(app, shop, stock_id)
    assert (movement.reason, movement.delta_on_hand, movement.on_hand_after) == ("receipt", 3, 8)
    assert movement.note == "box 4" and movement.actor_id == shop["seller"].user.id


def test_adjust_never_goes_below_zero_nor_below_reserved(app, client, shop):
    stock_id = shop["mine"].stock_level_id
    with app.app_context(), tenant_scope(shop["tenant"].id):
        db.session.get(StockLevel, stock_id).quantity_reserved = 2
        db.session.commit()
    url = f"{API}/{stock_id}/adjust/"
    err = error(
        client.post(url, headers=shop["h"], json={"delta": -4, "reason": "count"}),
        409,
        "out_of_stock",
    )
    assert err["details"]["available"] == 3
    assert _stock(app, shop, stock_id) == (5, 2)
    ok = client.post(url, headers=shop["h"], json={"delta": -3, "reason": "count"})
    assert ok.status_code == 200 and ok.get_json()["quantity_on_hand"] == 2


def _race(app, requests):
    """Send each (method, url, headers, json) at once from its own thread; the answers."""
    answers = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def run(i, method, url, headers, body):
        client = app.test_client()
        start.wait()
        response = getattr(client, method)(url, headers=headers, json=body)
        answers[i] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=run, args=(i, *r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_ten_concurrent_minus_one_adjustments_on_five_leave_zero(app, shop):
    stock_id = shop["mine"].stock_level_id
    url = f"{API}/{stock_id}/adjust/"
    answers = _race(app, [("post", url, shop["h"], {"delta": -1, "reason": "count"})] * 10)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 5 + [409] * 5, answers
    assert all(body["error"]["code"] == "out_of_stock" for status, body in answers if status == 409)
    assert _stock(app, shop, stock_id) == (0, 0)
    movements = _movements(app, shop, stock_id)
    assert [m.on_hand_after for m in movements] == [4, 3, 2, 1, 0]


def test_patch_sets_the_reorder_point_only(app, client, shop):
    stock_id = shop["mine"].stock_level_id
    answer = client.patch(f"{API}/{stock_id}/", headers=shop["h"], json={"reorder_point": 9})
    assert answer.status_code == 200 and answer.get_json()["reorder_point"] == 9
    assert answer.get_json()["low_stock"] is True
    error(
        client.patch(f"{API}/{stock_id}/", headers=shop["h"], json={"quantity_on_hand": 99}),
        422,
    )
    assert _stock(app, shop, stock_id) == (5, 0)


# --- create -------------------------------------------------------------------------------------


def test_create_a_stock_row_in_a_platform_warehouse_and_refuse_a_second(app, client, shop):
    platform = warehouse(app, shop["tenant"].id, "Fulfilment")
    body = {"sku": shop["mine"].sku, "warehouse_id": platform, "quantity_on_hand": 4}
    made = client.post(f"{API}/", headers=shop["h"], json=body)
    assert made.status_code == 201, made.get_json()
    row = made.get_json()
    assert row["quantity_on_hand"] == 4 and row["warehouse_id"] == platform
    [movement] = _movements(app, shop, row["id"])
    assert (movement.reason, movement.delta_on_hand) == ("count", 4)
    error(client.post(f"{API}/", headers=shop["h"], json=body), 409, "conflict")
    # another seller's variant, or another seller's warehouse: not found
    error(
        client.post(
            f"{API}/",
            headers=shop["h"],
            json={"variant_id": shop["theirs"].variant_id, "warehouse_id": platform},
        ),
        404,
    )
    error(
        client.post(
            f"{API}/",
            headers=shop["h"],
            json={"sku": shop["mine"].sku, "warehouse_id": shop["theirs"].warehouse_id},
        ),
        404,
    )
    error(
        client.post(
            f"{API}/",
            headers=shop["h"],
            json={"sku": shop["mine"].sku, "variant_id": 1, "warehouse_id": platform},
        ),
        422,
    )


# --- bulk ---------------------------------------------------------------------------------------


@pytest.mark.smoke  # also on SQLite (the embedded default)
def test_bulk_update_by_id_and_by_sku_sets_and_changes(app, client, shop, factory):
    second = factory.product(shop["seller"], stock=2)
    platform_code = "FUL-" + shop["tenant"].slug[-6:]
    with app.app_context(), tenant_scope(shop["tenant"].id):
        from app.inventory.models import Warehouse

        db.session.add(Warehouse(code=platform_code, name="Fulfilment"))
        db.session.commit()
    rows = [
        {"stock_level_id": shop["mine"].stock_level_id, "quantity": 12},
        {"stock_level_id": second.stock_level_id, "delta": -2, "note": "broken"},
        {"sku": shop["mine"].sku, "warehouse_code": platform_code, "quantity": 6},
    ]
    answer = client.post(f"{API}/bulk-update/", headers=shop["h"], json={"rows": rows})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["updated"], body["unchanged"], body["created"]) == (3, 0, 1)
    assert [r["delta"] for r in body["items"]] == [7, -2, 6]
    assert [r["quantity_on_hand"] for r in body["items"]] == [12, 0, 6]
    assert body["items"][2]["created"] is True and body["replayed"] is False
    assert _stock(app, shop, shop["mine"].stock_level_id) == (12, 0)
    [count] = _movements(app, shop, shop["mine"].stock_level_id)
    assert (count.reason, count.reference) == ("count", body["reference"])
    [broken] = _movements(app, shop, second.stock_level_id)
    assert (broken.reason, broken.note) == ("adjustment", "broken")
    moved = client.get(
        f"{API}/movements/?reference={body['reference']}", headers=shop["h"]
    ).get_json()
    assert moved["total"] == 3


@pytest.mark.smoke  # also on SQLite (the embedded default)
def test_bulk_update_is_all_or_nothing_and_names_every_bad_row(app, client, shop):
    mine, theirs = shop["mine"].stock_level_id, shop["theirs"].stock_level_id
    rows = [
        {"stock_level_id": mine, "delta": -1},
        {"stock_level_id": theirs, "quantity": 0},  # another seller's: unknown to this one
        {"sku": "NO-SUCH-SKU", "warehouse_code": "NOPE", "quantity": 1},
        {"stock_level_id": mine, "delta": 1},  # the same row twice
    ]
    err = error(
        client.post(f"{API}/bulk-update/", headers=shop["h"], json={"rows": rows}),
        422,
        "validation_error",
    )
    assert set(err["details"]["rows"]) == {"1", "2", "3"}
    assert _stock(app, shop, mine) == (5, 0) and _stock(app, shop, theirs) == (7, 0)

    negative = [{"stock_level_id": mine, "delta": -6}]
    err = error(
        client.post(f"{API}/bulk-update/", headers=shop["h"], json={"rows": negative}),
        409,
        "out_of_stock",
    )
    assert set(err["details"]["rows"]) == {"0"}
    assert _movements(app, shop, mine) == []


def test_bulk_update_refuses_malformed_rows_and_more_than_1000(client, shop):
    url = f"{API}/bulk-update/"
    mine = shop["mine"].stock_level_id
    for bad in (
        {"stock_level_id": mine},  # neither quantity nor delta
        {"stock_level_id": mine, "quantity": 1, "delta": 1},
        {"sku": shop["mine"].sku, "quantity": 1},  # no warehouse
        {"stock_level_id": mine, "quantity": -1},
        {"stock_level_id": mine, "delta": 1, "reason": "sale"},
    ):
        error(client.post(url, headers=shop["h"], json={"rows": [bad]}), 422, "validation_error")
    error(client.post(url, headers=shop["h"], json={"rows": []}), 422)
    too_many = [{"stock_level_id": mine, "delta": 1}] * 1001
    error(client.post(url, headers=shop["h"], json={"rows": too_many}), 422)
    error(client.post(url, headers=shop["h_customer"], json={"rows": [bad]}), 403, "forbidden")


@pytest.mark.smoke  # also on SQLite (the embedded default)
def test_bulk_update_with_an_idempotency_key_applies_once(app, client, shop):
    mine = shop["mine"].stock_level_id
    url = f"{API}/bulk-update/"
    body = {"rows": [{"stock_level_id": mine, "delta": 2}]}
    headers = {**shop["h"], "Idempotency-Key": "stock-2026-12-07"}
    first = client.post(url, headers=headers, json=body)
    again = client.post(url, headers=headers, json=body)
    assert first.status_code == again.status_code == 200
    assert again.get_json()["replayed"] is True
    assert again.get_json()["items"] == first.get_json()["items"]
    assert _stock(app, shop, mine) == (7, 0)
    assert len(_movements(app, shop, mine)) == 1
    other_body = {"rows": [{"stock_level_id": mine, "delta": 3}]}
    error(client.post(url, headers=headers, json=other_body), 409, "idempotency_key_reused")
    assert _stock(app, shop, mine) == (7, 0)
    # a refused request does not spend its key
    refused = {"rows": [{"stock_level_id": mine, "delta": -100}]}
    key2 = {**shop["h"], "Idempotency-Key": "k-refused"}
    error(client.post(url, headers=key2, json=refused), 409, "out_of_stock")
    with app.app_context(), tenant_scope(shop["tenant"].id):
        assert (
            db.session.scalar(
                select(func.count(IdempotencyKey.id)).where(IdempotencyKey.key == "k-refused")
            )
            == 0
        )


def test_concurrent_bulk_deltas_never_drive_stock_negative(app, shop):
    mine = shop["mine"].stock_level_id
    url = f"{API}/bulk-update/"
    body = {"rows": [{"stock_level_id": mine, "delta": -1}]}
    answers = _race(app, [("post", url, shop["h"], body)] * 10)
    assert sorted(s for s, _ in answers) == [200] * 5 + [409] * 5, answers
    assert _stock(app, shop, mine) == (0, 0)


def test_concurrent_replays_of_one_key_apply_once(app, shop):
    mine = shop["mine"].stock_level_id
    headers = {**shop["h"], "Idempotency-Key": "same-key"}
    body = {"rows": [{"stock_level_id": mine, "delta": 1}]}
    answers = _race(app, [("post", f"{API}/bulk-update/", headers, body)] * 4)
    assert all(status == 200 for status, _ in answers), answers
    assert sum(1 for _, b in answers if not b["replayed"]) == 1
    assert _stock(app, shop, mine) == (6, 0)


# --- transfers ----------------------------------------------------------------------------------


@pytest.mark.smoke  # also on SQLite (the embedded default)
def test_a_transfer_moves_units_with_two_movements(app, client, shop):
    second = warehouse(app, shop["tenant"].id, "Second", seller_id=shop["seller"].id)
    body = {
        "stock_level_id": shop["mine"].stock_level_id,
        "to_warehouse_id": second,
        "quantity": 3,
        "note": "rebalance",
    }
    answer = client.post(f"{API}/transfers/", headers=shop["h"], json=body)
    assert answer.status_code == 201, answer.get_json()
    moved = answer.get_json()
    assert moved["source"]["quantity_on_hand"] == 2
    assert moved["destination"]["quantity_on_hand"] == 3
    assert moved["destination"]["warehouse_id"] == second
    out = _movements(app, shop, shop["mine"].stock_level_id)
    into = _movements(app, shop, moved["destination"]["id"])
    assert [(m.reason, m.delta_on_hand, m.note) for m in out] == [("transfer", -3, "rebalance")]
    assert [(m.reason, m.delta_on_hand) for m in into] == [("transfer", 3)]
    assert out[0].reference == into[0].reference == moved["reference"]

    err = error(
        client.post(f"{API}/transfers/", headers=shop["h"], json={**body, "quantity": 3}),
        409,
        "out_of_stock",
    )
    assert err["details"] == {"available": 2, "requested": 3}
    assert _stock(app, shop, shop["mine"].stock_level_id) == (2, 0)
    # into the same warehouse, or another seller's: refused
    error(
        client.post(
            f"{API}/transfers/",
            headers=shop["h"],
            json={**body, "to_warehouse_id": shop["mine"].warehouse_id, "quantity": 1},
        ),
        422,
    )
    error(
        client.post(
            f"{API}/transfers/",
            headers=shop["h"],
            json={**body, "to_warehouse_id": shop["theirs"].warehouse_id, "quantity": 1},
        ),
        404,
    )


def test_concurrent_transfers_never_overdraw_the_source(app, shop):
    second = warehouse(app, shop["tenant"].id, "Second", seller_id=shop["seller"].id)
    body = {"stock_level_id": shop["mine"].stock_level_id, "to_warehouse_id": second, "quantity": 2}
    answers = _race(app, [("post", f"{API}/transfers/", shop["h"], body)] * 4)
    statuses = sorted(s for s, _ in answers)
    assert statuses[:2] == [201, 201] and 201 not in statuses[2:], answers
    assert _stock(app, shop, shop["mine"].stock_level_id) == (1, 0)


# --- movements ----------------------------------------------------------------------------------


def test_movements_are_filtered_paginated_and_scoped(app, client, shop):
    mine = shop["mine"].stock_level_id
    for delta in (1, 2, -1):
        client.post(
            f"{API}/{mine}/adjust/",
            headers=shop["h"],
            json={"delta": delta, "reason": "adjustment"},
        )
    client.post(
        f"{API}/{shop['theirs'].stock_level_id}/adjust/",
        headers=shop["h_other"],
        json={"delta": 1, "reason": "receipt"},
    )
    page = client.get(f"{API}/movements/?page_size=2", headers=shop["h"]).get_json()
    assert page["total"] == 3 and [m["delta_on_hand"] for m in page["items"]] == [-1, 2]
    assert page["items"][0]["sku"] == shop["mine"].sku
    staff = client.get(f"{API}/movements/?reason=receipt", headers=shop["h_admin"]).get_json()
    assert [m["stock_level_id"] for m in staff["items"]] == [shop["theirs"].stock_level_id]
    by_sku = client.get(
        f"{API}/movements/?sku={shop['mine'].sku}", headers=shop["h_admin"]
    ).get_json()
    assert by_sku["total"] == 3
    error(client.get(f"{API}/movements/?since=2026-01-01T00:00:00", headers=shop["h"]), 422)
    future = client.get(
        f"{API}/movements/?since=2099-01-01T00:00:00%2B00:00", headers=shop["h"]
    ).get_json()
    assert future["total"] == 0
    error(client.get(f"{API}/movements/", headers=shop["h_customer"]), 403)


def test_the_openapi_document_describes_the_inventory_api(client):
    spec = client.get("/api/schema/").get_json()
    paths = spec["paths"]
    for path in (
        "/api/v1/inventory/",
        "/api/v1/inventory/{stock_id}/",
        "/api/v1/inventory/{stock_id}/adjust/",
        "/api/v1/inventory/bulk-update/",
        "/api/v1/inventory/transfers/",
        "/api/v1/inventory/movements/",
        "/api/v1/inventory/suppliers/",
        "/api/v1/inventory/purchase-orders/{order_id}/receive/",
    ):
        assert path in paths, path
    bulk = paths["/api/v1/inventory/bulk-update/"]["post"]
    assert {"200", "409", "422", "401", "403"} <= set(bulk["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in bulk["parameters"])
    assert "Stock" in spec["components"]["schemas"]


def test_a_stock_row_holds_at_most_a_billion_units(app, client, shop):
    mine = shop["mine"].stock_level_id
    url = f"{API}/bulk-update/"
    full = client.post(
        url, headers=shop["h"], json={"rows": [{"stock_level_id": mine, "quantity": 10**9}]}
    )
    assert full.status_code == 200, full.get_json()
    err = error(
        client.post(url, headers=shop["h"], json={"rows": [{"stock_level_id": mine, "delta": 1}]}),
        422,
        "validation_error",
    )
    assert set(err["details"]["rows"]) == {"0"}
    error(
        client.post(
            f"{API}/{mine}/adjust/", headers=shop["h"], json={"delta": 10**9, "reason": "count"}
        ),
        422,
    )
    assert _stock(app, shop, mine) == (10**9, 0)
