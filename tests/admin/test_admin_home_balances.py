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
from app.sellers.actors import seller_id_of
from tests.builders.admin import login


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
