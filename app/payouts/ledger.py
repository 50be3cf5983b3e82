"""Writing the seller ledger: the consumers of orders' and payments' events (jobs/subscribers.py
wires them; each runs once per event through app.events.bus.consume, so a redelivered event
writes nothing twice) and the staff adjustment.

What a paid sub-order is worth to its seller, one entry per line and kind (hand-computed cases in
tests/app/payouts/test_ledger_arithmetic.py):

    sale              + line.total + line.discount_total   (the line before any discount)
    seller_discount   - the line's seller-funded discounts  (a platform-funded one the platform pays)
    commission        - line.commission_amount              (frozen at checkout, never recomputed)
    shipping          + sub.total - sum(line.total)         (shipping and its tax)
    commission        - sub.commission_amount - sum(lines)  (a per-order part, when there is one)

so the seller nets what the buyer paid for its sub-order, plus the platform-funded discounts,
minus the commission. A completed refund takes back the same share of each: a refund of a
fraction p of a line's paid amount writes refund -p x (sale - seller discount) and
commission_reversal +p x commission; a refund of an amount of a whole sub-order (or one that
answers no request: an Admin's API refund, spread over the paid sub-orders by their totals) does
the same with p = amount / sub-order total. Amounts are rounded half-up to the currency's unit
(whole yen for JPY), and a refund never takes back more than the sub-order earned.

Delivery order: under RQ with several workers a `refund.completed` may be consumed before the
`order.status_changed` (to paid) of the same sub-order. The refund consumer then writes the sale
first (the sub-order's timeline says it was paid), and the sale consumer later finds it and writes
nothing; both take the sub-order's row lock before they look for the sale, so the sale is written
once even when both run at the same moment (tests/app/payouts/test_ledger_delivery_order.py).

Money becomes available `hold_days` (the tenant's PayoutSettings) after delivery: the
`order.delivered` consumer writes the sub-order's SellerLedgerRelease once; entries of a
sub-order follow it (their own `available_at` stays empty), adjustments are available at once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from app.core.errors import NotFound, PermissionDenied, ValidationError
from app.core.types import quantize_money, utcnow
from app.extensions import db
from app.orders.models import Order, OrderEvent, OrderLine, RefundRequest, SubOrder
from app.orders.states import OrderStatus
from app.payouts.models import (
    DEFAULT_HOLD_DAYS,
    EntryKind,
    PayoutSettings,
    SellerLedgerEntry,
    SellerLedgerRelease,
)
from app.security.actor import Actor
from app.sellers.models import SellerProfile

ZERO = Decimal("0")


def payout_settings() -> PayoutSettings:
    """The current tenant's payout settings (the defaults, unsaved, when it has none)."""
    row = db.session.scalar(select(PayoutSettings))
    return row or PayoutSettings(hold_days=DEFAULT_HOLD_DAYS, minimum_payout=Decimal("0.00"))


def _platform_funded(line: OrderLine) -> Decimal:
    return sum(
        (Decimal(str(d["amount"])) for d in line.discounts or () if d.get("funded_by") != "seller"),
        ZERO,
    )


def _seller_funded(line: OrderLine) -> Decimal:
    return sum(
        (Decimal(str(d["amount"])) for d in line.discounts or () if d.get("funded_by") == "seller"),
        ZERO,
    )


class _Writer:
    """Entries of one event for one sub-order, rounded in its currency; zero amounts are skipped."""

    def __init__(self, sub: SubOrder, event_id: int | None):
        self.sub, self.event_id = sub, event_id
        self.currency = sub.order.currency

    def add(self, kind: str, amount: Decimal, line: OrderLine | None = None) -> None:
        amount = quantize_money(amount, self.currency)
        if amount == 0:
            return
        db.session.add(
            SellerLedgerEntry(
                seller_id=self.sub.seller_id,
                sub_order_id=self.sub.id,
                order_line_id=None if line is None else line.id,
                currency=self.currency,
                amount=amount,
                kind=kind,
                source_event_id=self.event_id,
            )
        )


def _has_sale(sub_order_id: int) -> bool:
    return (
        db.session.scalar(
            select(SellerLedgerEntry.id)
            .where(
                SellerLedgerEntry.sub_order_id == sub_order_id,
                SellerLedgerEntry.kind == EntryKind.SALE,
            )
            .limit(1)
        )
        is not None
    )


def _was_paid(sub_order_id: int) -> bool:
    """Whether the sub-order was ever moved to paid (its timeline: the move that publishes the
    `order.status_changed` the sale consumer answers), whatever its status now."""
    return (
        db.session.scalar(
            select(OrderEvent.id)
            .where(
                OrderEvent.sub_order_id == sub_order_id,
                OrderEvent.to_status == OrderStatus.PAID,
                OrderEvent.from_status != OrderStatus.PAID,
            )
            .limit(1)
        )
        is not None
    )


