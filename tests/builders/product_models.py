"""Planted order histories for the product models' tests (recommendations, sales forecast): many
orders written in one transaction through the ORM models, as checkout leaves them (an order, one
sub-order per seller with its total and status, its lines with product and variant)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.orders.models import Order, OrderLine, SubOrder


@dataclass(frozen=True)
class Sale:
    """One seller's sub-order of a planted order: its total, and its lines (product, units)."""

    seller_id: int
    total: Decimal
    lines: tuple = ()
    status: str = "delivered"


def plant(app, tenant_id: int, orders: list[tuple[dt.datetime, str, tuple[Sale, ...]]]) -> None:
    """Orders (placed at, currency, sub-orders) written in one commit."""
    with app.app_context(), tenant_scope(tenant_id):
        for at, currency, sales in orders:
            number = "M-" + uuid.uuid4().hex[:12].upper()
            total = sum(s.total for s in sales)
            order = Order(
                number=number,
                email="buyer@example.com",
                currency=currency,
                shipping_address={"country": "GB"},
                subtotal=total,
                total=total,
                status=sales[0].status,
                created_at=at,
                updated_at=at,
            )
            subs = []
            for i, sale in enumerate(sales):
                sub = SubOrder(
                    seller_id=sale.seller_id,
                    number=f"{number}-{i + 1}",
                    status=sale.status,
                    commission_rate=Decimal("0.1"),
                    commission_amount=(sale.total / 10).quantize(Decimal("0.01")),
                    subtotal=sale.total,
                    total=sale.total,
                    created_at=at,
                    updated_at=at,
                )
                order.sub_orders.append(sub)
                subs.append(sub)
            db.session.add(order)
            if not any(sale.lines for sale in sales):
                continue
            db.session.flush()
            for sub, sale in zip(subs, sales, strict=True):
                for product, units in sale.lines:
                    price = Decimal("10.00")
                    sub.lines.append(
                        OrderLine(
                            order_id=order.id,
                            seller_id=sale.seller_id,
                            product_id=product.id,
                            variant_id=product.variant_id,
                            sku=product.sku,
                            title=product.title,
                            quantity=units,
                            unit_price=price,
                            subtotal=price * units,
                            total=price * units,
                            commission_rate=Decimal("0.1"),
                        )
                    )
        db.session.commit()
