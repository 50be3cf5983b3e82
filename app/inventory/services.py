"""Inventory operations. Stock never goes negative: every change is a conditional UPDATE that
the database refuses when it would break on_hand >= reserved >= 0, plus a ledger row and an
`inventory.stock_changed` event in the same transaction."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import func, insert, inspect, select, update

from app.catalog import queries as catalog_queries
from app.core import cache
from app.core.db import transactional
from app.core.errors import InsufficientStock, NotFound, ValidationError
from app.core.types import utcnow
from app.events.bus import publish
from app.events.models import OutboxEvent
from app.extensions import db
from app.inventory import scopes
from app.inventory.models import MOVEMENT_REASONS, LowStockAlert, StockLevel, StockMovement


def _stock_event(stock: StockLevel, reason: str) -> None:
    publish(
        "inventory.stock_changed",
        {
            "stock_level_id": stock.id,
            "variant_id": stock.variant_id,
            "warehouse_id": stock.warehouse_id,
            "on_hand": stock.quantity_on_hand,
            "reserved": stock.quantity_reserved,
            "reason": reason,
        },
        aggregate="stock_level",
        aggregate_id=stock.id,
    )


def _mark_caches(stock, d_on_hand: int, d_reserved: int) -> None:
    """What a stock statement (executed with cache_bump=False) changes in the cached storefront:
    product pages show each variant's units available, so their stock namespace moves on every
    change; product cards and lists show only whether a product is in stock, so the catalog moves
    only when this row's units available go from none to some or back (an order that leaves units
    on the shelf keeps every cached list)."""
    after = stock.quantity_on_hand - stock.quantity_reserved
    before = after - (d_on_hand - d_reserved)
    cache.mark(catalog_queries.STOCK_CACHE_NAMESPACE, stock.tenant_id)
    if (before > 0) != (after > 0):
        cache.mark(catalog_queries.CACHE_NAMESPACE, stock.tenant_id)


def _ledger(
    stock: StockLevel,
    reason: str,
    d_on_hand: int,
    d_reserved: int,
    *,
    reference=None,
    note=None,
    actor_id=None,
) -> None:
    _mark_caches(stock, d_on_hand, d_reserved)
    db.session.add(
        StockMovement(
            stock_level_id=stock.id,
            tenant_id=stock.tenant_id,
            seller_id=stock.seller_id,  # the stock row's copy: no lookup in the ownership hook
            reason=reason,
            delta_on_hand=d_on_hand,
            delta_reserved=d_reserved,
            on_hand_after=stock.quantity_on_hand,
            reserved_after=stock.quantity_reserved,
            reference=reference,
            note=note,
            actor_id=actor_id,
        )
    )
    _stock_event(stock, reason)


@transactional
def adjust_stock(
    stock_level_id: int,
    delta: int,
    *,
    reason: str = "adjustment",
    reference: str | None = None,
    note: str | None = None,
    actor_id: int | None = None,
) -> StockLevel:
    """Add (or remove, with a negative delta) units on hand. Refused if it would leave fewer
    units on hand than are reserved."""
    if reason not in MOVEMENT_REASONS:
        raise ValidationError(
            "unknown movement reason", details={"reason": f"one of {', '.join(MOVEMENT_REASONS)}"}
        )
    if delta == 0:
        raise ValidationError("delta must not be zero", details={"delta": "must not be zero"})
    result = db.session.execute(
        update(StockLevel)
        .where(
            StockLevel.id == stock_level_id,
            StockLevel.quantity_on_hand + delta >= StockLevel.quantity_reserved,
            StockLevel.quantity_on_hand + delta >= 0,
        )
        .values(quantity_on_hand=StockLevel.quantity_on_hand + delta, updated_at=utcnow())
        .execution_options(synchronize_session=False, cache_bump=False)  # _mark_caches
    )
    stock = db.session.get(StockLevel, stock_level_id, populate_existing=True)
    if stock is None:
        raise NotFound("stock level not found")
    if result.rowcount != 1:
        raise InsufficientStock(
            "not enough stock on hand", details={"available": stock.available, "requested": -delta}
        )
    _ledger(stock, reason, delta, 0, reference=reference, note=note, actor_id=actor_id)
    return stock


def record_manual_edit(stock: StockLevel, actor_id: int | None = None) -> None:
    """For an edit made through a form (the admin): turn the change of quantity_on_hand into a
    ledger row and an event, inside the caller's transaction. Refuses a result below reserved."""
    hist = inspect(stock).attrs.quantity_on_hand.history
    old = hist.deleted[0] if hist.deleted else None
    new = stock.quantity_on_hand
    if new is None or new < 0:
        raise ValidationError(
            "on hand must be zero or more", details={"quantity_on_hand": "must be >= 0"}
        )
    if new < (stock.quantity_reserved or 0):
        raise InsufficientStock(
            "on hand cannot drop below reserved units",
            details={"reserved": stock.quantity_reserved},
        )
    if stock.id is None:  # new row: the ledger starts at its first quantity
        db.session.flush()
        old = 0
    if old is None or old == new:
        if inspect(stock).attrs.reorder_point.history.has_changes():
            _stock_event(stock, "adjustment")
        return
    _ledger(stock, "count", new - old, 0, note="edited in the admin", actor_id=actor_id)