def _lock_sub_order(sub_order_id: int) -> None:
    """The sub-order's row lock (SELECT ... FOR UPDATE), held until the consumer commits: the
    sale and refund consumers of one sub-order take it before they look for its sale, so one of
    them writes the sale and the other, waiting, then sees it (READ COMMITTED: a read after the
    wait sees what the first committed). SQLite runs one writer at a time anyway."""
    db.session.execute(
        select(SubOrder.id).where(SubOrder.id == sub_order_id).with_for_update()
    ).first()


def record_sale(sub: SubOrder, event_id: int | None) -> bool:
    """The entries of a sub-order that was paid; False when it has them already (a sub-order
    returns to "paid" after a rejected refund request: that is no new sale; and a refund consumed
    before the paid event wrote them first). Under the sub-order's row lock, so two consumers
    running at once never write the sale twice."""
    _lock_sub_order(sub.id)
    if _has_sale(sub.id):
        return False
    write = _Writer(sub, event_id)
    lines_total = commission = ZERO
    for line in sub.lines:
        write.add(EntryKind.SALE, line.total + line.discount_total, line)
        write.add(EntryKind.SELLER_DISCOUNT, -_seller_funded(line), line)
        write.add(EntryKind.COMMISSION, -line.commission_amount, line)
        lines_total += line.total
        commission += line.commission_amount
    write.add(EntryKind.SHIPPING, sub.total - lines_total)
    write.add(EntryKind.COMMISSION, -(sub.commission_amount - commission))
    return True


def _ensure_sale(sub: SubOrder, event_id: int | None) -> bool:
    """Before a refund's entries: the sub-order's sale, written now when it was paid but its paid
    event is not consumed yet (several workers deliver events in any order); the sale consumer
    then finds it and writes nothing. True when the sub-order has its sale (now)."""
    _lock_sub_order(sub.id)
    if _has_sale(sub.id):
        return True
    if not _was_paid(sub.id):
        return False
    return record_sale(sub, event_id)


def on_sub_order_status_changed(event) -> None:
    """Consumer of order.status_changed: a sub-order that became paid gives its sale entries."""
    payload = event.payload
    if payload.get("to_status") != OrderStatus.PAID or payload.get("sub_order_id") is None:
        return
    sub = db.session.get(SubOrder, int(payload["sub_order_id"]))
    if sub is not None:
        record_sale(sub, event.id)


def on_delivered(event) -> None:
    """Consumer of order.delivered: the sub-order's money is available hold_days from now."""
    sub_order_id = int(event.payload["sub_order_id"])
    exists = db.session.scalar(
        select(SellerLedgerRelease.id).where(SellerLedgerRelease.sub_order_id == sub_order_id)
    )
    sub = db.session.get(SubOrder, sub_order_id)
    if exists is not None or sub is None:
        return
    delivered = event.payload.get("delivered_at")
    delivered_at = dt.datetime.fromisoformat(delivered) if delivered else utcnow()
    if delivered_at.tzinfo is None:
        delivered_at = delivered_at.replace(tzinfo=dt.timezone.utc)
    db.session.add(
        SellerLedgerRelease(
            sub_order_id=sub.id,
            seller_id=sub.seller_id,
            delivered_at=delivered_at,
            available_at=delivered_at + dt.timedelta(days=payout_settings().hold_days),
            source_event_id=event.id,
        )
    )


# --- refunds ---------------------------------------------------------------------------------


def _earned(sub_order_id: int) -> Decimal:
    """What the sub-order's entries left to the seller before commission: sales, shipping and
    seller discounts, less the refunds already taken back."""
    kinds = (EntryKind.SALE, EntryKind.SELLER_DISCOUNT, EntryKind.SHIPPING, EntryKind.REFUND)
    return Decimal(
        db.session.scalar(
            select(func.coalesce(func.sum(SellerLedgerEntry.amount), 0)).where(
                SellerLedgerEntry.sub_order_id == sub_order_id, SellerLedgerEntry.kind.in_(kinds)
            )
        )
    )


def _line_gross(line: OrderLine) -> Decimal:
    """The line's worth to the seller before commission: what the buyer paid plus what the
    platform funded."""
    return line.total + _platform_funded(line)


