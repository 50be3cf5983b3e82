"""Suppliers and purchase orders for an Actor; the rules the API and the admin's forms share.

Who: staff (Admin, Super Admin) every supplier and purchase order of the tenant; a seller its own
suppliers and the purchase orders at them (others' answer 404); anyone else 403
(app.inventory.stock.seller_scope, the one rule of who keeps stock).

A purchase order belongs to its supplier's seller (NULL: the platform's) and orders that seller's
variants (staff's platform orders: any variant of the tenant) into one warehouse the seller may
keep stock in. It is in one currency: its lines' unit costs are in it.

Statuses (models.TRANSITIONS): draft -> sent -> partly_received -> received; cancelled from draft,
sent or partly received (the rest will not come); anything else is a 409 purchase_order_status
naming the steps allowed. Lines change only in draft.

Receiving locks the order's row (SELECT ... FOR UPDATE): receipts of one order apply one after the
other. Each receipt adds its units to the warehouse's stock through the ledger
(app.inventory.services.move_stock, reason "receipt", the order's number and the receipt key as
reference; stock rows in primary-key order), raises each line's received units and moves the
order to partly_received or received. More than a line's open units is a 409 over_receipt unless
`allow_over_receipt`. A receipt key receives once: the same key with the same lines answers the
first receipt (nothing again); with other lines it is a 409 receipt_key_reused.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select

from app.catalog.models import ProductVariant
from app.core.db import transaction, transactional
from app.core.errors import Conflict, NotFound, ValidationError
from app.core.paging import Page, paginate
from app.core.types import quantize_money, utcnow
from app.extensions import db
from app.inventory import scopes as inventory_scopes
from app.inventory import services as inventory
from app.inventory.models import StockLevel, Warehouse
from app.inventory.stock import check_units, seller_scope
from app.purchasing.errors import PurchasingError
from app.purchasing.models import (
    CANCELLED,
    DRAFT,
    PARTLY_RECEIVED,
    RECEIVED,
    SENT,
    TRANSITIONS,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseReceipt,
    Supplier,
)
from app.security.actor import Actor
from app.sellers.models import SellerProfile

# --- scopes -------------------------------------------------------------------------------------


def suppliers_of_seller(seller_id: int):
    return Supplier.seller_id == seller_id


def orders_of_seller(seller_id: int):
    return PurchaseOrder.seller_id == seller_id


def lines_of_seller(seller_id: int):
    return PurchaseOrderLine.purchase_order_id.in_(
        select(PurchaseOrder.id).where(orders_of_seller(seller_id))
    )


def _status_error(order: PurchaseOrder, wanted: str) -> Conflict:
    return Conflict(
        f"a {order.status.replace('_', ' ')} purchase order cannot be {wanted}",
        code=PurchasingError.PURCHASE_ORDER_STATUS,
        details={"status": order.status, "allowed": list(TRANSITIONS[order.status])},
    )


# --- suppliers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupplierView:
    id: int
    seller_id: int | None
    name: str
    contact_name: str | None
    email: str | None
    phone: str | None
    currency: str
    lead_time_days: int | None
    notes: str | None
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


SUPPLIER_FIELDS = (
    "name",
    "contact_name",
    "email",
    "phone",
    "currency",
    "lead_time_days",
    "notes",
    "is_active",
)


def supplier_view(row: Supplier) -> SupplierView:
    return SupplierView(
        id=row.id,
        seller_id=row.seller_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        **{name: getattr(row, name) for name in SUPPLIER_FIELDS},
    )


def _suppliers(seller_id: int | None):
    stmt = select(Supplier)
    if seller_id is not None:
        stmt = stmt.where(suppliers_of_seller(seller_id))
    return stmt


def _supplier_row(actor: Actor, supplier_id: int) -> Supplier:
    row = db.session.scalar(_suppliers(seller_scope(actor)).where(Supplier.id == supplier_id))
    if row is None:
        raise NotFound("supplier not found", details={"supplier_id": supplier_id})
    return row


def list_suppliers(
    actor: Actor, page: int, page_size: int, *, is_active: bool | None = None, q: str | None = None
) -> Page[SupplierView]:
    stmt = _suppliers(seller_scope(actor))
    if is_active is not None:
        stmt = stmt.where(Supplier.is_active.is_(is_active))
    if q:
        stmt = stmt.where(Supplier.name.contains(q, autoescape=True))
    found = paginate(stmt.order_by(Supplier.name, Supplier.id), page, page_size)
    return Page([supplier_view(r) for r in found.items], found.total, page, page_size)


def get_supplier(actor: Actor, supplier_id: int) -> SupplierView:
    return supplier_view(_supplier_row(actor, supplier_id))


@transactional
def create_supplier(actor: Actor, data: dict, seller_id: int | None = None) -> SupplierView:
    """A seller's supplier is its own; staff's is the platform's, or the seller's they name."""
    scope = seller_scope(actor)
    if scope is not None:
        seller_id = scope
    elif seller_id is not None and (
        db.session.scalar(select(SellerProfile.id).where(SellerProfile.id == seller_id)) is None
    ):
        raise ValidationError("no such seller", details={"seller_id": ["no such seller"]})
    row = Supplier(seller_id=seller_id, **{k: v for k, v in data.items() if k in SUPPLIER_FIELDS})
    db.session.add(row)
    db.session.flush()
    return supplier_view(row)


@transactional
def update_supplier(actor: Actor, supplier_id: int, changes: dict) -> SupplierView:
    row = _supplier_row(actor, supplier_id)
    for name, value in changes.items():
        if name in SUPPLIER_FIELDS:
            setattr(row, name, value)
    db.session.flush()
    return supplier_view(row)


def check_supplier_unused(supplier_id: int) -> None:
    used = db.session.scalar(
        select(func.count(PurchaseOrder.id)).where(PurchaseOrder.supplier_id == supplier_id)
    )
    if used:
        raise Conflict(
            "this supplier has purchase orders: deactivate it instead",
            code=PurchasingError.SUPPLIER_IN_USE,
            details={"purchase_orders": used},
        )


@transactional
def delete_supplier(actor: Actor, supplier_id: int) -> None:
    row = _supplier_row(actor, supplier_id)
    check_supplier_unused(row.id)
    db.session.delete(row)


# --- purchase orders: views ---------------------------------------------------------------------


@dataclass(frozen=True)
class LineView:
    id: int
    variant_id: int
    sku: str
    quantity_ordered: int
    quantity_received: int
    quantity_open: int
    unit_cost: Decimal
    currency: str
    total: Decimal


@dataclass(frozen=True)
class PurchaseOrderView:
    id: int
    number: str
    status: str
    allowed_transitions: list[str]
    supplier_id: int
    supplier_name: str
    seller_id: int | None
    warehouse_id: int
    warehouse_code: str
    currency: str
    expected_on: dt.date | None
    notes: str | None
    total: Decimal
    lines: list[LineView]
    sent_at: dt.datetime | None
    received_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


def line_view(line: PurchaseOrderLine) -> LineView:
    return LineView(
        id=line.id,
        variant_id=line.variant_id,
        sku=line.variant.sku,
        quantity_ordered=line.quantity_ordered,
        quantity_received=line.quantity_received,
        quantity_open=line.quantity_open,
        unit_cost=line.unit_cost,
        currency=line.currency,
        total=quantize_money(line.unit_cost * line.quantity_ordered, line.currency),
    )


def order_view(order: PurchaseOrder) -> PurchaseOrderView:
    lines = [line_view(line) for line in order.lines]
    return PurchaseOrderView(
        id=order.id,
        number=order.number,
        status=order.status,
        allowed_transitions=list(TRANSITIONS[order.status]),
        supplier_id=order.supplier_id,
        supplier_name=order.supplier.name,
        seller_id=order.seller_id,
        warehouse_id=order.warehouse_id,
        warehouse_code=order.warehouse.code,
        currency=order.currency,
        expected_on=order.expected_on,
        notes=order.notes,
        total=quantize_money(sum((line.total for line in lines), Decimal(0)), order.currency),
        lines=lines,
        sent_at=order.sent_at,
        received_at=order.received_at,
        cancelled_at=order.cancelled_at,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


def _orders(seller_id: int | None):
    stmt = select(PurchaseOrder)
    if seller_id is not None:
        stmt = stmt.where(orders_of_seller(seller_id))
    return stmt


def _order_row(actor: Actor, order_id: int, *, lock: bool = False) -> PurchaseOrder:
    stmt = _orders(seller_scope(actor)).where(PurchaseOrder.id == order_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = db.session.scalar(stmt)
    if row is None:
        raise NotFound("purchase order not found", details={"purchase_order_id": order_id})
    return row


@dataclass(frozen=True)
class OrderFilters:
    status: str | None = None
    supplier_id: int | None = None
    warehouse_id: int | None = None


def list_orders(
    actor: Actor, filters: OrderFilters, page: int, page_size: int
) -> Page[PurchaseOrderView]:
    stmt = _orders(seller_scope(actor))
    if filters.status is not None:
        stmt = stmt.where(PurchaseOrder.status == filters.status)
    if filters.supplier_id is not None:
        stmt = stmt.where(PurchaseOrder.supplier_id == filters.supplier_id)
    if filters.warehouse_id is not None:
        stmt = stmt.where(PurchaseOrder.warehouse_id == filters.warehouse_id)
    found = paginate(stmt.order_by(PurchaseOrder.id.desc()), page, page_size)
    return Page([order_view(r) for r in found.items], found.total, page, page_size)


def get_order(actor: Actor, order_id: int) -> PurchaseOrderView:
    return order_view(_order_row(actor, order_id))


# --- purchase orders: drafting ------------------------------------------------------------------


@dataclass(frozen=True)
class NewLine:
    quantity_ordered: int
    unit_cost: Decimal
    variant_id: int | None = None
    sku: str | None = None
    currency: str | None = None


@dataclass(frozen=True)
class NewPurchaseOrder:
    supplier_id: int
    warehouse_id: int
    currency: str | None = None
    expected_on: dt.date | None = None
    notes: str | None = None
    lines: list[NewLine] = field(default_factory=list)


def new_number() -> str:
    return f"PO-{utcnow():%y%m%d}-{secrets.token_hex(3).upper()}"


def check_order_parts(order: PurchaseOrder, supplier: Supplier, warehouse: Warehouse) -> None:
    """The order takes its supplier's seller; its warehouse must be one that seller may keep stock
    in (its own or the platform's; any for a platform order). Rules of the API and the admin."""
    order.seller_id = supplier.seller_id
    if supplier.seller_id is not None and warehouse.seller_id not in (None, supplier.seller_id):
        raise ValidationError(
            "the supplier's seller cannot keep stock in this warehouse",
            details={"warehouse_id": ["one of the seller's warehouses or a platform one"]},
        )
    if not order.currency:
        order.currency = supplier.currency


def check_line(order: PurchaseOrder, line: PurchaseOrderLine, variant: ProductVariant) -> None:
    """A line orders a variant of the order's seller (any, on a platform order), in the order's
    currency, and only while the order is a draft."""
    if order.status != DRAFT:
        raise _status_error(order, "changed")
    if order.seller_id is not None and variant.seller_id != order.seller_id:
        raise ValidationError(
            "this variant is not the purchase order's seller's",
            details={"variant_id": ["a variant of the supplier's seller"]},
        )
    if not line.currency:
        line.currency = order.currency
    if line.currency != order.currency:
        raise ValidationError(
            "a line's unit cost is in its order's currency",
            details={"currency": [f"{order.currency}, the order's currency"]},
        )


def _add_lines(actor: Actor, order: PurchaseOrder, lines: list[NewLine]) -> None:
    seller_id = seller_scope(actor)
    seen = set()
    for index, new in enumerate(lines):
        stmt = select(ProductVariant)
        stmt = (
            stmt.where(ProductVariant.id == new.variant_id)
            if new.variant_id is not None
            else stmt.where(ProductVariant.sku == new.sku)
        )
        if seller_id is not None:
            stmt = stmt.where(ProductVariant.seller_id == seller_id)
        variant = db.session.scalar(stmt)
        if variant is None:
            raise ValidationError(
                "no such variant", details={"lines": {str(index): ["no such variant"]}}
            )
        if variant.id in seen:
            raise ValidationError(
                "a variant appears on two lines",
                details={"lines": {str(index): ["this variant has a line already"]}},
            )
        seen.add(variant.id)
        line = PurchaseOrderLine(
            variant_id=variant.id,
            variant=variant,
            quantity_ordered=new.quantity_ordered,
            quantity_received=0,
            unit_cost=new.unit_cost,
            currency=new.currency,
        )
        try:
            check_line(order, line, variant)
        except ValidationError as exc:
            raise ValidationError(
                exc.message, details={"lines": {str(index): exc.details}}
            ) from None
        order.lines.append(line)


def _parts(actor: Actor, supplier_id: int, warehouse_id: int) -> tuple[Supplier, Warehouse]:
    seller_id = seller_scope(actor)
    supplier = db.session.scalar(_suppliers(seller_id).where(Supplier.id == supplier_id))
    if supplier is None:
        raise ValidationError("no such supplier", details={"supplier_id": ["no such supplier"]})
    if not supplier.is_active:
        raise ValidationError(
            "this supplier is inactive", details={"supplier_id": ["an active supplier"]}
        )
    warehouse_stmt = select(Warehouse).where(Warehouse.id == warehouse_id)
    if seller_id is not None:
        warehouse_stmt = warehouse_stmt.where(
            inventory_scopes.warehouses_usable_by_seller(seller_id)
        )
    warehouse = db.session.scalar(warehouse_stmt)
    if warehouse is None:
        raise ValidationError("no such warehouse", details={"warehouse_id": ["no such warehouse"]})
    return supplier, warehouse


@transactional
def create_order(actor: Actor, new: NewPurchaseOrder) -> PurchaseOrderView:
    """A draft purchase order with its lines."""
    supplier, warehouse = _parts(actor, new.supplier_id, new.warehouse_id)
    order = PurchaseOrder(
        number=new_number(),
        supplier=supplier,
        supplier_id=supplier.id,
        warehouse=warehouse,
        warehouse_id=warehouse.id,
        status=DRAFT,
        currency=new.currency,
        expected_on=new.expected_on,
        notes=new.notes,
        created_by_user_id=actor.user_id,
    )
    check_order_parts(order, supplier, warehouse)
    db.session.add(order)
    _add_lines(actor, order, new.lines)
    db.session.flush()
    return order_view(order)


@transactional
def update_order(
    actor: Actor, order_id: int, changes: dict, lines: list[NewLine] | None = None
) -> PurchaseOrderView:
    """A draft's expected date, notes, warehouse or lines (`lines` replaces them all)."""
    order = _order_row(actor, order_id, lock=True)
    if order.status != DRAFT:
        raise _status_error(order, "changed")
    for name in ("expected_on", "notes"):
        if name in changes:
            setattr(order, name, changes[name])
    if "warehouse_id" in changes:
        supplier, warehouse = _parts(actor, order.supplier_id, changes["warehouse_id"])
        order.warehouse, order.warehouse_id = warehouse, warehouse.id
        check_order_parts(order, supplier, warehouse)
    if lines is not None:
        order.lines.clear()
        db.session.flush()
        _add_lines(actor, order, lines)
    db.session.flush()
    return order_view(order)


# --- purchase orders: steps ---------------------------------------------------------------------


def send(order: PurchaseOrder) -> None:
    if SENT not in TRANSITIONS[order.status]:
        raise _status_error(order, "sent")
    if not order.lines:
        raise ValidationError(
            "a purchase order needs a line before it is sent", details={"lines": ["add a line"]}
        )
    order.status, order.sent_at = SENT, utcnow()


def cancel(order: PurchaseOrder) -> None:
    if CANCELLED not in TRANSITIONS[order.status]:
        raise _status_error(order, "cancelled")
    order.status, order.cancelled_at = CANCELLED, utcnow()


@transactional
def send_order(actor: Actor, order_id: int) -> PurchaseOrderView:
    order = _order_row(actor, order_id, lock=True)
    send(order)
    db.session.flush()
    return order_view(order)


@transactional
def cancel_order(actor: Actor, order_id: int) -> PurchaseOrderView:
    order = _order_row(actor, order_id, lock=True)
    cancel(order)
    db.session.flush()
    return order_view(order)


@dataclass(frozen=True)
class ReceiptLine:
    line_id: int
    quantity: int


@dataclass(frozen=True)
class NewReceipt:
    lines: list[ReceiptLine]
    receipt_key: str | None = None
    allow_over_receipt: bool = False
    note: str | None = None


@dataclass(frozen=True)
class ReceiptView:
    id: int
    receipt_key: str
    lines: list[dict]
    over_receipt: bool
    note: str | None
    created_at: dt.datetime
    replayed: bool
    purchase_order: PurchaseOrderView


def _receipt_view(receipt: PurchaseReceipt, order: PurchaseOrder, replayed: bool) -> ReceiptView:
    return ReceiptView(
        id=receipt.id,
        receipt_key=receipt.receipt_key,
        lines=list(receipt.lines),
        over_receipt=receipt.over_receipt,
        note=receipt.note,
        created_at=receipt.created_at,
        replayed=replayed,
        purchase_order=order_view(order),
    )


def _stock_row_for(variant_id: int, warehouse_id: int) -> int:
    variant = db.session.get(ProductVariant, variant_id)
    stock_id, _ = inventory.ensure_stock_row(
        variant_id, warehouse_id, tenant_id=variant.tenant_id, seller_id=variant.seller_id
    )
    return stock_id


def receive(actor: Actor, order_id: int, receipt: NewReceipt) -> ReceiptView:
    """Receive units against a sent purchase order (see the module)."""
    key = receipt.receipt_key or uuid.uuid4().hex
    wanted = sorted([r.line_id, r.quantity] for r in receipt.lines)
    if not wanted:
        raise ValidationError("receive at least one line", details={"lines": ["one line or more"]})
    with transaction():
        order = _order_row(actor, order_id, lock=True)
        earlier = db.session.scalar(
            select(PurchaseReceipt).where(
                PurchaseReceipt.purchase_order_id == order.id,
                PurchaseReceipt.receipt_key == key,
            )
        )
        if earlier is not None:
            if _lines_key(earlier) != wanted:
                raise Conflict(
                    "this receipt key received other quantities on this purchase order",
                    code=PurchasingError.RECEIPT_KEY_REUSED,
                    details={"receipt_key": key},
                )
            return _receipt_view(earlier, order, replayed=True)
        if order.status not in (SENT, PARTLY_RECEIVED):
            raise _status_error(order, "received")
        lines = {line.id: line for line in order.lines}
        problems: dict[str, list[str]] = {}
        over = False
        seen = set()
        for index, item in enumerate(receipt.lines):
            line = lines.get(item.line_id)
            if line is None:
                problems[str(index)] = [f"line {item.line_id} is not on this purchase order"]
                continue
            if item.line_id in seen:
                problems[str(index)] = [f"line {item.line_id} appears twice"]
                continue
            seen.add(item.line_id)
            if item.quantity <= 0:
                problems[str(index)] = ["receive 1 unit or more"]
            elif line.quantity_received + item.quantity > line.quantity_ordered:
                over = True
        if problems:
            raise ValidationError("some lines cannot be received", details={"lines": problems})
        if over and not receipt.allow_over_receipt:
            raise Conflict(
                "more units than ordered on a line; send allow_over_receipt to accept them",
                code=PurchasingError.OVER_RECEIPT,
                details={
                    "lines": {
                        str(item.line_id): {
                            "ordered": lines[item.line_id].quantity_ordered,
                            "received": lines[item.line_id].quantity_received,
                            "receiving": item.quantity,
                        }
                        for item in receipt.lines
                        if lines[item.line_id].quantity_received + item.quantity
                        > lines[item.line_id].quantity_ordered
                    }
                },
            )
        plan = sorted(
            (
                (_stock_row_for(lines[item.line_id].variant_id, order.warehouse_id), item)
                for item in receipt.lines
            ),
            key=lambda pair: pair[0],
        )
        held = dict(
            db.session.execute(
                select(StockLevel.id, StockLevel.quantity_on_hand)
                .where(StockLevel.id.in_([stock_id for stock_id, _ in plan]))
                .order_by(StockLevel.id)
                .with_for_update()
            ).all()
        )
        for stock_id, item in plan:
            check_units(held[stock_id] + item.quantity)
        reference = f"{order.number}/{key}"[:100]
        for stock_id, item in plan:
            moved = inventory.move_stock(
                stock_id,
                d_on_hand=item.quantity,
                reason="receipt",
                reference=reference,
                actor_id=actor.user_id,
                note=receipt.note,
            )
            if moved is None:  # pragma: no cover - adding units is never refused
                raise Conflict("the stock row refused the receipt")
            lines[item.line_id].quantity_received += item.quantity
        done = all(line.quantity_received >= line.quantity_ordered for line in order.lines)
        order.status = RECEIVED if done else PARTLY_RECEIVED
        if done:
            order.received_at = utcnow()
        row = PurchaseReceipt(
            purchase_order_id=order.id,
            receipt_key=key,
            lines=[{"line_id": line_id, "quantity": qty} for line_id, qty in wanted],
            over_receipt=over,
            note=receipt.note,
            actor_id=actor.user_id,
        )
        db.session.add(row)
        db.session.flush()
        view = _receipt_view(row, order, replayed=False)
    return view


def _lines_key(receipt: PurchaseReceipt) -> list[list[int]]:
    return sorted([r["line_id"], r["quantity"]] for r in receipt.lines)


@transactional
def add_line(actor: Actor, order_id: int, new: NewLine) -> PurchaseOrderView:
    """One more line on a draft (the admin's purchase order page)."""
    order = _order_row(actor, order_id, lock=True)
    if order.status != DRAFT:
        raise _status_error(order, "changed")
    if any(
        (new.variant_id is not None and line.variant_id == new.variant_id)
        or (new.sku is not None and line.variant.sku == new.sku)
        for line in order.lines
    ):
        raise ValidationError(
            "this variant has a line already", details={"sku": ["change its line instead"]}
        )
    _add_lines(actor, order, [new])
    db.session.flush()
    return order_view(order)


@transactional
def remove_line(actor: Actor, order_id: int, line_id: int) -> PurchaseOrderView:
    order = _order_row(actor, order_id, lock=True)
    if order.status != DRAFT:
        raise _status_error(order, "changed")
    line = next((line for line in order.lines if line.id == line_id), None)
    if line is None:
        raise NotFound("no such line on this purchase order", details={"line_id": line_id})
    order.lines.remove(line)
    db.session.flush()
    return order_view(order)


def receipts_of(order_id: int) -> list[PurchaseReceipt]:
    """The receipts of a purchase order the caller already holds, oldest first (its page)."""
    return list(
        db.session.scalars(
            select(PurchaseReceipt)
            .where(PurchaseReceipt.purchase_order_id == order_id)
            .order_by(PurchaseReceipt.id)
        )
    )
