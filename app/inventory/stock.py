"""Stock for an Actor (the Inventory API, /api/v1/inventory/): list, read, create, adjust, set the
reorder point, bulk-update, transfer between warehouses, and the movement history.

Who sees what is app.inventory.scopes': staff (Admin, Super Admin) every row of the tenant, a
seller the stock of its variants and its own warehouses (others' rows answer 404, as unknown ones
do), anyone else 403. Every change of units goes through the ledger of app.inventory.services
(a conditional UPDATE the database refuses below zero or below reserved, a StockMovement row and an
`inventory.stock_changed` event); changes of several rows lock them first (SELECT ... FOR UPDATE,
in primary-key order), so concurrent requests apply one after the other and stock never goes
negative. A bulk update is all or nothing: one refused row refuses the whole request, and every
problem is reported by row; with an Idempotency-Key (app.events.idempotency, domain "inventory")
the same key and body answer the first result without applying anything again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError

from app.catalog.models import ProductVariant
from app.core.db import transaction, transactional
from app.core.errors import (
    Conflict,
    InsufficientStock,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from app.core.paging import Page, paginate
from app.events import idempotency
from app.events.idempotency import IdempotencyKeyReused
from app.extensions import db
from app.inventory import scopes, services
from app.inventory.models import StockLevel, StockMovement, Warehouse
from app.security.actor import Actor

IDEMPOTENCY_DOMAIN = "inventory"
BULK_MAX_ROWS = 1000
# reasons a person gives to a change of units (the others are the shop's own: sale, reservation,
# release, transfer)
MANUAL_REASONS = ("adjustment", "count", "receipt", "return")
# the most units one stock row holds (its INT columns hold about twice as many: one more change of
# at most this many, which inputs are limited to, never overflows them)
MAX_UNITS = 1_000_000_000


def check_units(after: int, field: str = "quantity") -> None:
    if after > MAX_UNITS:
        raise ValidationError(
            f"a stock row holds at most {MAX_UNITS:,} units",
            details={field: [f"would leave {after} units on hand (at most {MAX_UNITS})"]},
        )


# --- who ----------------------------------------------------------------------------------------


def seller_scope(actor: Actor) -> int | None:
    """None for staff (every row of the tenant), the seller's id for a seller; 403 for anyone else
    (a customer, a seller without a profile)."""
    if actor.is_admin:
        return None
    if actor.is_seller:
        if actor.seller_id is None:
            raise PermissionDenied("the caller is not a seller with a profile of this storefront")
        return actor.seller_id
    raise PermissionDenied("your role may not manage stock")


# --- views --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockView:
    id: int
    variant_id: int
    sku: str
    product_id: int
    product_title: str
    seller_id: int
    warehouse_id: int
    warehouse_code: str
    quantity_on_hand: int
    quantity_reserved: int
    available: int
    reorder_point: int
    low_stock: bool
    created_at: dt.datetime
    updated_at: dt.datetime


def stock_view(row: StockLevel) -> StockView:
    variant = row.variant
    return StockView(
        id=row.id,
        variant_id=row.variant_id,
        sku=variant.sku,
        product_id=variant.product_id,
        product_title=variant.product.title,
        seller_id=row.seller_id,
        warehouse_id=row.warehouse_id,
        warehouse_code=row.warehouse.code,
        quantity_on_hand=row.quantity_on_hand,
        quantity_reserved=row.quantity_reserved,
        available=row.available,
        reorder_point=row.reorder_point,
        low_stock=row.available <= row.reorder_point,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@dataclass(frozen=True)
class MovementView:
    id: int
    stock_level_id: int
    variant_id: int
    sku: str
    warehouse_id: int
    warehouse_code: str
    reason: str
    delta_on_hand: int
    delta_reserved: int
    on_hand_after: int
    reserved_after: int
    reference: str | None
    note: str | None
    actor_id: int | None
    created_at: dt.datetime


def movement_view(row: StockMovement) -> MovementView:
    stock = row.stock_level
    return MovementView(
        id=row.id,
        stock_level_id=row.stock_level_id,
        variant_id=stock.variant_id,
        sku=stock.variant.sku,
        warehouse_id=stock.warehouse_id,
        warehouse_code=stock.warehouse.code,
        reason=row.reason,
        delta_on_hand=row.delta_on_hand,
        delta_reserved=row.delta_reserved,
        on_hand_after=row.on_hand_after,
        reserved_after=row.reserved_after,
        reference=row.reference,
        note=row.note,
        actor_id=row.actor_id,
        created_at=row.created_at,
    )


# --- reads --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockFilters:
    warehouse_id: int | None = None
    seller_id: int | None = None
    product_id: int | None = None
    variant_id: int | None = None
    sku: str | None = None
    low_stock: bool | None = None


def _visible_stock(seller_id: int | None):
    stmt = select(StockLevel)
    if seller_id is not None:
        stmt = stmt.where(scopes.stock_of_seller(seller_id))
    return stmt


def list_stock(actor: Actor, filters: StockFilters, page: int, page_size: int) -> Page[StockView]:
    stmt = _visible_stock(seller_scope(actor))
    if filters.warehouse_id is not None:
        stmt = stmt.where(StockLevel.warehouse_id == filters.warehouse_id)
    if filters.seller_id is not None:
        stmt = stmt.where(StockLevel.seller_id == filters.seller_id)
    if filters.variant_id is not None:
        stmt = stmt.where(StockLevel.variant_id == filters.variant_id)
    if filters.product_id is not None:
        stmt = stmt.where(
            StockLevel.variant_id.in_(
                select(ProductVariant.id).where(ProductVariant.product_id == filters.product_id)
            )
        )
    if filters.sku is not None:
        stmt = stmt.where(
            StockLevel.variant_id.in_(
                select(ProductVariant.id).where(ProductVariant.sku == filters.sku)
            )
        )
    low = StockLevel.quantity_on_hand - StockLevel.quantity_reserved <= StockLevel.reorder_point
    if filters.low_stock is True:
        stmt = stmt.where(low)
    elif filters.low_stock is False:
        stmt = stmt.where(~low)
    found = paginate(stmt.order_by(StockLevel.id), page, page_size)
    return Page([stock_view(r) for r in found.items], found.total, found.page, found.page_size)


def _stock_row(actor: Actor, stock_level_id: int, *, lock: bool = False) -> StockLevel:
    stmt = _visible_stock(seller_scope(actor)).where(StockLevel.id == stock_level_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = db.session.scalar(stmt)
    if row is None:
        raise NotFound("stock level not found", details={"stock_level_id": stock_level_id})
    return row


def get_stock(actor: Actor, stock_level_id: int) -> StockView:
    return stock_view(_stock_row(actor, stock_level_id))


# --- single-row writes --------------------------------------------------------------------------


def _check_reason(reason: str) -> None:
    if reason not in MANUAL_REASONS:
        raise ValidationError(
            "unknown reason", details={"reason": [f"one of {', '.join(MANUAL_REASONS)}"]}
        )


def adjust(
    actor: Actor, stock_level_id: int, delta: int, reason: str, note: str | None = None
) -> StockView:
    """Add (or remove, delta < 0) units on hand, with a reason: one ledger row. 409 out_of_stock
    when it would leave fewer units on hand than zero or than are reserved."""
    _check_reason(reason)
    with transaction():
        row = _stock_row(actor, stock_level_id, lock=True)
        check_units(row.quantity_on_hand + delta, "delta")
        stock = services.adjust_stock(
            stock_level_id, delta, reason=reason, note=note, actor_id=actor.user_id
        )
        view = stock_view(stock)
    return view


@transactional
def set_reorder_point(actor: Actor, stock_level_id: int, reorder_point: int) -> StockView:
    row = _stock_row(actor, stock_level_id)
    services.set_reorder_point(row, reorder_point)
    return stock_view(row)


def _warehouse_for(seller_id: int | None, warehouse_id: int) -> Warehouse:
    """A warehouse the caller may keep stock in: staff any of the tenant, a seller its own or the
    platform's (404 otherwise)."""
    stmt = select(Warehouse).where(Warehouse.id == warehouse_id)
    if seller_id is not None:
        stmt = stmt.where(scopes.warehouses_usable_by_seller(seller_id))
    found = db.session.scalar(stmt)
    if found is None:
        raise NotFound("warehouse not found", details={"warehouse_id": warehouse_id})
    return found