def check_low_stock(event: OutboxEvent) -> LowStockAlert | None:
    """Consumer of inventory.stock_changed: open an alert when available stock is at or below the
    reorder point and none is open; resolve open alerts once stock is above it again."""
    stock = db.session.get(StockLevel, event.payload["stock_level_id"])
    if stock is None:
        return None
    open_alert = db.session.scalar(
        select(LowStockAlert).where(
            LowStockAlert.stock_level_id == stock.id, LowStockAlert.resolved_at.is_(None)
        )
    )
    if stock.available <= stock.reorder_point:
        if open_alert is not None:
            return open_alert
        alert = LowStockAlert(
            stock_level_id=stock.id,
            tenant_id=stock.tenant_id,
            available=stock.available,
            reorder_point=stock.reorder_point,
            source_event_id=event.id,
        )
        db.session.add(alert)
        db.session.flush()
        publish(
            "inventory.low_stock",
            {
                "stock_level_id": stock.id,
                "variant_id": stock.variant_id,
                "available": stock.available,
                "reorder_point": stock.reorder_point,
                "alert_id": alert.id,
            },
            aggregate="stock_level",
            aggregate_id=stock.id,
            tenant_id=stock.tenant_id,
        )
        return alert
    if open_alert is not None:
        open_alert.resolved_at = utcnow()
    return None


def reserve_locked(
    rows, plan: list[tuple[int, int]], *, reason: str, reference: str | None = None
) -> int | None:
    """Inside the caller's transaction, for stock rows it has LOCKED (SELECT ... FOR UPDATE, in
    primary-key order) and read: `rows` {id: row with id, tenant_id, seller_id, variant_id,
    warehouse_id, quantity_on_hand, quantity_reserved}; `plan` [(stock_level_id, units)] in
    primary-key order. Reserves each with move_stock's conditional UPDATE; the ledger rows and
    `inventory.stock_changed` events are made from the locked values (no re-read) and written
    together at the next flush. Returns None, or the id of the first row the database refused."""
    done = []
    for stock_id, units in plan:
        result = db.session.execute(
            update(StockLevel)
            .where(
                StockLevel.id == stock_id,
                StockLevel.quantity_on_hand - StockLevel.quantity_reserved - units >= 0,
                StockLevel.quantity_reserved + units >= 0,
            )
            .values(quantity_reserved=StockLevel.quantity_reserved + units, updated_at=utcnow())
            .execution_options(synchronize_session=False, cache_bump=False)  # _mark_caches
        )
        if result.rowcount != 1:
            return stock_id
        done.append((rows[stock_id], units))
    for row, units in done:  # the row is locked: its new values are the read ones + units
        after = SimpleNamespace(
            id=row.id,
            tenant_id=row.tenant_id,
            seller_id=row.seller_id,
            variant_id=row.variant_id,
            warehouse_id=row.warehouse_id,
            quantity_on_hand=row.quantity_on_hand,
            quantity_reserved=row.quantity_reserved + units,
        )
        _ledger(after, reason, 0, units, reference=reference)
    return None


