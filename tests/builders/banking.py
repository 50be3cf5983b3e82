"""Bank accounts for tests: valid numbers (IBANs with right check digits, a US ABA routing
number) and a seller's account made through the service."""

from __future__ import annotations

from types import SimpleNamespace

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security.models import User
from app.sellers.actors import actor_for
from app.sellers.banking import services
from app.sellers.banking.inputs import NewBankAccount

IBAN_DE = "DE89370400440532013000"
IBAN_GB = "GB82WEST12345698765432"
IBAN_FR = "FR1420041010050500013M02606"
ABA = "021000021"  # a valid US ABA routing number (check digit)


def bank_account(
    app, seller, *, iban: str = IBAN_DE, currency: str = "EUR", holder: str = "Ada Seller", **extra
):
    """An account of `seller` (a factory record) made by the seller through the service."""
    with app.app_context(), tenant_scope(seller.tenant_id):
        actor = actor_for(db.session.get(User, seller.user.id))
        view = services.create_account(
            actor, NewBankAccount(holder_name=holder, currency=currency, iban=iban, **extra)
        )
        return SimpleNamespace(id=view.id, seller_id=seller.id, tenant_id=seller.tenant_id)