def _refund_sub_order(sub: SubOrder, amount: Decimal, request: RefundRequest | None, event_id):
    """Refund and commission-reversal entries for `amount` given back of sub-order `sub` (its sale
    written first when its paid event is still on its way: `_ensure_sale`)."""
    if sub.total <= 0 or amount <= 0 or not _ensure_sale(sub, event_id):
        return
    write = _Writer(sub, event_id)
    left = _earned(sub.id)
    refund = reversal = ZERO
    parts: list[tuple[Decimal, Decimal, OrderLine | None]] = []  # (refund, reversal, line)
    if request is not None and request.lines:
        lines = {line.id: line for line in sub.lines}
        line_commission = ZERO
        for asked in request.lines:
            line = lines.get(asked.order_line_id)
            if line is None or line.total <= 0:
                continue
            share = min(asked.amount / line.total, Decimal(1))
            parts.append((share * _line_gross(line), share * line.commission_amount, line))
            line_commission += line.commission_amount
        if request.shipping_amount > 0:
            parts.append((request.shipping_amount, ZERO, None))
        # a per-order commission part goes back in proportion to the money
        extra = sub.commission_amount - sum((line.commission_amount for line in sub.lines), ZERO)
        if extra:
            parts.append((ZERO, min(amount / sub.total, Decimal(1)) * extra, None))
    else:
        share = min(amount / sub.total, Decimal(1))
        gross = sub.total + sum((_platform_funded(line) for line in sub.lines), ZERO)
        parts.append((share * gross, share * sub.commission_amount, None))
    for back, commission, line in parts:
        back = min(quantize_money(back, write.currency), left - refund)
        write.add(EntryKind.REFUND, -back, line)
        write.add(EntryKind.COMMISSION_REVERSAL, commission, line)
        refund += back
        reversal += commission


def on_refund_completed(event) -> None:
    """Consumer of refund.completed: the request it answers names the sub-order (and its lines);
    a refund that answers no request is spread over the order's paid sub-orders by their totals
    (the last one takes the rounding remainder)."""
    payload = event.payload
    order = db.session.get(Order, int(payload["order_id"]))
    if order is None:
        return
    amount = Decimal(str(payload["amount"]))
    request = None
    if payload.get("refund_id") is not None:
        request = db.session.scalar(
            select(RefundRequest).where(
                RefundRequest.order_id == order.id,
                RefundRequest.payment_refund_id == int(payload["refund_id"]),
            )
        )
    if request is not None:
        sub = next((s for s in order.sub_orders if s.id == request.sub_order_id), None)
        if sub is not None:
            _refund_sub_order(sub, amount, request, event.id)
        return
    subs = [s for s in order.sub_orders if s.total > 0 and (_has_sale(s.id) or _was_paid(s.id))]
    whole = sum((s.total for s in subs), ZERO)
    given = ZERO
    for index, sub in enumerate(subs):
        part = (
            amount - given
            if index == len(subs) - 1
            else quantize_money(amount * sub.total / whole, order.currency)
        )
        given += part
        _refund_sub_order(sub, part, None, event.id)


# --- staff adjustments -----------------------------------------------------------------------


@dataclass(frozen=True)
class Adjustment:
    """A staff correction of a seller's balance: signed amount, currency, and why."""

    seller_id: int
    currency: str
    amount: Decimal
    reason: str


def record_adjustment(actor: Actor, data: Adjustment) -> SellerLedgerEntry:
    """An Admin's adjustment entry (inside the caller's transaction), available at once."""
    if not actor.is_admin:
        raise PermissionDenied("only staff adjust a seller's ledger")
    seller = db.session.get(SellerProfile, data.seller_id)
    if seller is None:
        raise NotFound("no such seller", details={"seller_id": data.seller_id})
    currency = (data.currency or "").strip().upper()
    errors: dict[str, list[str]] = {}
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = ["a three-letter ISO 4217 code"]
    reason = (data.reason or "").strip()
    if not reason:
        errors["reason"] = ["say why the balance is adjusted"]
    elif len(reason) > 500:
        errors["reason"] = ["at most 500 characters"]
    amount = quantize_money(data.amount, currency) if not errors else data.amount
    if not errors and (amount == 0 or amount != data.amount):
        errors["amount"] = ["a non-zero amount in the currency's unit"]
    if not errors and abs(amount) >= Decimal("1e10"):
        errors["amount"] = ["too large"]
    if errors:
        raise ValidationError("the adjustment is invalid", details=errors)
    now = utcnow()
    entry = SellerLedgerEntry(
        seller_id=seller.id,
        currency=currency,
        amount=amount,
        kind=EntryKind.ADJUSTMENT,
        note=reason,
        created_by_user_id=actor.user_id,
        created_at=now,
        available_at=now,
    )
    db.session.add(entry)
    db.session.flush()
    return entry
