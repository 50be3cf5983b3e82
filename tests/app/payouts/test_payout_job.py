"""The payout job and staff actions against hand-computed cases: what is available (only after
the hold), the minimum, every skip reason (and the seller told once), the PAYOUT entry, approval
and payment once, a failed payout's reversal giving the money back to the next run, JPY."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.core.errors import Conflict, PermissionDenied, ValidationError
from app.core.types import utcnow
from app.payouts import batches
from app.payouts.adapters import AdapterResult
from tests.builders.ledger import Line, Sub
from tests.builders.payouts import payout_shop  # noqa: F401
from tests.builders.sellers import mails_to, outbox  # noqa: F401

D = Decimal
FIXTURES = (payout_shop, outbox)


def test_available_money_becomes_one_payout_with_its_payout_entry(payout_shop):
    shop = payout_shop
    seller, other = shop.sellers
    shop.account(seller)
    shop.adjust(seller, "30.00")
    shop.adjust(seller, "12.55")
    shop.adjust(seller, "-2.50")

    summary = shop.job()

    ((payout_id, seller_id, currency, amount, status, count),) = shop.payouts()
    assert (seller_id, currency, amount, status, count) == (
        seller.id,
        "USD",
        D("40.05"),
        "created",
        3,
    )
    assert summary.payouts == 1 and summary.entries == 3
    assert shop.ledger_sum(seller, "payout") == D("-40.05")
    balance = shop.balance(seller)
    assert (balance.available, balance.paid) == (D("0.00"), D("40.05"))
    # nothing left to pay: a second run builds nothing and tells nobody anything
    assert shop.job().payouts == 0
    assert len(shop.payouts()) == 1 and shop.skips(seller) == []
    assert shop.payouts(other) == []


def test_sales_are_paid_only_after_delivery_and_hold(payout_shop):
    shop = payout_shop
    seller = shop.sellers[0]
    shop.account(seller)
    shop.shop.hold_days(3)
    order_id = shop.shop.order(Sub(seller.id, (Line("100.00", commission="10.00"),), shipping="5"))
    shop.shop.pay(order_id)
    (sub_id,) = shop.shop.sub_ids(order_id)

    assert shop.job().payouts == 0  # paid, not delivered: pending
    shop.shop.step(sub_id, "processing", "shipped", "delivered")
    assert shop.job().payouts == 0  # delivered, in its hold
    assert shop.job(utcnow() + dt.timedelta(days=2, hours=23)).payouts == 0
    assert shop.skips(seller) == []

    shop.job(utcnow() + dt.timedelta(days=3, minutes=1))
    ((_, _, _, amount, _, count),) = shop.payouts()
    assert (amount, count) == (D("95.00"), 3)  # sale 100 - commission 10 + shipping 5


def test_minimum_skips_and_tells_the_seller_once(payout_shop, outbox):
    shop = payout_shop
    seller = shop.sellers[0]
    shop.account(seller)
    shop.minimum("50.00")
    shop.adjust(seller, "49.99")

    shop.job()
    shop.job()
    assert shop.payouts() == []
    assert shop.skips(seller) == [("USD", "below_minimum", D("49.99"))] * 2
    (mail,) = mails_to(outbox, seller.user.email)
    assert "minimum payout of 50.00 USD" in mail.get_body(("plain",)).get_content()

    shop.adjust(seller, "0.01")
    shop.job()
    ((_, _, _, amount, _, _),) = shop.payouts()
    assert amount == D("50.00")


def test_no_verified_default_account_in_the_currency_is_a_skip(payout_shop, outbox):
    shop = payout_shop
    seller = shop.sellers[0]
    shop.account(seller, "EUR")  # verified, another currency
    shop.account(seller, "USD", verified=False)
    shop.adjust(seller, "20.00")

    shop.job()
    assert shop.payouts() == []
    assert shop.skips(seller) == [("USD", "no_bank_account", D("20.00"))]
    (mail,) = mails_to(outbox, seller.user.email)
    assert "no verified default bank account in USD" in mail.get_body(("plain",)).get_content()


def test_suspended_seller_and_negative_balance_are_skipped(payout_shop, factory):
    shop = payout_shop
    seller, other = shop.sellers
    shop.account(seller)
    shop.account(other)
    shop.adjust(seller, "20.00")
    shop.adjust(other, "-5.00")
    suspended = factory.seller(shop.shop.tenant, status="suspended")
    shop.account(suspended)
    shop.adjust(suspended, "20.00")

    shop.job()
    assert shop.skips(suspended) == [("USD", "seller_suspended", D("20.00"))]
    assert shop.skips(other) == [("USD", "negative_balance", D("-5.00"))]
    assert [p[1] for p in shop.payouts()] == [seller.id]


def test_zero_decimal_currency(payout_shop):
    shop = payout_shop
    seller = shop.sellers[0]
    shop.account(seller, "JPY")
    shop.adjust(seller, "1500", "JPY")
    shop.adjust(seller, "-333", "JPY")

    shop.job()
    ((_, _, currency, amount, _, _),) = shop.payouts()
    assert (currency, amount) == ("JPY", D("1167"))
    assert shop.balance(seller, "JPY").paid == D("1167")


def test_approve_and_mark_paid_happen_once(payout_shop):
    shop = payout_shop
    seller = shop.sellers[0]
    shop.account(seller)
    shop.adjust(seller, "10.00")
    shop.job()
    ((payout_id, *_),) = shop.payouts()

    with pytest.raises(Conflict):
        shop.act(batches.mark_paid, payout_id, "TRX-1")  # not approved yet
    first = shop.act(batches.approve, payout_id)
    again = shop.act(batches.approve, payout_id)
    assert (first.changed, again.changed) == (True, False)
    assert again.payout.approved_by_user_id == shop.admin.id
    with pytest.raises(ValidationError):
        shop.act(batches.mark_paid, payout_id, "  ")
    paid = shop.act(batches.mark_paid, payout_id, "TRX-1")
    assert (paid.changed, paid.payout.status, paid.payout.external_reference) == (
        True,
        "paid",
        "TRX-1",
    )
    assert shop.act(batches.mark_paid, payout_id, "TRX-2").changed is False
    with pytest.raises(Conflict):
        shop.act(batches.mark_failed, payout_id, "bounced")  # paid is final
    with pytest.raises(PermissionDenied):
        shop.run(lambda: batches.approve(shop.seller_actor(seller), payout_id))


def test_failed_payout_is_reversed_and_paid_again_by_the_next_run(payout_shop, outbox):
    shop = payout_shop
    seller = shop.sellers[0]
    shop.account(seller)
    shop.adjust(seller, "25.00")
    shop.adjust(seller, "5.00")
    shop.job()
    ((first_id, *_),) = shop.payouts()
    shop.act(batches.approve, first_id)
    claims = sorted(shop.claims())

    failed = shop.act(batches.mark_failed, first_id, "account closed")
    assert failed.changed and failed.payout.failure_reason == "account closed"
    assert shop.act(batches.mark_failed, first_id, "again").changed is False
    assert shop.ledger_sum(seller, "payout_reversal") == D("30.00")
    balance = shop.balance(seller)
    assert (balance.available, balance.paid) == (D("30.00"), D("0.00"))
    assert shop.claims() == []
    (mail,) = mails_to(outbox, seller.user.email)
    assert "account closed" in mail.get_body(("plain",)).get_content()

    shop.job()
    (_, (second_id, _, _, amount, status, count)) = shop.payouts()
    assert (amount, status, count) == (D("30.00"), "created", 2)  # the same two entries
    assert sorted(shop.claims()) == claims
    assert shop.balance(seller).available == D("0.00")
    assert shop.job().payouts == 0


class _Refusing:
    name = "refusing"

    def pay(self, request):
        return AdapterResult.failed("insufficient platform funds")


class _Raising:
    name = "raising"

    def pay(self, request):
        raise RuntimeError("provider timeout")


@pytest.mark.parametrize(
    "adapter, status, detail",
    [
        ("manual", "paid", "MANUAL-"),
        ("refusing", "failed", "insufficient platform funds"),
        ("raising", "failed", "RuntimeError: provider timeout"),
    ],
)
def test_pay_through_an_adapter(payout_shop, monkeypatch, adapter, status, detail):
    shop = payout_shop
    monkeypatch.setitem(
        shop.app.config,
        "PAYOUT_ADAPTERS",
        {
            "manual": "app.payouts.adapters:ManualAdapter",
            "refusing": f"{__name__}:_Refusing",
            "raising": f"{__name__}:_Raising",
        },
    )
    seller = shop.sellers[0]
    shop.account(seller)
    shop.adjust(seller, "10.00")
    shop.job()
    ((payout_id, *_),) = shop.payouts()
    with pytest.raises(Conflict):
        shop.act(batches.pay_with_adapter, payout_id, "manual")  # not approved
    shop.act(batches.approve, payout_id)
    with pytest.raises(ValidationError):
        shop.act(batches.pay_with_adapter, payout_id, "nope")

    result = shop.act(batches.pay_with_adapter, payout_id, adapter)
    assert result.payout.status == status and result.payout.adapter == adapter
    text = result.payout.external_reference if status == "paid" else result.payout.failure_reason
    assert detail in text
    if status == "paid":
        again = shop.act(batches.pay_with_adapter, payout_id, "manual")
        assert again.changed is False and again.payout.status == "paid"
        assert shop.balance(seller).paid == D("10.00")
    else:
        with pytest.raises(Conflict):  # failed is final
            shop.act(batches.pay_with_adapter, payout_id, "manual")
        assert shop.balance(seller).available == D("10.00")


def test_the_cron_task_and_the_cli_run_the_job(app, payout_shop):
    from jobs.schedule import SCHEDULE
    from jobs.tasks import run_payouts

    (entry,) = [e for e in SCHEDULE if e.func is run_payouts]
    assert entry.cron == batches.PAYOUT_CRON == "0 2 * * *"
    shop = payout_shop
    seller = shop.sellers[0]
    shop.account(seller)
    shop.adjust(seller, "8.00")
    result = app.test_cli_runner().invoke(args=["payouts", "run"])
    assert result.exit_code == 0, result.output
    assert "payout(s)" in result.output
    assert [(p[3], p[4]) for p in shop.payouts(seller)] == [(D("8.00"), "created")]
    assert batches.next_run(dt.datetime(2026, 12, 7, 5, 0, tzinfo=dt.timezone.utc)) == dt.datetime(
        2026, 12, 8, 2, 0, tzinfo=dt.timezone.utc
    )
