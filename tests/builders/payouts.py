"""Builders of the payouts' tests: a LedgerShop (tests/builders/ledger.py) whose sellers get
verified default bank accounts, adjustments (available at once) or delivered orders (available
after the hold), a minimum payout, and the job and staff actions run as their callers would."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.core.tenancy import tenant_scope
from app.core.types import utcnow
from app.extensions import db
from app.payouts import batches, ledger
from app.payouts.models import (
    Payout,
    PayoutItem,
    PayoutSettings,
    PayoutSkip,
    SellerLedgerEntry,
)
from app.security.models import User
from app.sellers.actors import actor_for
from app.sellers.banking import services as banking
from tests.builders.banking import IBAN_DE, IBAN_FR, IBAN_GB, bank_account
from tests.builders.ledger import ledger_shop  # noqa: F401  (the fixture payout_shop builds on)

D = Decimal
IBANS = (IBAN_DE, IBAN_GB, IBAN_FR)


class PayoutShop:
    def __init__(self, shop):
        self.shop = shop
        self.app = shop.app
        self.tenant_id = shop.tenant_id
        self.sellers = shop.sellers
        self.admin = shop.admin
        self._ibans: dict[int, int] = {}

    def run(self, fn, *args, **kwargs):
        return self.shop.run(fn, *args, **kwargs)

    def admin_actor(self):
        return actor_for(db.session.get(User, self.admin.id))

    def seller_actor(self, seller):
        return actor_for(db.session.get(User, seller.user.id))

    def account(self, seller, currency: str = "USD", verified: bool = True) -> int:
        """A default account of `seller` in `currency` (verified by staff unless told not)."""
        used = self._ibans.get(seller.id, 0)
        self._ibans[seller.id] = used + 1
        made = bank_account(self.app, seller, iban=IBANS[used], currency=currency)
        if verified:
            self.run(lambda: banking.verify_account(self.admin_actor(), made.id))
        return made.id

    def adjust(self, seller, amount: str, currency: str = "USD", reason: str = "test") -> None:
        def go():
            ledger.record_adjustment(
                self.admin_actor(),
                ledger.Adjustment(
                    seller_id=seller.id, currency=currency, amount=D(amount), reason=reason
                ),
            )
            db.session.commit()

        self.run(go)

    def minimum(self, amount: str) -> None:
        def save():
            row = db.session.scalar(select(PayoutSettings)) or PayoutSettings()
            row.minimum_payout = D(amount)
            db.session.add(row)
            db.session.commit()

        self.run(save)

    def job(self, now=None) -> batches.JobSummary:
        """The job for this tenant only (other tests' tenants are not this test's business)."""

        def go():
            summary = batches.JobSummary(started_at=now or utcnow())
            batches._run_tenant(self.tenant_id, now or utcnow(), summary)
            return summary

        return self.run(go)

    def payouts(self, seller=None) -> list[tuple]:
        """[(id, seller_id, currency, amount, status, entry_count)] by id."""

        def read():
            stmt = select(
                Payout.id,
                Payout.seller_id,
                Payout.currency,
                Payout.amount,
                Payout.status,
                Payout.entry_count,
            ).order_by(Payout.id)
            if seller is not None:
                stmt = stmt.where(Payout.seller_id == seller.id)
            return [tuple(row) for row in db.session.execute(stmt)]

        return self.run(read)

    def skips(self, seller) -> list[tuple]:
        """[(currency, reason, amount)] by id."""
        return self.run(
            lambda: [
                tuple(row)
                for row in db.session.execute(
                    select(PayoutSkip.currency, PayoutSkip.reason, PayoutSkip.amount)
                    .where(PayoutSkip.seller_id == seller.id)
                    .order_by(PayoutSkip.id)
                )
            ]
        )

    def balance(self, seller, currency: str = "USD", now=None):
        from app.payouts import statements

        found = self.run(lambda: statements.balances(seller.id, now))
        return next((b for b in found if b.currency == currency), None)

    def claims(self) -> list[int]:
        """Every live claim's entry id (each at most once by the UNIQUE key)."""
        return self.run(
            lambda: list(
                db.session.scalars(
                    select(PayoutItem.claimed_entry_id).where(
                        PayoutItem.claimed_entry_id.is_not(None)
                    )
                )
            )
        )

    def ledger_sum(self, seller, kind: str) -> Decimal:
        return self.run(
            lambda: db.session.scalar(
                select(func.coalesce(func.sum(SellerLedgerEntry.amount), 0)).where(
                    SellerLedgerEntry.seller_id == seller.id, SellerLedgerEntry.kind == kind
                )
            )
        )

    def act(self, fn, payout_id: int, *args):
        """A staff action (app.payouts.batches.approve, mark_paid...) by the shop's admin: its
        result, with the payout's columns read before the session closes."""

        def go():
            result = fn(self.admin_actor(), payout_id, *args)
            columns = {c.key: getattr(result.payout, c.key) for c in Payout.__table__.columns}
            return SimpleNamespace(changed=result.changed, payout=SimpleNamespace(**columns))

        return self.run(go)


@pytest.fixture
def payout_shop(ledger_shop):  # noqa: F811
    return PayoutShop(ledger_shop)


def add_payout_rows(seller_id: int) -> None:
    """One row of every tenant-owned model of payouts, for the tenancy tests (call under
    tenant_scope after add_ledger_rows): a payout paying the seller's first entry, and a skip."""
    entry = db.session.scalar(
        select(SellerLedgerEntry)
        .where(SellerLedgerEntry.seller_id == seller_id)
        .order_by(SellerLedgerEntry.id)
    )
    payout = Payout(seller_id=seller_id, currency="USD", amount=D("10.00"), entry_count=1)
    db.session.add(payout)
    db.session.flush()
    db.session.add_all(
        [
            PayoutItem(payout_id=payout.id, ledger_entry_id=entry.id, claimed_entry_id=entry.id),
            PayoutSkip(seller_id=seller_id, currency="EUR", reason="no_bank_account", amount=1),
        ]
    )
    db.session.commit()


__all__ = ["PayoutShop", "payout_shop", "add_payout_rows", "tenant_scope"]
