"""Orders placed at a given time, in a given state, for the dashboards' tests: rows written straight
through the ORM (the figures read what checkout, fulfilment and refunds leave behind: sub-order
totals, frozen commission, lines, refund requests), each sub-order with its lines."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.orders.models import Order, OrderLine, RefundRequest, SubOrder


@dataclass(frozen=True)
class Part:
    """One seller's sub-order: its total, frozen commission, status, and its lines as (product,
    units, line total); `refunds` are (amount, request status) of its refund requests."""

    seller_id: int
    total: str
    commission: str
    status: str
    lines: tuple[tuple[object, int, str], ...] = ()
    refunds: tuple[tuple[str, str], ...] = field(default=())


def utc(text: str) -> dt.datetime:
    """'2026-10-02 12:00' as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)


def placed(app, tenant_id: int, at: str, *parts: Part, currency: str = "USD") -> list[int]:
    """An order placed at `at` (UTC) holding one sub-order per part; the sub-orders' ids."""
    with app.app_context(), tenant_scope(tenant_id):
        when = utc(at)
        number = "D-" + uuid.uuid4().hex[:10].upper()
        total = sum(Decimal(part.total) for part in parts)
        order = Order(
            number=number,
            email="buyer@example.com",
            currency=currency,
            shipping_address={"country": "GB"},
            subtotal=total,
            total=total,
            status=parts[0].status,
            created_at=when,
            updated_at=when,
        )
        subs = []
        for i, part in enumerate(parts):
            sub = SubOrder(
                seller_id=part.seller_id,
                number=f"{number}-{i + 1}",
                status=part.status,
                commission_rate=Decimal("0.1"),
                commission_amount=Decimal(part.commission),
                subtotal=Decimal(part.total),
                total=Decimal(part.total),
                created_at=when,
                updated_at=when,
            )
            order.sub_orders.append(sub)
            subs.append(sub)
        db.session.add(order)
        db.session.flush()
        for sub, part in zip(subs, parts, strict=True):
            for product, units, line_total in part.lines:
                amount = Decimal(line_total)
                sub.lines.append(
                    OrderLine(
                        order_id=order.id,
                        seller_id=part.seller_id,
                        product_id=product.id,
                        variant_id=product.variant_id,
                        sku=product.sku,
                        title=product.title,
                        quantity=units,
                        unit_price=amount / units,
                        subtotal=amount,
                        total=amount,
                        commission_rate=Decimal("0.1"),
                    )
                )
            for amount, status in part.refunds:
                db.session.add(
                    RefundRequest(
                        order_id=order.id,
                        sub_order_id=sub.id,
                        amount=Decimal(amount),
                        reason="dashboard test",
                        status=status,
                    )
                )
        db.session.commit()
        return [sub.id for sub in subs]


# --- the shop the dashboards' tests compute by hand ----------------------------------------------

# the period the tests ask for (10 days) and the one before it
FROM, TO = "2026-10-01", "2026-10-10"


def two_sellers_shop(app, factory):
    """Sellers A and B of one tenant, with orders in the period 2026-10-01..10 and the one before
    (2026-09-21..30), and a second tenant whose sales must never show. The figures the tests
    expect are worked out in tests/app/test_dashboards.py beside each assertion."""
    tenant = factory.tenant()
    a, b = factory.seller(tenant), factory.seller(tenant)
    factory.seller(tenant, status="pending")  # waiting for review
    p1, p2, p3, p4, p5 = (factory.product(a, title=f"A product {i}") for i in range(1, 6))
    low = factory.product(a, title="A nearly gone", stock=2)  # 2 <= reorder point 3
    q1 = factory.product(b, title="B product", stock=1)  # B's low stock, never A's
    t = app, tenant.id
    s = {}
    # the period
    s["o1"] = placed(
        *t, "2026-10-02 09:00", Part(a.id, "100.00", "10.00", "delivered", ((p1, 2, "100.00"),))
    )
    s["o2"] = placed(
        *t,
        "2026-10-03 10:00",
        Part(a.id, "50.00", "5.00", "processing", ((p2, 5, "50.00"),)),
        Part(b.id, "200.00", "30.00", "paid", ((q1, 1, "200.00"),)),
    )
    s["o3"] = placed(
        *t,
        "2026-10-05 11:00",
        Part(
            a.id,
            "80.00",
            "8.00",
            "partially_refunded",
            ((p1, 1, "80.00"),),
            refunds=(("20.00", "completed"), ("30.00", "rejected")),
        ),
    )
    s["o4"] = placed(
        *t, "2026-10-06 12:00", Part(a.id, "60.00", "6.00", "cancelled", ((p4, 10, "60.00"),))
    )
    s["o5"] = placed(
        *t, "2026-10-07 13:00", Part(a.id, "40.00", "4.00", "pending", ((p4, 4, "40.00"),))
    )
    s["o6"] = placed(
        *t, "2026-10-08 14:00", Part(a.id, "30.00", "3.00", "refunded", ((p3, 1, "30.00"),))
    )
    s["o7"] = placed(
        *t,
        "2026-10-09 15:00",
        Part(a.id, "25.00", "2.50", "shipped", ((p2, 1, "25.00"),)),
        currency="EUR",
    )
    s["o11"] = placed(
        *t,
        "2026-10-04 16:00",
        Part(
            a.id,
            "45.00",
            "4.50",
            "refund_requested",
            ((p3, 1, "45.00"),),
            refunds=(("45.00", "requested"),),
        ),
    )
    s["o12"] = placed(
        *t, "2026-10-10 23:59:59", Part(a.id, "10.00", "1.00", "paid", ((p5, 1, "10.00"),))
    )
    # outside: the first instant after the period, and before the previous one
    placed(*t, "2026-10-11 00:00", Part(a.id, "999.00", "99.90", "delivered", ((p1, 1, "999.00"),)))
    placed(
        *t, "2026-09-20 23:59:59", Part(a.id, "500.00", "50.00", "delivered", ((p1, 1, "500.00"),))
    )
    # the previous period
    placed(*t, "2026-09-25 09:00", Part(a.id, "130.00", "13.00", "delivered", ((p1, 1, "130.00"),)))
    placed(*t, "2026-09-30 23:00", Part(a.id, "70.00", "7.00", "completed", ((p2, 1, "70.00"),)))
    # another tenant's sales, on the same days
    other = factory.tenant()
    c = factory.seller(other)
    r1 = factory.product(c, title="Other shop's product")
    placed(
        app,
        other.id,
        "2026-10-02 09:00",
        Part(c.id, "777.00", "77.70", "delivered", ((r1, 7, "777.00"),)),
    )
    placed(
        app,
        other.id,
        "2026-10-02 09:00",
        Part(
            c.id,
            "1.00",
            "0.10",
            "refund_requested",
            ((r1, 1, "1.00"),),
            refunds=(("1.00", "requested"),),
        ),
    )
    return SimpleNamespace(
        tenant=tenant,
        a=a,
        b=b,
        other=other,
        c=c,
        products=(p1, p2, p3, p4, p5),
        low=low,
        q1=q1,
        subs=s,
    )
