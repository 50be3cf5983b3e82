"""The restore drill (issue 20 item 4): a logical backup of the MariaDB database taken with the
tool MariaDB ships (mariadb-dump --single-transaction) WHILE customers are checking out, restored
into a new database with the `mariadb` client, must be a shop that agrees with itself and with the
original: every order the shop confirmed before the dump began is there, exactly as the original
holds it; reserved stock equals the units of the orders it holds; once the outbox events the dump
caught undelivered are redelivered (`flask events redeliver`), every paid sub-order's ledger nets
its total minus its commission, once; and the restored shop takes a new order.

README, "Backups": the production procedure this test rehearses."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.security import roles
from tests.builders.auth import api_headers
from tests.builders.orders import ADDRESS, CARD_OK, checkout, configure_pricing, fill
from tests.conftest import TEST_DB_URL

pytestmark = pytest.mark.skipif(
    not TEST_DB_URL.startswith("mysql"), reason="the drill backs up and restores MariaDB"
)

BUYERS = 3


def _cli_args(url) -> list[str]:
    args = [f"--host={url.host or '127.0.0.1'}", f"--port={url.port or 3306}"]
    args.append(f"--user={url.username or 'root'}")
    if url.password:
        args.append(f"--password={url.password}")
    return args


@pytest.fixture
def restored_url():
    """A new database for the restore, dropped afterwards (its name ends in _test)."""
    source = make_url(TEST_DB_URL)
    name = f"{source.database}_drill_test"
    target = source.set(database=name)
    server = create_engine(source.set(database=None))
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    yield target
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    server.dispose()


def _orders(engine, tenant_id: int) -> dict[int, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, number, status, payment_status, currency, total "
                "FROM orders WHERE tenant_id = :t"
            ),
            {"t": tenant_id},
        )
        return {row.id: tuple(row) for row in rows}


def _reserved_and_sold(engine, tenant_id: int, variant_id: int) -> tuple[int, int]:
    with engine.connect() as conn:
        reserved = conn.execute(
            text(
                "SELECT COALESCE(SUM(quantity_reserved), 0) FROM stock_levels "
                "WHERE tenant_id = :t AND variant_id = :v"
            ),
            {"t": tenant_id, "v": variant_id},
        ).scalar_one()
        sold = conn.execute(
            text(
                "SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l "
                "JOIN orders o ON o.id = l.order_id "
                "WHERE o.tenant_id = :t AND l.variant_id = :v AND o.status <> 'cancelled'"
            ),
            {"t": tenant_id, "v": variant_id},
        ).scalar_one()
    return int(reserved), int(sold)


def _ledger_mismatches(engine, tenant_id: int) -> list[tuple]:
    """Paid sub-orders whose ledger entries do not net total - commission (none, or twice)."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT s.id, s.total - s.commission_amount AS owed, "
                    "COALESCE(SUM(e.amount), 0) AS booked "
                    "FROM sub_orders s "
                    "LEFT JOIN seller_ledger_entries e ON e.sub_order_id = s.id "
                    "WHERE s.tenant_id = :t AND s.status = 'paid' "
                    "GROUP BY s.id, s.total, s.commission_amount "
                    "HAVING owed <> booked"
                ),
                {"t": tenant_id},
            )
        )