def _variant_for(seller_id: int | None, variant_id: int | None, sku: str | None) -> ProductVariant:
    stmt = select(ProductVariant)
    stmt = (
        stmt.where(ProductVariant.id == variant_id)
        if variant_id is not None
        else stmt.where(ProductVariant.sku == sku)
    )
    if seller_id is not None:
        stmt = stmt.where(ProductVariant.seller_id == seller_id)
    found = db.session.scalar(stmt)
    if found is None:
        raise NotFound(
            "variant not found",
            details={"variant_id": variant_id} if variant_id is not None else {"sku": sku},
        )
    return found


def _new_stock_row(
    variant: ProductVariant, warehouse: Warehouse, reorder_point: int | None
) -> tuple[int, bool]:
    """The variant's stock row in the warehouse, made empty when missing: (id, made)."""
    return services.ensure_stock_row(
        variant.id,
        warehouse.id,
        tenant_id=variant.tenant_id,
        seller_id=variant.seller_id,
        reorder_point=reorder_point,
    )


@dataclass(frozen=True)
class NewStock:
    warehouse_id: int
    variant_id: int | None = None
    sku: str | None = None
    quantity_on_hand: int = 0
    reorder_point: int | None = None


@transactional
def create_stock(actor: Actor, new: NewStock) -> StockView:
    """Start keeping a variant in a warehouse; its first units are a "count" in the ledger. 409
    when the warehouse already has a row of the variant."""
    seller_id = seller_scope(actor)
    variant = _variant_for(seller_id, new.variant_id, new.sku)
    warehouse = _warehouse_for(seller_id, new.warehouse_id)
    stock_id, made = _new_stock_row(variant, warehouse, new.reorder_point)
    if not made:
        raise Conflict(
            "this warehouse already keeps this variant", details={"stock_level_id": stock_id}
        )
    row = db.session.get(StockLevel, stock_id)
    if new.quantity_on_hand:
        row = services.move_stock(
            stock_id,
            d_on_hand=new.quantity_on_hand,
            reason="count",
            reference="created",
            actor_id=actor.user_id,
        )
    return stock_view(row)


