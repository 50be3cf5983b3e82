"""One row of every tenant-owned model of orders, for the tenancy tests (call under tenant_scope)."""

from __future__ import annotations

from decimal import Decimal

from app.cart.models import Cart, CartItem
from app.events.idempotency import IdempotencyKey
from app.extensions import db
from app.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    RefundRequest,
    RefundRequestLine,
    StockReservation,
    SubOrder,
)
from app.shipments.models import Shipment, TrackingEvent


def add_order_rows(
    seller_id: int, customer_user_id: int, variant_id: int, stock_level_id: int
) -> None:
    cart = Cart(user_id=customer_user_id)
    cart.items.append(CartItem(variant_id=variant_id, quantity=1))
    price = Decimal("10.00")
    order = Order(
        number="T-1",
        customer_user_id=customer_user_id,
        email="a@example.com",
        currency="USD",
        shipping_address={"country": "GB"},
        subtotal=price,
        total=price,
    )
    sub = SubOrder(
        seller_id=seller_id,
        number="T-1-1",
        commission_rate=Decimal("0.1"),
        subtotal=price,
        total=price,
        status="paid",
    )
    order.sub_orders.append(sub)
    db.session.add_all([cart, order])
    db.session.flush()
    line = OrderLine(
        order_id=order.id,
        seller_id=seller_id,
        variant_id=variant_id,
        sku="SKU",
        title="Thing",
        quantity=1,
        unit_price=price,
        subtotal=price,
        total=price,
        commission_rate=Decimal("0.1"),
    )
    sub.lines.append(line)
    db.session.flush()
    shipment = Shipment(
        order_id=order.id,
        sub_order_id=sub.id,
        seller_id=seller_id,
        carrier="manual",
        tracking_number="MN000000000XX",
    )
    shipment.events.append(TrackingEvent(status="label_created", description="Label created"))
    db.session.add_all(
        [
            StockReservation(
                order_id=order.id,
                sub_order_id=sub.id,
                order_line_id=line.id,
                stock_level_id=stock_level_id,
                quantity=1,
            ),
            OrderEvent(
                order_id=order.id, sub_order_id=sub.id, from_status="pending", to_status="paid"
            ),
            RefundRequest(
                order_id=order.id,
                sub_order_id=sub.id,
                amount=price,
                reason="test",
                lines=[RefundRequestLine(order_line_id=line.id, quantity=1, amount=price)],
            ),
            IdempotencyKey(
                domain="checkout",
                key="k",
                scope=f"user:{customer_user_id}",
                operation="order",
                request_hash="0" * 64,
                result={"order_id": order.id},
            ),
            shipment,
        ]
    )
    db.session.commit()


def order_row(
    *,
    customer_user_id: int | None = None,
    total: str | Decimal = "100.00",
    currency: str = "USD",
    seller_ids: tuple[int, ...] = (),
    status: str = "pending",
) -> int:
    """A bare committed order (no lines, no stock) for tests of what references orders (payments,
    refunds, redemptions): `total` split evenly over one sub-order per seller. Its id."""
    import uuid

    total = Decimal(str(total))
    number = "B-" + uuid.uuid4().hex[:12].upper()
    order = Order(
        number=number,
        customer_user_id=customer_user_id,
        email="buyer@example.com",
        currency=currency,
        shipping_address={"country": "GB"},
        subtotal=total,
        total=total,
        status=status,
    )
    for i, seller_id in enumerate(seller_ids):
        share = (
            total if len(seller_ids) == 1 else (total / len(seller_ids)).quantize(Decimal("0.01"))
        )
        order.sub_orders.append(
            SubOrder(
                seller_id=seller_id,
                number=f"{number}-{i + 1}",
                status=status,
                commission_rate=Decimal("0.1"),
                subtotal=share,
                total=share,
            )
        )
    db.session.add(order)
    db.session.commit()
    return order.id