def test_a_dump_taken_under_traffic_restores_a_shop_that_agrees(
    app, factory, restored_url, tmp_path
):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    product = factory.product(seller, price="12.00", stock=10_000)
    configure_pricing(app, tenant.id)
    buyers = [factory.customer(tenant) for _ in range(BUYERS)]
    admin = factory.user(tenant, roles.ADMIN)
    assert admin.id

    confirmed: list[tuple[float, int]] = []  # (when the 201 arrived, order id)
    failures: list[str] = []
    stop = threading.Event()

    def buy(customer) -> None:
        client = app.test_client()
        h = api_headers(app, customer.user)
        while not stop.is_set():
            fill(client, h, (product.variant_id, 1))
            response = checkout(client, h, {"shipping_address": ADDRESS, "payment": CARD_OK})
            if response.status_code == 201:
                confirmed.append((time.monotonic(), response.get_json()["id"]))
            else:
                failures.append(f"{response.status_code} {response.get_data(as_text=True)}")

    threads = [threading.Thread(target=buy, args=(b,), daemon=True) for b in buyers]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 120
        while len(confirmed) < 6 and time.monotonic() < deadline and not failures:
            time.sleep(0.05)
        assert len(confirmed) >= 6, f"traffic did not start: {failures[:3]}"

        source = make_url(TEST_DB_URL)
        dump = tmp_path / "shop.sql"
        dump_started = time.monotonic()
        with dump.open("wb") as out:
            done = subprocess.run(
                [
                    shutil.which("mariadb-dump") or "mysqldump",
                    *_cli_args(source),
                    "--single-transaction",
                    "--quick",
                    "--routines",
                    "--triggers",
                    "--events",
                    "--hex-blob",
                    "--default-character-set=utf8mb4",
                    source.database,
                ],
                stdout=out,
                stderr=subprocess.PIPE,
                timeout=600,
            )
        assert done.returncode == 0, done.stderr.decode()
        during_dump = len([1 for at, _ in confirmed if at >= dump_started])
        # keep buying a little after the dump, so the original moves on past the snapshot
        after = len(confirmed) + 3
        deadline = time.monotonic() + 60
        while len(confirmed) < after and time.monotonic() < deadline and not failures:
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert not failures, failures[:3]

    with dump.open("rb") as dumped:
        done = subprocess.run(
            [
                shutil.which("mariadb") or "mysql",
                *_cli_args(restored_url),
                "--default-character-set=utf8mb4",
                restored_url.database,
            ],
            stdin=dumped,
            stderr=subprocess.PIPE,
            timeout=600,
        )
    assert done.returncode == 0, done.stderr.decode()

    original = create_engine(TEST_DB_URL)
    restored = create_engine(restored_url)
    try:
        source_orders = _orders(original, tenant.id)
        copy_orders = _orders(restored, tenant.id)
        before_dump = {order_id for at, order_id in confirmed if at < dump_started}
        # every order confirmed before the dump began is in the copy, as the original holds it
        assert before_dump <= copy_orders.keys()
        differ = {
            i: (copy_orders[i], source_orders.get(i))
            for i in before_dump
            if copy_orders[i] != source_orders.get(i)
        }
        assert differ == {}
        # the copy holds nothing the original does not; a checkout in flight when the snapshot
        # was taken is there as the snapshot saw it: placed, its payment not yet recorded
        assert copy_orders.keys() <= source_orders.keys()
        in_flight = {i: copy_orders[i][2:4] for i in copy_orders.keys() - before_dump}
        assert set(in_flight.values()) <= {("pending", "unpaid"), ("paid", "captured")}
        # the original took orders the snapshot could not see
        assert len(source_orders) > len(copy_orders)

        # stock: what is reserved is what the orders hold, in the original and in the copy
        reserved, sold = _reserved_and_sold(original, tenant.id, product.variant_id)
        assert reserved == sold == len(source_orders)
        reserved, sold = _reserved_and_sold(restored, tenant.id, product.variant_id)
        assert reserved == sold == len(copy_orders)

        # the ledger, once the events the dump caught undelivered are delivered
        env = {
            **os.environ,
            "APP_CONFIG": "testing",
            "FLASK_APP": "wsgi.py",
            "TEST_DATABASE_URL": restored_url.render_as_string(hide_password=False),
            "TEST_SEARCH_INDEX_DIR": str(tmp_path / "search"),
        }
        done = subprocess.run(
            [
                os.path.join(os.path.dirname(os.sys.executable), "flask"),
                "events",
                "redeliver",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert _ledger_mismatches(restored, tenant.id) == []
        assert _ledger_mismatches(original, tenant.id) == []
        with restored.connect() as conn:
            booked = conn.execute(
                text(
                    "SELECT COALESCE(SUM(amount), 0) FROM seller_ledger_entries "
                    "WHERE tenant_id = :t AND seller_id = :s"
                ),
                {"t": tenant.id, "s": seller.id},
            ).scalar_one()
        assert Decimal(booked) > 0

        # the copy is a working shop: a new order gets a number the copy has not given yet
        from app import create_app

        copy_app = create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=restored_url.render_as_string(hide_password=False),
            SEARCH_INDEX_DIR=str(tmp_path / "search"),
        )
        client = copy_app.test_client()
        h = api_headers(app, buyers[0].user)
        fill(client, h, (product.variant_id, 2))
        response = checkout(client, h, {"shipping_address": ADDRESS, "payment": CARD_OK})
        assert response.status_code == 201, response.get_json()
        numbers = {row[1] for row in copy_orders.values()}
        assert response.get_json()["number"] not in numbers
    finally:
        original.dispose()
        restored.dispose()
    print(
        f"\ndrill: {len(source_orders)} orders in the original, {len(copy_orders)} in the copy, "
        f"{len(before_dump)} confirmed before the dump began, {during_dump} during it, "
        f"{sum(1 for v in in_flight.values() if v[0] == 'pending')} caught half-way; "
        f"{done.stdout.strip()}"
    )