def move_stock(
    stock_level_id: int,
    *,
    d_on_hand: int = 0,
    d_reserved: int = 0,
    reason: str,
    reference: str | None = None,
    actor_id: int | None = None,
    note: str | None = None,
) -> StockLevel | None:
    """Inside the caller's transaction: change on-hand and reserved units of one stock row with one
    conditional UPDATE (refused, returning None, when it would break on_hand >= reserved >= 0),
    plus its ledger row and `inventory.stock_changed` event. Reserving is d_reserved=+n; releasing
    a reservation d_reserved=-n; selling reserved units d_on_hand=-n, d_reserved=-n. Callers that
    touch several rows do it in primary-key order (no deadlocks between them)."""
    result = db.session.execute(
        update(StockLevel)
        .where(
            StockLevel.id == stock_level_id,
            StockLevel.quantity_on_hand + d_on_hand - StockLevel.quantity_reserved - d_reserved
            >= 0,
            StockLevel.quantity_reserved + d_reserved >= 0,
        )
        .values(
            quantity_on_hand=StockLevel.quantity_on_hand + d_on_hand,
            quantity_reserved=StockLevel.quantity_reserved + d_reserved,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False, cache_bump=False)  # _mark_caches
    )
    if result.rowcount != 1:
        return None
    stock = db.session.get(StockLevel, stock_level_id, populate_existing=True)
    _ledger(stock, reason, d_on_hand, d_reserved, reference=reference, note=note, actor_id=actor_id)
    return stock


def set_reorder_point(stock: StockLevel, reorder_point: int) -> None:
    """Inside the caller's transaction: a new reorder point for a stock row; its
    `inventory.stock_changed` event lets the low-stock check open or resolve an alert."""
    if reorder_point < 0:
        raise ValidationError(
            "reorder point must be zero or more", details={"reorder_point": ["must be >= 0"]}
        )
    if stock.reorder_point == reorder_point:
        return
    stock.reorder_point = reorder_point
    db.session.flush()
    _stock_event(stock, "adjustment")


def open_low_stock_alerts(seller_id: int | None = None) -> int:
    """Low-stock alerts not resolved yet (the admin home page); a seller's own when seller_id is
    given."""
    low = select(func.count(LowStockAlert.id)).where(LowStockAlert.resolved_at.is_(None))
    if seller_id is not None:
        low = low.where(scopes.alerts_of_seller(seller_id))
    return db.session.scalar(low) or 0


def ensure_stock_row(
    variant_id: int,
    warehouse_id: int,
    *,
    tenant_id: int,
    seller_id: int,
    reorder_point: int | None = None,
) -> tuple[int, bool]:
    """Inside the caller's transaction: the id of the variant's stock row in the warehouse, made
    empty (0 on hand) when missing; (id, made). One INSERT IGNORE (SQLite: INSERT OR IGNORE) then
    a read: a concurrent request making the same row waits on the unique key and finds it, and no
    savepoint is needed (a savepoint's release would dispatch the transaction's events before
    its commit). A Core statement: the row holds no units, its first units come through the
    ledger; the caller names the tenant and the variant's seller it has checked."""
    values = {
        "variant_id": variant_id,
        "warehouse_id": warehouse_id,
        "tenant_id": tenant_id,
        "seller_id": seller_id,
        "quantity_on_hand": 0,
        "quantity_reserved": 0,
    }
    if reorder_point is not None:
        values["reorder_point"] = reorder_point
    made = db.session.execute(
        insert(StockLevel.__table__)
        .values(**values)
        .prefix_with("IGNORE", dialect="mysql")
        .prefix_with("IGNORE", dialect="mariadb")
        .prefix_with("OR IGNORE", dialect="sqlite")
    )
    found = db.session.scalar(
        select(StockLevel.id).where(
            StockLevel.variant_id == variant_id, StockLevel.warehouse_id == warehouse_id
        )
    )
    return found, bool(made.rowcount)
