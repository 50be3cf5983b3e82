"""Builders for purchasing: suppliers and purchase orders, written as the admin's forms and the
API's services keep them (app.purchasing)."""

from __future__ import annotations

from decimal import Decimal

from app.extensions import db
from app.purchasing.models import (
    SENT,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseReceipt,
    Supplier,
)
from app.purchasing.services import new_number


def purchase_order_rows(
    seller_id: int,
    variant_id: int,
    warehouse_id: int,
    name: str = "Acme supplies",
    status: str = SENT,
) -> int:
    """Inside the caller's tenant scope: a seller's supplier called `name`, a purchase order of
    one line and a receipt row (no stock moved: a row for tests that only need the tables
    filled)."""
    supplier = Supplier(seller_id=seller_id, name=name, currency="USD")
    db.session.add(supplier)
    db.session.flush()
    order = PurchaseOrder(
        number=new_number(),
        supplier_id=supplier.id,
        seller_id=seller_id,
        warehouse_id=warehouse_id,
        status=status,
        currency="USD",
    )
    db.session.add(order)
    db.session.flush()
    db.session.add(
        PurchaseOrderLine(
            purchase_order_id=order.id,
            variant_id=variant_id,
            quantity_ordered=5,
            quantity_received=0,
            unit_cost=Decimal("2.5000"),
            currency="USD",
        )
    )
    db.session.add(PurchaseReceipt(purchase_order_id=order.id, receipt_key="k1", lines=[]))
    db.session.commit()
    return order.id