# --- bulk ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkRow:
    """One row of a bulk update: a stock row by `stock_level_id`, or by `sku` + `warehouse_code`
    (made when the warehouse does not keep the SKU yet); a new count (`quantity`) or a change
    (`delta`)."""

    stock_level_id: int | None = None
    sku: str | None = None
    warehouse_code: str | None = None
    quantity: int | None = None
    delta: int | None = None
    reason: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class BulkResultRow:
    row: int
    stock_level_id: int
    sku: str
    warehouse_code: str
    delta: int
    quantity_on_hand: int
    quantity_reserved: int
    created: bool


@dataclass(frozen=True)
class BulkResult:
    items: list[BulkResultRow]
    updated: int
    unchanged: int
    created: int
    replayed: bool = False
    reference: str = ""


@dataclass
class _Target:
    index: int
    row: BulkRow
    stock_id: int | None = None
    created: bool = False
    errors: list[str] = field(default_factory=list)


def _resolve(seller_id: int | None, rows: list[BulkRow]) -> list[_Target]:
    """Each row's stock row id (rows of unknown or hidden stock, SKUs and warehouses get errors);
    SKUs a warehouse does not keep yet get a new (empty) stock row."""
    targets = [_Target(i, r) for i, r in enumerate(rows)]
    by_id = [t for t in targets if t.row.stock_level_id is not None]
    by_sku = [t for t in targets if t.row.stock_level_id is None]
    if by_id:
        wanted = {t.row.stock_level_id for t in by_id}
        seen = set(
            db.session.scalars(
                _visible_stock(seller_id)
                .with_only_columns(StockLevel.id)
                .where(StockLevel.id.in_(wanted))
            )
        )
        for t in by_id:
            if t.row.stock_level_id in seen:
                t.stock_id = t.row.stock_level_id
            else:
                t.errors.append(f"no stock level {t.row.stock_level_id}")
    if by_sku:
        skus = {t.row.sku for t in by_sku}
        variant_stmt = select(ProductVariant).where(ProductVariant.sku.in_(skus))
        if seller_id is not None:
            variant_stmt = variant_stmt.where(ProductVariant.seller_id == seller_id)
        variants = {v.sku: v for v in db.session.scalars(variant_stmt)}
        codes = {t.row.warehouse_code for t in by_sku}
        warehouse_stmt = select(Warehouse).where(Warehouse.code.in_(codes))
        if seller_id is not None:
            warehouse_stmt = warehouse_stmt.where(scopes.warehouses_usable_by_seller(seller_id))
        warehouses = {w.code: w for w in db.session.scalars(warehouse_stmt)}
        pairs = {
            (variants[t.row.sku].id, warehouses[t.row.warehouse_code].id)
            for t in by_sku
            if t.row.sku in variants and t.row.warehouse_code in warehouses
        }
        existing = {}
        if pairs:
            existing = {
                (variant_id, warehouse_id): stock_id
                for stock_id, variant_id, warehouse_id in db.session.execute(
                    select(StockLevel.id, StockLevel.variant_id, StockLevel.warehouse_id).where(
                        tuple_(StockLevel.variant_id, StockLevel.warehouse_id).in_(list(pairs))
                    )
                )
            }
        for t in by_sku:
            variant = variants.get(t.row.sku)
            warehouse = warehouses.get(t.row.warehouse_code)
            if variant is None:
                t.errors.append(f"no variant with SKU {t.row.sku}")
            if warehouse is None:
                t.errors.append(f"no warehouse with code {t.row.warehouse_code}")
            if t.errors:
                continue
            stock_id = existing.get((variant.id, warehouse.id))
            if stock_id is None:
                if t.row.delta is not None and t.row.delta < 0:
                    t.errors.append(f"warehouse {warehouse.code} keeps no stock of {variant.sku}")
                    continue
                stock_id, t.created = _new_stock_row(variant, warehouse, None)
                existing[(variant.id, warehouse.id)] = stock_id
            t.stock_id = stock_id
    first: dict[int, int] = {}
    for t in targets:
        if t.stock_id is None:
            continue
        if t.stock_id in first:
            t.errors.append(f"the same stock row as row {first[t.stock_id]}")
        else:
            first[t.stock_id] = t.index
    return targets


