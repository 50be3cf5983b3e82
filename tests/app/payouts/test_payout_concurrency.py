"""A ledger entry is never paid twice, with REAL concurrent processes against the test database:
the payout job run three times at once, a payout approved three times at once, paid through the
adapter three times at once, and marked paid and failed at the same moment.

Each worker is this module run as a script (`python -m tests.app.payouts.test_payout_concurrency
<action> ...`): it builds the app on the same database, says it is ready, waits for the go (a
file the test writes once every worker is ready, so they all start together) and prints what its
call did as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.events.models import OutboxEvent
from app.extensions import db
from app.payouts import batches
from app.payouts.models import Payout, PayoutItem, SellerLedgerEntry
from tests.builders.payouts import payout_shop  # noqa: F401

D = Decimal
FIXTURES = (payout_shop,)
ROOT = Path(__file__).resolve().parents[3]


def _workers(tmp_path, app, calls: list[list[str]]) -> list[dict]:
    """Run one process per call, all released at once; their JSON answers."""
    go = tmp_path / "go"
    env = dict(os.environ, TEST_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    procs = []
    for i, call in enumerate(calls):
        ready = tmp_path / f"ready-{i}"
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "tests.app.payouts.test_payout_concurrency", str(ready)]
                + [str(go)]
                + call,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{i}").exists() for i in range(len(calls))):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.05)
    go.write_text("go")
    answers = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        answers.append(json.loads(out.strip().splitlines()[-1]))
    return answers


def test_the_job_run_three_times_at_once_pays_each_entry_once(payout_shop, factory, tmp_path):
    shop = payout_shop
    sellers = list(shop.sellers) + [factory.seller(shop.shop.tenant) for _ in range(4)]
    expected = {}
    for n, seller in enumerate(sellers):
        shop.account(seller)
        amounts = [D("10.00") + n, D("2.25"), D("-1.10") * n]
        for amount in amounts:
            if amount:
                shop.adjust(seller, str(amount))
        expected[seller.id] = sum(amounts)

    answers = _workers(tmp_path, shop.app, [["job", str(shop.tenant_id)]] * 3)

    payouts = shop.payouts()
    assert sorted((p[1], p[3]) for p in payouts) == sorted(expected.items())
    assert sum(a["payouts"] for a in answers) == len(sellers)
    assert sum(a["payouts"] + a["raced"] for a in answers) >= len(sellers)

    def check():
        claims = db.session.execute(
            select(func.count(PayoutItem.id), func.count(func.distinct(PayoutItem.ledger_entry_id)))
        ).one()
        earned = db.session.scalar(
            select(func.count(SellerLedgerEntry.id)).where(SellerLedgerEntry.kind == "adjustment")
        )
        payout_entries = db.session.scalar(
            select(func.count(SellerLedgerEntry.id)).where(SellerLedgerEntry.kind == "payout")
        )
        return tuple(claims), earned, payout_entries

    (items, distinct), earned, payout_entries = shop.run(check)
    assert items == distinct == earned  # every entry in exactly one payout
    assert payout_entries == len(sellers)  # one PAYOUT entry per payout, none for a lost race
    for seller in sellers:
        balance = shop.balance(seller)
        assert (balance.available, balance.paid) == (D("0.00"), expected[seller.id])


def _one_payout(shop, amount: str = "40.00") -> int:
    seller = shop.sellers[0]
    shop.account(seller)
    shop.adjust(seller, amount)
    shop.job()
    ((payout_id, *_),) = shop.payouts()
    return payout_id


def _events(shop, name: str, payout_id: int) -> int:
    return shop.run(
        lambda: db.session.scalar(
            select(func.count(OutboxEvent.id)).where(
                OutboxEvent.name == name, OutboxEvent.aggregate_id == str(payout_id)
            )
        )
    )


def test_a_payout_approved_three_times_at_once_is_approved_once(payout_shop, tmp_path):
    shop = payout_shop
    payout_id = _one_payout(shop)
    call = ["approve", str(shop.tenant_id), str(shop.admin.id), str(payout_id)]

    answers = _workers(tmp_path, shop.app, [call] * 3)

    assert sorted(a["changed"] for a in answers) == [False, False, True]
    assert {a["status"] for a in answers} == {"approved"}


def test_a_payout_paid_through_the_adapter_three_times_at_once_is_paid_once(payout_shop, tmp_path):
    shop = payout_shop
    payout_id = _one_payout(shop)
    shop.act(batches.approve, payout_id)
    call = ["pay", str(shop.tenant_id), str(shop.admin.id), str(payout_id)]

    answers = _workers(tmp_path, shop.app, [call] * 3)

    assert sorted(a["changed"] for a in answers) == [False, False, True]
    assert [p[4] for p in shop.payouts()] == ["paid"]
    assert _events(shop, "payout.paid", payout_id) == 1
    assert shop.balance(shop.sellers[0]).paid == D("40.00")


def test_marked_paid_and_failed_at_once_ends_one_way(payout_shop, tmp_path):
    shop = payout_shop
    payout_id = _one_payout(shop)
    shop.act(batches.approve, payout_id)
    base = [str(shop.tenant_id), str(shop.admin.id), str(payout_id)]

    answers = _workers(tmp_path, shop.app, [["paid", *base], ["fail", *base]] * 2)

    assert sum(a["changed"] for a in answers) == 1
    ((_, _, _, _, status, _),) = shop.payouts()
    seller = shop.sellers[0]
    reversed_ = shop.ledger_sum(seller, "payout_reversal")
    balance = shop.balance(seller)
    if status == "paid":
        assert (reversed_, balance.paid, balance.available) == (0, D("40.00"), D("0.00"))
        assert shop.claims() != []
    else:
        assert (reversed_, balance.paid, balance.available) == (D("40.00"), 0, D("40.00"))
        assert shop.claims() == []


def test_the_database_refuses_a_second_live_claim_of_an_entry(payout_shop):
    """Even code that skipped the service's checks cannot pay an entry twice."""
    from sqlalchemy.exc import IntegrityError

    shop = payout_shop
    payout_id = _one_payout(shop, "5.00")

    def second_claim():
        first = db.session.scalar(select(PayoutItem).where(PayoutItem.payout_id == payout_id))
        other = Payout(seller_id=first.payout.seller_id, currency="USD", amount=D("5.00"))
        db.session.add(other)
        db.session.flush()
        db.session.add(
            PayoutItem(
                payout_id=other.id,
                ledger_entry_id=first.ledger_entry_id,
                claimed_entry_id=first.ledger_entry_id,
            )
        )
        db.session.flush()

    with pytest.raises(IntegrityError):
        shop.run(second_claim)


