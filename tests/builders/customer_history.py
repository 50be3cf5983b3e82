"""Planted customer histories for the customer models (analytics/ml/customers): a few hundred
customers and their paid orders written in bulk through the ORM models, as checkout leaves them
(an order, its one sub-order, paid and dated; `refunded_total` for refunds), plus activity-log rows.
Every figure comes from a seeded numpy generator: the same data each run.

- `segments_history`: five planted groups (champions, loyal, new, at risk, hibernating) of 40
  customers each, with the orders and activity that make them what they are.
- `lifecycle_history`: 300 customers, each with its own rhythm (mean days between orders, 8..90)
  and basket size: it orders at random (exponential gaps) and after each order may stop for good,
  likely after its first two orders (35 %), seldom later (5 %). Who places no order in the next
  90 days depends on how long since the last one against its rhythm and on how many it placed,
  and the next 90 days' spend on rhythm x basket: what churn and lifetime value must learn.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from types import SimpleNamespace

import numpy as np

from app.core.tenancy import tenant_scope
from app.core.types import utcnow
from app.customers.engagement_models import CustomerActivity
from app.customers.models import CustomerProfile
from app.extensions import db
from app.orders.models import Order, SubOrder
from app.security import roles
from app.security.services import create_user
from tests.builders.factories import _HASH, PASSWORD, Factory

GROUPS = ("champions", "loyal", "new", "at risk", "hibernating")


def _customers(tenant_id: int, n: int, prefix: str) -> list[tuple[int, int]]:
    """n customers (user, profile) of the tenant, in one transaction."""
    users = [
        create_user(
            tenant_id=tenant_id,
            email=f"{prefix}{i}-{uuid.uuid4().hex[:6]}@example.com",
            password=PASSWORD,
            first_name=f"{prefix.title()}{i}",
            last_name="Buyer",
            role_names=[roles.CUSTOMER],
            password_hash=_HASH,
            check_password=False,
        )
        for i in range(n)
    ]
    db.session.flush()
    profiles = [CustomerProfile(user_id=u.id) for u in users]
    db.session.add_all(profiles)
    db.session.flush()
    return [(u.id, p.id) for u, p in zip(users, profiles, strict=True)]


def _orders(seller_id: int, orders: list[tuple[int, dt.datetime, float, float, str]]) -> None:
    """Paid orders (user, placed at, total, refunded, currency), one sub-order each."""
    batch = []
    for user_id, when, total, refunded, currency in orders:
        total = Decimal(str(round(total, 2)))
        refunded = Decimal(str(round(refunded, 2)))
        number = "H-" + uuid.uuid4().hex[:12].upper()
        status = "refunded" if refunded >= total else "delivered"
        order = Order(
            number=number,
            customer_user_id=user_id,
            email="buyer@example.com",
            currency=currency,
            shipping_address={"country": "GB"},
            subtotal=total,
            total=total,
            refunded_total=refunded,
            status=status,
            payment_status="refunded" if refunded >= total else "captured",
            paid_at=when,
            created_at=when,
            updated_at=when,
        )
        order.sub_orders.append(
            SubOrder(
                seller_id=seller_id,
                number=f"{number}-1",
                status=status,
                commission_rate=Decimal("0.1"),
                commission_amount=(total * Decimal("0.1")).quantize(Decimal("0.01")),
                subtotal=total,
                total=total,
                created_at=when,
                updated_at=when,
            )
        )
        batch.append(order)
    db.session.add_all(batch)
    db.session.flush()


def _activity(profile_id: int, n: int, now: dt.datetime, rng, within_days: int = 80) -> list:
    kinds = ("product_view", "product_view", "add_to_cart", "wishlist_add", "search")
    return [
        CustomerActivity(
            customer_id=profile_id,
            type=kinds[int(rng.integers(len(kinds)))],
            payload={},
            created_at=now - dt.timedelta(days=float(rng.uniform(0.5, within_days))),
        )
        for _ in range(n)
    ]


def segments_history(app, per_group: int = 40, seed: int = 7) -> SimpleNamespace:
    """A tenant with the five planted groups; `groups` maps each user id to its group."""
    factory = Factory(app)
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    rng = np.random.default_rng(seed)
    now = utcnow()
    groups: dict[int, str] = {}
    with app.app_context(), tenant_scope(tenant.id):
        people = _customers(tenant.id, per_group * len(GROUPS), "seg")
        orders, activity = [], []
        for index, (user_id, profile_id) in enumerate(people):
            group = GROUPS[index % len(GROUPS)]
            groups[user_id] = group
            # (orders, mean gap days, days since the last order, basket, activity events)
            n, gap, last, basket, events = {
                "champions": (int(rng.integers(10, 15)), 18, rng.uniform(1, 10), 150, 12),
                "loyal": (int(rng.integers(5, 8)), 40, rng.uniform(5, 25), 60, 6),
                "new": (1, 0, rng.uniform(2, 25), 50, 5),
                "at risk": (int(rng.integers(7, 10)), 18, rng.uniform(150, 200), 100, 0),
                "hibernating": (1, 0, rng.uniform(250, 330), 25, 0),
            }[group]
            when = now - dt.timedelta(days=float(last))
            for _ in range(n):
                total = basket * float(rng.uniform(0.8, 1.2))
                orders.append((user_id, when, total, 0.0, "USD"))
                when -= dt.timedelta(days=float(gap * rng.uniform(0.7, 1.3)))
            activity += _activity(profile_id, events + int(rng.integers(0, 3)), now, rng)
        _orders(seller.id, orders)
        db.session.add_all(activity)
        db.session.commit()
    return SimpleNamespace(tenant=tenant, seller=seller, admin=admin, groups=groups)


def lifecycle_history(app, customers: int = 300, seed: int = 11) -> SimpleNamespace:
    """A tenant of customers who order at their own rhythm until they stop (see the docstring);
    a few orders in EUR (never counted as USD money) and a few refunds."""
    factory = Factory(app)
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    rng = np.random.default_rng(seed)
    now = utcnow()
    with app.app_context(), tenant_scope(tenant.id):
        people = _customers(tenant.id, customers, "life")
        orders, activity = [], []
        for user_id, profile_id in people:
            start = float(rng.uniform(60, 560))  # days ago
            gap = float(np.exp(rng.uniform(np.log(8), np.log(90))))
            basket = float(rng.uniform(20, 200))
            t, placed, buying = start, 0, True
            while t > 0:
                total = basket * float(rng.uniform(0.7, 1.3))
                eur = rng.uniform() < 0.03
                refunded = total if rng.uniform() < 0.04 else 0.0
                orders.append(
                    (user_id, now - dt.timedelta(days=t), total, refunded, "EUR" if eur else "USD")
                )
                placed += 1
                # after each order it may stop for good: often after its first two, seldom later
                if rng.uniform() < (0.35 if placed <= 2 else 0.05):
                    buying = False
                    break
                t -= max(1.0, float(rng.exponential(gap)))
            if buying:  # still buying: browses too
                activity += _activity(profile_id, int(rng.integers(1, 6)), now, rng)
        _orders(seller.id, orders)
        db.session.add_all(activity)
        db.session.commit()
    return SimpleNamespace(
        tenant=tenant, seller=seller, admin=admin, customers=[u for u, _ in people]
    )


_BUILT: dict[tuple[int, str], SimpleNamespace] = {}


def once(app, builder) -> SimpleNamespace:
    """`builder(app)`'s shop, built once per test session (the model and API tests share it; each
    test trains what it reads, so the order they run in does not matter)."""
    key = (id(app), builder.__name__)
    if key not in _BUILT:
        _BUILT[key] = builder(app)
    return _BUILT[key]