def _refuse(targets: list[_Target], error: type[ValidationError] | type[Conflict], message: str):
    raise error(message, details={"rows": {str(t.index): t.errors for t in targets if t.errors}})


def bulk_update(
    actor: Actor, rows: list[BulkRow], idempotency_key: str | None = None
) -> BulkResult:
    """Apply every row or none (see the module). 422 validation_error naming the rows that name no
    visible stock, SKU or warehouse; 409 out_of_stock naming the rows that would leave fewer units
    than zero or than are reserved; 409 idempotency_key_reused for a key used with another body."""
    seller_id = seller_scope(actor)
    if not rows or len(rows) > BULK_MAX_ROWS:
        raise ValidationError(
            f"send 1 to {BULK_MAX_ROWS} rows", details={"rows": [f"1 to {BULK_MAX_ROWS} rows"]}
        )
    if idempotency_key is not None:
        idempotency.check_key(idempotency_key)
    fingerprint = idempotency.request_hash({"rows": [r.__dict__ for r in rows]})
    for attempt in range(2):
        try:
            return _bulk_update(actor, seller_id, rows, idempotency_key, fingerprint)
        except IntegrityError:
            # the key's INSERT clashed: a concurrent request with it committed first (its INSERT
            # waited on the unique key until then); once more, this time answering its result
            if idempotency_key is None or attempt:
                raise
    raise AssertionError("unreachable")


