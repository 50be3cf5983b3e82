"""Commission rules for tests, written as the admin writes them (checked by prepare_rule)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.commissions.models import CommissionRule
from app.commissions.services import prepare_rule
from app.core.tenancy import tenant_scope
from app.extensions import db


def rule(app, tenant_id: int, name: str = "rule", **fields) -> int:
    """A commission rule of the tenant; rates and amounts as strings ("0.05", "1.00")."""
    for money in ("rate", "fixed_amount"):
        if fields.get(money) is not None:
            fields[money] = Decimal(fields[money])
    with app.app_context(), tenant_scope(tenant_id):
        row = CommissionRule(name=name, **fields)
        prepare_rule(row)
        db.session.add(row)
        db.session.commit()
        return row.id


def days(n: float) -> dt.datetime:
    """n days from now (UTC)."""
    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=n)
