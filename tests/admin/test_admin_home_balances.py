"""The Seller's admin home shows its balances as the payouts ledger derives them (pending,
available, paid out per currency), its own only."""

from __future__ import annotations

import re
from decimal import Decimal

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.payouts import ledger
from app.security import roles
from app.security.actor import Actor
from app.security.models import User
from app.sellers.actors import actor_for, seller_id_of
from app.sellers.banking import services as banking
from tests.builders.admin import login
from tests.builders.banking import bank_account


def _words(html: str) -> str:
    return " ".join(html.split())


def test_the_sellers_home_shows_its_ledger_balances(app, factory):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    with app.app_context(), tenant_scope(tenant.id):
        staff = Actor(
            user_id=admin.id,
            tenant_id=tenant.id,
            role_names=frozenset({roles.ADMIN}),
            find_seller_id=seller_id_of,
        )
        for who, amount in ((seller, "12.50"), (other, "777.00")):
            ledger.record_adjustment(
                staff,
                ledger.Adjustment(
                    seller_id=who.id, currency="USD", amount=Decimal(amount), reason="opening"
                ),
            )
        db.session.commit()
    client, _ = login(app, tenant.slug, seller.user.username)
    page = _words(client.get("/").get_data(as_text=True))
    assert "dash-balances" in page
    i = page.index("dash-balances")
    tiles = re.findall(
        r'dash-label text-muted">([^<]+)</div> <div class="dash-value">(?:<span[^>]*>)?([^<]+)<',
        page[i:],
    )
    assert tiles[:3] == [("Pending", "$0.00"), ("Available", "$12.50"), ("Paid out", "$0.00")]
    assert "$777.00" not in page  # the other seller's money is not on this page


def _tile(page: str, label: str) -> tuple[str, str]:
    """The value and the note of the tile called `label`, as words."""
    found = re.search(
        r'dash-label text-muted">' + label + r'</div> <div class="dash-value">(.*?)</div> '
        r'<div class="dash-note">(.*?)</div>',
        page,
    )
    assert found, label
    return tuple(re.sub(r"<[^>]+>", "", part).strip() for part in found.groups())


def test_the_sellers_home_says_what_the_next_payout_run_pays_or_why_not(app, factory):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    with app.app_context(), tenant_scope(tenant.id):
        staff = actor_for(db.session.get(User, admin.id))
        ledger.record_adjustment(
            staff,
            ledger.Adjustment(
                seller_id=seller.id, currency="USD", amount=Decimal("40.00"), reason="opening"
            ),
        )
        db.session.commit()
    client, _ = login(app, tenant.slug, seller.user.username)
    value, note = _tile(_words(client.get("/").get_data(as_text=True)), "Next payout")
    assert value == "Nothing due" and note.startswith("needs a verified bank account (next run ")

    account = bank_account(app, seller, currency="USD")
    with app.app_context(), tenant_scope(tenant.id):
        banking.verify_account(actor_for(db.session.get(User, admin.id)), account.id)
        db.session.commit()
    value, note = _tile(_words(client.get("/").get_data(as_text=True)), "Next payout")
    assert value == "$40.00" and note.startswith("on ") and "2:00" in note