def _bulk_update(
    actor: Actor,
    seller_id: int | None,
    rows: list[BulkRow],
    idempotency_key: str | None,
    fingerprint: str,
) -> BulkResult:
    scope = f"user:{actor.user_id}"
    with transaction():
        if idempotency_key is not None:
            # no savepoint (SQLite's driver commits a released one; a release also dispatches the
            # transaction's events early): the key is read, else written with the work
            earlier = idempotency.find(IDEMPOTENCY_DOMAIN, scope, idempotency_key, "bulk_update")
            if earlier is not None:
                if earlier.request_hash != fingerprint:
                    raise IdempotencyKeyReused(
                        "this Idempotency-Key was used with another request",
                        details={"Idempotency-Key": idempotency_key},
                    )
                return _replayed(earlier.result)
            key_row, _ = idempotency.claim(
                IDEMPOTENCY_DOMAIN,
                scope,
                idempotency_key,
                "bulk_update",
                fingerprint,
                savepoint=False,
            )
            db.session.flush()  # the unique key taken now: a concurrent twin waits here
        targets = _resolve(seller_id, rows)
        if any(t.errors for t in targets):
            _refuse(targets, ValidationError, "some rows name no stock you may change")
        ids = sorted(t.stock_id for t in targets)
        locked = {
            r.id: r
            for r in db.session.execute(
                select(StockLevel.id, StockLevel.quantity_on_hand, StockLevel.quantity_reserved)
                .where(StockLevel.id.in_(ids))
                .order_by(StockLevel.id)
                .with_for_update()
            )
        }
        deltas: dict[int, int] = {}
        too_many = False
        for t in targets:
            now = locked[t.stock_id]
            new = (
                t.row.quantity if t.row.quantity is not None else now.quantity_on_hand + t.row.delta
            )
            if new < now.quantity_reserved or new < 0:
                t.errors.append(
                    f"would leave {new} on hand; {now.quantity_on_hand} on hand, "
                    f"{now.quantity_reserved} reserved"
                )
            elif new > MAX_UNITS:
                too_many = True
                t.errors.append(f"would leave {new} on hand; a row holds at most {MAX_UNITS}")
            deltas[t.index] = new - now.quantity_on_hand
        if too_many:
            _refuse(targets, ValidationError, "some rows would hold too many units")
        if any(t.errors for t in targets):
            _refuse(targets, InsufficientStock, "some rows would leave too few units on hand")
        reference = f"bulk:{uuid.uuid4().hex[:12]}"
        results: dict[int, BulkResultRow] = {}
        for t in sorted(targets, key=lambda t: t.stock_id):
            delta = deltas[t.index]
            if delta:
                reason = t.row.reason or ("count" if t.row.quantity is not None else "adjustment")
                stock = services.move_stock(
                    t.stock_id,
                    d_on_hand=delta,
                    reason=reason,
                    reference=reference,
                    actor_id=actor.user_id,
                    note=t.row.note,
                )
                if stock is None:  # pragma: no cover - the rows are locked and were checked
                    raise InsufficientStock("not enough stock on hand")
            else:
                stock = db.session.get(StockLevel, t.stock_id, populate_existing=True)
            results[t.index] = BulkResultRow(
                row=t.index,
                stock_level_id=stock.id,
                sku=stock.variant.sku,
                warehouse_code=stock.warehouse.code,
                delta=delta,
                quantity_on_hand=stock.quantity_on_hand,
                quantity_reserved=stock.quantity_reserved,
                created=t.created,
            )
        items = [results[i] for i in sorted(results)]
        result = BulkResult(
            items=items,
            updated=sum(1 for r in items if r.delta),
            unchanged=sum(1 for r in items if not r.delta),
            created=sum(1 for r in items if r.created),
            reference=reference,
        )
        if idempotency_key is not None:
            key_row.result = _stored(result)
    return result


def _stored(result: BulkResult) -> dict:
    return {
        "reference": result.reference,
        "items": [r.__dict__ for r in result.items],
        "updated": result.updated,
        "unchanged": result.unchanged,
        "created": result.created,
    }


def _replayed(stored: dict) -> BulkResult:
    return BulkResult(
        items=[BulkResultRow(**r) for r in stored["items"]],
        updated=stored["updated"],
        unchanged=stored["unchanged"],
        created=stored["created"],
        replayed=True,
        reference=stored["reference"],
    )


# --- transfers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferView:
    reference: str
    quantity: int
    source: StockView
    destination: StockView


