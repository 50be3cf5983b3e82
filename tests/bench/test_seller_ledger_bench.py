"""bench/seller_ledger_bench.py at a small scale, so it cannot rot: its seeding (INSERT ... SELECT
from MariaDB's sequence engine) writes a shop the ledger's rules hold for (every paid sub-order's
entries net its total less commission, refunds take back what they should, releases 14 days after
delivery, payouts only of money that was available, the first seller the biggest), and its
measurements run against that shop through the API (test client instead of gunicorn) and write
their report. MariaDB only: skipped on the SQLite smoke run."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from flask_jwt_extended import create_access_token
from sqlalchemy import func, select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.orders.models import OrderLine, SubOrder
from app.payouts import statements
from app.payouts.models import SellerLedgerEntry, SellerLedgerRelease
from tests.conftest import unique

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "seller_ledger_bench.py"
_spec = importlib.util.spec_from_file_location("bench_seller_ledger", SCRIPT)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

ENTRIES = 3000
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)
D = Decimal


def _half(amount: Decimal) -> Decimal:
    return (amount / 2).quantize(D("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def seeded(app, is_sqlite):
    if is_sqlite:
        pytest.skip("the bench seeds with MariaDB's sequence engine")
    from tests.builders.factories import Factory

    tenant = Factory(app).tenant()
    with app.app_context(), tenant_scope(tenant.id):
        sellers = bench.make_sellers(tenant.id, 8, email_prefix=unique("s"))
        counts = bench.seed_shop(
            tenant.id, sellers, ENTRIES, now=NOW, products=30, prefix=unique("B")[:8], log=print
        )
    return tenant, sellers, counts


def test_the_shop_it_seeds(app, seeded):
    tenant, sellers, counts = seeded
    assert 0.8 * ENTRIES < counts["entries"] < 1.3 * ENTRIES
    big = sellers[0][0]
    assert counts["biggest_seller_entries"] > counts["second_seller_entries"]
    with app.app_context(), tenant_scope(tenant.id):
        subs = db.session.execute(
            select(
                SubOrder.id,
                SubOrder.status,
                SubOrder.total,
                SubOrder.commission_amount,
                SubOrder.subtotal,
            )
        ).all()
        assert len(subs) == counts["sub_orders"]
        net = dict(
            db.session.execute(
                select(SellerLedgerEntry.sub_order_id, func.sum(SellerLedgerEntry.amount))
                .where(SellerLedgerEntry.sub_order_id.is_not(None))
                .group_by(SellerLedgerEntry.sub_order_id)
            ).all()
        )
        for sub_id, status, total, commission, subtotal in subs:
            if status in ("pending", "cancelled"):
                assert sub_id not in net
            elif status == "refunded":
                assert net[sub_id] == 0
            elif status == "partially_refunded":  # half the line back, half the commission
                assert net[sub_id] == total - commission - _half(subtotal) + _half(commission)
            else:
                assert net[sub_id] == total - commission, (sub_id, status)
        releases = db.session.execute(
            select(
                SellerLedgerRelease.sub_order_id,
                SellerLedgerRelease.delivered_at,
                SellerLedgerRelease.available_at,
            )
        ).all()
        status_of = {s[0]: s[1] for s in subs}
        assert releases and all(
            status_of[sub] in bench.DELIVERED and ready - delivered == dt.timedelta(days=14)
            for sub, delivered, ready in releases
        )
        # the biggest seller's lines sell its products; the others' name none
        sold = db.session.execute(
            select(OrderLine.seller_id, func.count(OrderLine.product_id)).group_by(
                OrderLine.seller_id
            )
        ).all()
        assert {seller: n > 0 for seller, n in sold} == {
            seller: seller == big for seller, _ in sold
        }
        # ids grow with time, as the consumers write them
        dates = db.session.scalars(
            select(SellerLedgerEntry.created_at).order_by(SellerLedgerEntry.id)
        ).all()
        assert dates == sorted(dates)
        # payouts paid only money that was available: nobody's available balance is negative
        for seller_id, _ in sellers:
            for money in statements.balances(seller_id, NOW):
                assert money.available >= 0 and money.pending >= 0
        (usd,) = statements.balances(big, NOW)
        assert usd.paid > 0


def test_its_measurements_and_report(app, seeded, monkeypatch, tmp_path):
    tenant, sellers, counts = seeded
    shop = {
        "tenant": tenant.slug,
        "tenant_id": tenant.id,
        "sellers": len(sellers),
        "biggest_seller_id": sellers[0][0],
        "biggest_user_id": sellers[0][1],
        "rows": counts,
    }
    with app.app_context(), tenant_scope(tenant.id):
        token = create_access_token(identity=str(sellers[0][1]))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "X-Tenant": tenant.slug}

    def get(path):
        response = client.get(path, headers=headers)
        return response.status_code, response.get_data()

    today = dt.datetime.now(dt.timezone.utc).date()
    api = {
        name: bench.time_http(get, path, 3, 1, None)
        for name, path in bench.api_cases(counts["biggest_seller_entries"], today).items()
    }
    assert all(r["n"] == 3 and r["p99_ms"] >= r["p50_ms"] > 0 for r in api.values())
    exports = {
        "csv": bench.time_export(get, "/api/v1/sellers/me/statement.csv"),
        "xlsx": bench.time_export(get, "/api/v1/sellers/me/statement.xlsx"),
    }
    assert exports["csv"]["rows"] == counts["biggest_seller_entries"]
    results = {
        "api": api,
        "api_uncached_in_process": {"dashboard, 30 days": bench.uncached_dashboard(app, shop, 2)},
        "exports": exports,
        "payout_job": {"skipped": "not in this test"},
    }
    monkeypatch.setattr(bench, "RESULTS", tmp_path)
    args = argparse.Namespace(tag="test")
    assert bench.report(args, shop, "test client", results) in (0, 1)
    text = (tmp_path / "seller_ledger.md").read_text()
    assert "| dashboard, 30 days |" in text and "Targets:" in text
    assert (tmp_path / "seller_ledger.json").exists()


def test_its_bank_accounts_let_the_payout_job_pay(app, seeded):
    """Without them every seller is skipped (no_bank_account) and the job's figure means nothing:
    one verified default account per seller and currency, stored as app.sellers.banking stores
    a number (encrypted, its keyed fingerprint, its last 4); a second call adds none."""
    from sqlalchemy import text

    from app.core.crypto import decrypt
    from app.payouts import batches
    from app.sellers.banking import numbers
    from app.sellers.banking.models import VERIFIED, SellerBankAccount

    tenant, sellers, _ = seeded
    big = sellers[0][0]
    with app.app_context(), tenant_scope(tenant.id):
        before = batches.next_payout(big, tenant.id, NOW).currencies
        assert [(c.currency, c.would_pay, c.reason) for c in before] == [
            ("USD", False, "no_bank_account")
        ]
        pairs = db.session.execute(
            select(SellerLedgerEntry.seller_id, SellerLedgerEntry.currency).distinct()
        ).all()
        assert bench.seed_bank_accounts(tenant.id) == len(pairs) == len(sellers)
        assert bench.seed_bank_accounts(tenant.id) == 0
        rows = db.session.scalars(select(SellerBankAccount)).all()
        assert {(r.seller_id, r.currency) for r in rows} == set(pairs)
        for row in rows:
            assert row.is_default and row.verification_status == VERIFIED
            number = numbers.parse(
                account_number=row.account_number, routing_number=row.routing_number, country="US"
            )
            assert row.account_number_hash == number.fingerprint()
            assert row.number_last4 == row.account_number[-4:]
        stored = db.session.scalar(
            text("SELECT account_number FROM seller_bank_accounts WHERE id = :i"),
            {"i": rows[0].id},
        )
        # encrypted at rest, by the application's key
        assert rows[0].account_number not in stored
        assert decrypt(stored) == rows[0].account_number
        after = batches.next_payout(big, tenant.id, NOW).currencies
        assert [(c.currency, c.would_pay) for c in after] == [("USD", True)]
        assert after[0].amount == before[0].amount > 0


def test_its_payout_job_report(app, seeded, monkeypatch, tmp_path):
    """--payout-job-only: the runs replace the payout job's part of seller_ledger.json (the HTTP
    figures of the last full run stay) and a table is appended to seller_ledger.md."""
    tenant, sellers, counts = seeded
    shop = {"tenant": tenant.slug, "tenant_id": tenant.id, "sellers": len(sellers), "rows": counts}
    monkeypatch.setattr(bench, "RESULTS", tmp_path)
    (tmp_path / "seller_ledger.json").write_text(
        '{"api": {"ping": {}}, "verdict": {"csv_ok": true}}'
    )
    outcome = {"tenants": 1, "payouts": 8, "entries": 900, "amounts": {"USD": "10.00"}}
    runs = [
        {"seconds": 61.5, "peak_rss_mb": 200.0, "rss_before_job_mb": 190.0, "outcome": outcome},
        {"seconds": 2.0, "peak_rss_mb": 200.0, "rss_before_job_mb": 200.0, "outcome": outcome},
    ]
    args = argparse.Namespace(tag="t", database_url=app.config["SQLALCHEMY_DATABASE_URI"])
    assert bench.report_payout_job(args, shop, runs) == 1  # 61.5 s misses the 60 s target
    record = __import__("json").loads((tmp_path / "seller_ledger.json").read_text())
    assert record["api"] == {"ping": {}} and record["verdict"]["csv_ok"] is True
    assert record["payout_job"]["seconds"] == 61.5 and record["verdict"]["payout_job_ok"] is False
    assert record["payout_job_later_runs"] == runs[1:]
    assert set(record["payout_job_state_after"]) == {"payouts", "payout_items", "payout_skips"}
    text = (tmp_path / "seller_ledger.md").read_text()
    assert "| 1 | 61.5 |" in text and "| 2 | 2.0 |" in text and "MISSED" in text
