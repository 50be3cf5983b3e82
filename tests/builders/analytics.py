"""Reading the analytics aggregates back in tests: a tenant's rows as plain tuples."""

from __future__ import annotations

from sqlalchemy import select

from analytics.aggregates.models import (
    CategorySalesDaily,
    CustomerDay,
    CustomerSummary,
    ProductActivityDaily,
    ProductDaily,
    SalesDaily,
)
from app.core.tenancy import tenant_scope
from app.extensions import db

MODELS = (SalesDaily, CategorySalesDaily, ProductDaily, ProductActivityDaily, CustomerDay)


def rows(app, tenant_id: int, model) -> list[tuple]:
    """The model's rows of the tenant (key then measures), sorted; rows of zeros left out."""
    columns = [getattr(model, c) for c in (*model_key(model), *model_measures(model))]
    with app.app_context(), tenant_scope(tenant_id):
        found = [tuple(r) for r in db.session.execute(select(*columns))]
    n = len(model_key(model))
    return sorted(r for r in found if any(r[n:]))


def model_key(model) -> tuple[str, ...]:
    if model is CustomerDay:
        return ("seller_id", "customer_user_id", "day", "currency")
    return model.KEY


def model_measures(model) -> tuple[str, ...]:
    if model is CustomerDay:
        return ("orders", "spend")
    return model.MEASURES


def snapshot(app, tenant_id: int) -> dict:
    """Every aggregate of the tenant, to compare before and after a rebuild."""
    out = {model.__tablename__: rows(app, tenant_id, model) for model in MODELS}
    with app.app_context(), tenant_scope(tenant_id):
        out["analytics_customers"] = sorted(
            tuple(r)
            for r in db.session.execute(
                select(
                    CustomerSummary.seller_id,
                    CustomerSummary.customer_user_id,
                    CustomerSummary.first_order_day,
                    CustomerSummary.orders,
                ).where(CustomerSummary.orders > 0)
            )
        )
    return out


def set_time_zone(app, tenant_id: int, zone: str | None) -> None:
    from app.tenants.models import Tenant

    with app.app_context(), tenant_scope(tenant_id):
        db.session.get(Tenant, tenant_id).time_zone = zone
        db.session.commit()


def set_currency(app, tenant_id: int, currency: str) -> None:
    """The shop's currency from now on (the next orders are placed in it)."""
    from app.tenants.models import Tenant

    with app.app_context(), tenant_scope(tenant_id):
        db.session.get(Tenant, tenant_id).default_currency = currency
        db.session.commit()


def planted(app, tenant_id: int, at: str, *parts, currency="USD", customer_user_id=None):
    """tests.builders.dashboards.placed (rows at a given UTC time, written through the ORM as
    checkout leaves them), for a customer, then refreshed as the order's events would: the
    sub-orders' ids."""
    from analytics.aggregates import maintain
    from app.orders.models import Order, SubOrder
    from tests.builders.dashboards import placed

    subs = placed(app, tenant_id, at, *parts, currency=currency)
    with app.app_context(), tenant_scope(tenant_id):
        order_id = db.session.get(SubOrder, subs[0]).order_id
        db.session.get(Order, order_id).customer_user_id = customer_user_id
        db.session.flush()
        maintain.refresh_order(tenant_id, order_id)
        db.session.commit()
    return subs


def rebuild(app, tenant_id: int, days: int | None = None, today=None) -> dict:
    from analytics.aggregates.rebuild import rebuild as run

    with app.app_context(), tenant_scope(tenant_id):
        return run(tenant_id, days, today=today)