def transfer(
    actor: Actor,
    stock_level_id: int,
    to_warehouse_id: int,
    quantity: int,
    note: str | None = None,
) -> TransferView:
    """Move `quantity` available units of a stock row to the same variant in another warehouse
    (its row made when missing): two "transfer" movements with one reference, in one transaction.
    409 out_of_stock when the source has fewer units available (reserved ones stay)."""
    if quantity <= 0:
        raise ValidationError("quantity must be positive", details={"quantity": ["must be > 0"]})
    seller_id = seller_scope(actor)
    with transaction():
        source = _stock_row(actor, stock_level_id)
        if source.warehouse_id == to_warehouse_id:
            raise ValidationError(
                "the destination is the source's warehouse",
                details={"to_warehouse_id": ["another warehouse than the source's"]},
            )
        warehouse = _warehouse_for(seller_id, to_warehouse_id)
        destination_id = db.session.scalar(
            select(StockLevel.id).where(
                StockLevel.variant_id == source.variant_id,
                StockLevel.warehouse_id == warehouse.id,
            )
        )
        if destination_id is None:
            destination_id, _ = _new_stock_row(source.variant, warehouse, None)
        rows = {
            r.id: r
            for r in db.session.execute(
                select(StockLevel.id, StockLevel.quantity_on_hand, StockLevel.quantity_reserved)
                .where(StockLevel.id.in_([source.id, destination_id]))
                .order_by(StockLevel.id)
                .with_for_update()
            )
        }
        check_units(rows[destination_id].quantity_on_hand + quantity)
        available = rows[source.id].quantity_on_hand - rows[source.id].quantity_reserved
        if available < quantity:
            raise InsufficientStock(
                "not enough units available to transfer",
                details={"available": available, "requested": quantity},
            )
        reference = f"transfer:{uuid.uuid4().hex[:12]}"
        moved_out = services.move_stock(
            source.id,
            d_on_hand=-quantity,
            reason="transfer",
            reference=reference,
            actor_id=actor.user_id,
            note=note,
        )
        moved_in = services.move_stock(
            destination_id,
            d_on_hand=quantity,
            reason="transfer",
            reference=reference,
            actor_id=actor.user_id,
            note=note,
        )
        if moved_out is None or moved_in is None:  # pragma: no cover - locked and checked
            raise InsufficientStock("not enough units available to transfer")
        view = TransferView(reference, quantity, stock_view(moved_out), stock_view(moved_in))
    return view


# --- movements ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MovementFilters:
    stock_level_id: int | None = None
    warehouse_id: int | None = None
    variant_id: int | None = None
    sku: str | None = None
    reason: str | None = None
    reference: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def list_movements(
    actor: Actor, filters: MovementFilters, page: int, page_size: int
) -> Page[MovementView]:
    """The ledger, newest first."""
    seller_id = seller_scope(actor)
    stmt = select(StockMovement)
    if seller_id is not None:
        stmt = stmt.where(scopes.movements_of_seller(seller_id))
    if filters.stock_level_id is not None:
        stmt = stmt.where(StockMovement.stock_level_id == filters.stock_level_id)
    stock_conditions = []
    if filters.warehouse_id is not None:
        stock_conditions.append(StockLevel.warehouse_id == filters.warehouse_id)
    if filters.variant_id is not None:
        stock_conditions.append(StockLevel.variant_id == filters.variant_id)
    if filters.sku is not None:
        stock_conditions.append(
            StockLevel.variant_id.in_(
                select(ProductVariant.id).where(ProductVariant.sku == filters.sku)
            )
        )
    if stock_conditions:
        stmt = stmt.where(
            StockMovement.stock_level_id.in_(select(StockLevel.id).where(*stock_conditions))
        )
    if filters.reason is not None:
        stmt = stmt.where(StockMovement.reason == filters.reason)
    if filters.reference is not None:
        stmt = stmt.where(StockMovement.reference == filters.reference)
    if filters.since is not None:
        stmt = stmt.where(StockMovement.created_at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(StockMovement.created_at < filters.until)
    found = paginate(stmt.order_by(StockMovement.id.desc()), page, page_size)
    return Page([movement_view(r) for r in found.items], found.total, found.page, found.page_size)