# --- the worker (this module run as a script) -----------------------------------------------


def _worker(ready: str, go: str, action: str, tenant_id: str, *args: str) -> dict:
    from app import create_app
    from app.core.tenancy import tenant_scope
    from app.core.types import utcnow
    from app.security.models import User
    from app.sellers.actors import actor_for

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=os.environ["TEST_DATABASE_URL"])
    with app.app_context(), tenant_scope(int(tenant_id)):
        db.session.execute(select(1))  # connected before the start
        db.session.rollback()
        Path(ready).write_text("ready")
        while not Path(go).exists():
            time.sleep(0.005)
        if action == "job":
            summary = batches.JobSummary(started_at=utcnow())
            batches._run_tenant(int(tenant_id), utcnow(), summary)
            return {"payouts": summary.payouts, "raced": summary.raced}
        user_id, payout_id = int(args[0]), int(args[1])
        actor = actor_for(db.session.get(User, user_id))
        if action == "approve":
            result = batches.approve(actor, payout_id)
        elif action == "pay":
            result = batches.pay_with_adapter(actor, payout_id, "manual")
        elif action == "paid":
            try:
                result = batches.mark_paid(actor, payout_id, "TRX-RACE")
            except batches.Conflict:
                return {"changed": False, "status": "refused"}
        else:
            try:
                result = batches.mark_failed(actor, payout_id, "bank refused")
            except batches.Conflict:
                return {"changed": False, "status": "refused"}
        return {"changed": result.changed, "status": str(result.payout.status)}


if __name__ == "__main__":
    print(json.dumps(_worker(*sys.argv[1:])))
