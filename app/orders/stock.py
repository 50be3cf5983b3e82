"""The stock an order holds: reservations held from checkout, released on cancel (or when the
money went back before shipping), turned into a sale when shipped, and returned units put back on
hand; products' sold_count follows paid and cancelled sub-orders. Stock rows are always locked and
moved in key order (app.inventory.services.move_stock: conditional UPDATEs and a ledger row)."""

from __future__ import annotations

from sqlalchemy import case, exists, func, select, update

from app.catalog.models import Product
from app.core.errors import Conflict
from app.extensions import db
from app.inventory import services as inventory
from app.orders.errors import OrderError
from app.orders.models import (
    RefundRequest,
    RefundRequestLine,
    ReservationStatus,
    StockReservation,
    SubOrder,
)


def holds_stock(sub: SubOrder) -> bool:
    return db.session.scalar(
        select(
            exists().where(
                StockReservation.sub_order_id == sub.id,
                StockReservation.status == ReservationStatus.HELD,
            )
        )
    )


def release_or_sell(sub: SubOrder, *, release: bool, actor_id: int | None) -> None:
    """Release (cancel) or sell (ship) the units a sub-order holds, in stock-row key order."""
    held = db.session.scalars(
        select(StockReservation)
        .where(
            StockReservation.sub_order_id == sub.id,
            StockReservation.status == ReservationStatus.HELD,
        )
        .order_by(StockReservation.stock_level_id)
        .with_for_update()
    ).all()
    for reservation in held:
        if release:
            moved = inventory.move_stock(
                reservation.stock_level_id,
                d_reserved=-reservation.quantity,
                reason="release",
                reference=f"order:{sub.number}",
                actor_id=actor_id,
            )
        else:
            moved = inventory.move_stock(
                reservation.stock_level_id,
                d_on_hand=-reservation.quantity,
                d_reserved=-reservation.quantity,
                reason="sale",
                reference=f"order:{sub.number}",
                actor_id=actor_id,
            )
        if moved is None:  # cannot happen while CHECK constraints hold; never leave it silently
            raise Conflict(
                "stock reservation is inconsistent",
                code=OrderError.STOCK_INCONSISTENT,
                details={"stock_level_id": reservation.stock_level_id},
            )
        reservation.status = ReservationStatus.RELEASED if release else ReservationStatus.CONSUMED


def return_units(
    sub: SubOrder, refund: RefundRequest, *, restock: bool, actor_id: int | None
) -> None:
    """Stock of the returned units, in stock-row key order: held units are released; shipped
    (consumed) units go back on hand where they came from when `restock`."""
    line_ids = [rl.order_line_id for rl in refund.lines]
    reservations = db.session.scalars(
        select(StockReservation)
        .where(
            StockReservation.order_line_id.in_(line_ids),
            StockReservation.status.in_((ReservationStatus.HELD, ReservationStatus.CONSUMED)),
        )
        .order_by(StockReservation.stock_level_id, StockReservation.id)
        .with_for_update()
    ).all()
    restocked_before = dict(
        db.session.execute(
            select(RefundRequestLine.order_line_id, func.sum(RefundRequestLine.restocked_quantity))
            .where(
                RefundRequestLine.order_line_id.in_(line_ids),
                RefundRequestLine.refund_request_id != refund.id,
            )
            .group_by(RefundRequestLine.order_line_id)
        ).all()
    )
    reference = f"refund:{sub.number}:{refund.id}"
    for refund_line in refund.lines:
        need = refund_line.quantity
        skip = int(
            restocked_before.get(refund_line.order_line_id) or 0
        )  # consumed units already back
        for reservation in (
            r for r in reservations if r.order_line_id == refund_line.order_line_id
        ):
            if need == 0:
                break
            if reservation.status == ReservationStatus.HELD:
                take = min(need, reservation.quantity)
                moved = inventory.move_stock(
                    reservation.stock_level_id,
                    d_reserved=-take,
                    reason="release",
                    reference=reference,
                    actor_id=actor_id,
                )
                if take == reservation.quantity:
                    reservation.status = ReservationStatus.RELEASED
                else:
                    reservation.quantity -= take
            elif restock:
                available = reservation.quantity - min(skip, reservation.quantity)
                skip -= reservation.quantity - available
                take = min(need, available)
                if take == 0:
                    continue
                moved = inventory.move_stock(
                    reservation.stock_level_id,
                    d_on_hand=take,
                    reason="return",
                    reference=reference,
                    actor_id=actor_id,
                )
                refund_line.restocked_quantity += take
            else:
                continue
            if moved is None:
                raise Conflict(
                    "stock reservation is inconsistent",
                    code=OrderError.STOCK_INCONSISTENT,
                    details={"stock_level_id": reservation.stock_level_id},
                )
            need -= take


def count_sold(sub: SubOrder, sign: int) -> None:
    """Products' sold_count (the storefront's popularity sort) follows paid and cancelled sub-orders;
    product rows are updated in key order. It does not empty the cached catalog (cache_bump=False):
    cached lists and cards show a count and a popularity order up to CATALOG_CACHE_SECONDS old,
    where bumping the catalog on every paid order left a shop taking orders with no cached list."""
    units: dict[int, int] = {}
    for line in sub.lines:
        if line.product_id is not None:
            units[line.product_id] = units.get(line.product_id, 0) + line.quantity
    for product_id in sorted(units):
        new = Product.sold_count + sign * units[product_id]
        db.session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(sold_count=case((new < 0, 0), else_=new))
            .execution_options(synchronize_session=False, cache_bump=False)
        )
