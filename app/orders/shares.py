"""A seller's share of an order's money: what the Seller role sees of payments, transactions and
refunds (the admin's /admin/payments, /admin/payment-transactions, /admin/refunds) and of an
order's refunded total (the orders API). The one home of the rule; staff see whole figures.

One payment covers a whole order, and an order may hold several sellers' sub-orders. For a seller
with sub-orders on an order:
- its part of the order is P / T, where P is the total of its sub-orders on that order and T the
  order's total; its share of an amount of the order's money is amount × P / T, rounded half-up
  to the currency's unit (app.core.types.quantize_money). A payment of the whole order (amount T)
  shows exactly P, and so do what was authorized and captured of it.
- a refund that answers a refund request (refund_requests.payment_refund_id) belongs to the
  requesting sub-order: all of it to that sub-order's seller, nothing to the others, who do not see
  it at all. A refund no request answers (a cancelled order's, one made through the payments API, a
  retry of those) is the whole order's, shared like a payment.
- a payment's refunded amount is the sum of the seller's shares of its refunds that count
  (pending or completed: the payment's amount_refunded holds the same ones); an order's refunded
  total, of its completed refunds.
- a transaction that records a refund (kind `refund`, or a gateway webhook about one:
  payment_transactions.refund_id) is shown as its refund is, at the same share; a refund
  transaction whose refund is not known (recorded before migration 0014 and not matched then) is
  not shown to sellers; any other transaction (authorize, capture, void, ...) is shared like a
  payment. Its raw gateway response, which holds the whole figures, is for staff only.

The conditions below choose the payment rows a seller sees (SQL, for lists, counts and show pages;
the orders it sees are app.orders.scopes');
SellerShares computes the figures of those rows in a few queries per page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, exists, func, or_, select

from app.core.types import quantize_money
from app.extensions import db
from app.orders.models import Order, RefundRequest, SubOrder
from app.orders.scopes import order_ids_of_seller, sub_orders_of_seller
from app.payments.models import Payment, PaymentTransaction, Refund, RefundStatus

ZERO = Decimal("0")
MONEY_COLUMNS = {
    Payment: ("amount", "amount_authorized", "amount_captured", "amount_refunded"),
    PaymentTransaction: ("amount",),
    Refund: ("amount",),
}
STAFF_ONLY_COLUMNS = {PaymentTransaction: ("raw_response",)}
# what payments.amount_refunded holds
COUNTED_REFUNDS = (RefundStatus.PENDING, RefundStatus.COMPLETED)


# --- which rows a seller sees --------------------------------------------------------------------


def seller_payments(seller_id: int):
    """Payments of orders holding one of the seller's sub-orders."""
    return Payment.order_id.in_(order_ids_of_seller(seller_id))


def seller_refunds(seller_id: int):
    """Refunds of its orders, except those answering another seller's refund request."""
    for_another = exists().where(
        RefundRequest.payment_refund_id == Refund.id,
        RefundRequest.sub_order_id == SubOrder.id,
        SubOrder.seller_id != seller_id,
    )
    return and_(Refund.order_id.in_(order_ids_of_seller(seller_id)), ~for_another)


def seller_transactions(seller_id: int):
    """Transactions of its orders: those of refunds it sees, and the others except refund
    transactions whose refund is not known."""
    visible_refunds = select(Refund.id).where(seller_refunds(seller_id))
    return and_(
        PaymentTransaction.order_id.in_(order_ids_of_seller(seller_id)),
        or_(
            PaymentTransaction.refund_id.in_(visible_refunds),
            and_(PaymentTransaction.refund_id.is_(None), PaymentTransaction.kind != "refund"),
        ),
    )


# --- the figures -------------------------------------------------------------------------------


@dataclass
class SellerShares:
    """Seller `seller_id`'s figures of some orders' money (load with `for_orders`)."""

    seller_id: int
    # order id -> (total of the seller's sub-orders on it, the order's total)
    parts: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)
    # refund id -> (order id, amount, currency, status, seller of the request it answers or None)
    refunds: dict[int, tuple[int, Decimal, str, str, int | None]] = field(default_factory=dict)
    # payment id -> its refunds' ids
    by_payment: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def for_orders(cls, seller_id: int, order_ids: Iterable[int]) -> SellerShares:
        shares = cls(seller_id)
        order_ids = sorted(set(order_ids))
        if not order_ids:
            return shares
        mine = dict(
            db.session.execute(
                select(SubOrder.order_id, func.sum(SubOrder.total))
                .where(SubOrder.order_id.in_(order_ids), sub_orders_of_seller(seller_id))
                .group_by(SubOrder.order_id)
            ).all()
        )
        for order_id, total in db.session.execute(
            select(Order.id, Order.total).where(Order.id.in_(order_ids))
        ):
            shares.parts[order_id] = (Decimal(mine.get(order_id) or ZERO), Decimal(total))
        rows = db.session.execute(
            select(
                Refund.id,
                Refund.payment_id,
                Refund.order_id,
                Refund.amount,
                Refund.currency,
                Refund.status,
                SubOrder.seller_id,
            )
            .outerjoin(RefundRequest, RefundRequest.payment_refund_id == Refund.id)
            .outerjoin(SubOrder, SubOrder.id == RefundRequest.sub_order_id)
            .where(Refund.order_id.in_(order_ids))
            .order_by(Refund.id)
        ).all()
        for refund_id, payment_id, order_id, amount, currency, status, requested_for in rows:
            if refund_id not in shares.refunds:
                shares.by_payment[payment_id].append(refund_id)
            shares.refunds[refund_id] = (order_id, Decimal(amount), currency, status, requested_for)
        return shares

    def of(self, order_id: int, amount: Decimal, currency: str) -> Decimal:
        """The seller's share of `amount` of the order's money."""
        part, whole = self.parts.get(order_id, (ZERO, ZERO))
        if not whole or not part:
            return quantize_money(ZERO, currency)
        if part >= whole:
            return quantize_money(amount, currency)
        return quantize_money(Decimal(amount) * part / whole, currency)

    def refund(self, refund_id: int) -> Decimal | None:
        """The seller's share of a refund; None for another seller's (not shown)."""
        known = self.refunds.get(refund_id)
        if known is None:
            return None
        order_id, amount, currency, _status, requested_for = known
        if requested_for is None:
            return self.of(order_id, amount, currency)
        return quantize_money(amount, currency) if requested_for == self.seller_id else None

    def _refunded(
        self, refund_ids: Iterable[int], statuses: tuple[str, ...], currency: str
    ) -> Decimal:
        total = quantize_money(ZERO, currency)
        for refund_id in refund_ids:
            if self.refunds[refund_id][3] in statuses:
                total += self.refund(refund_id) or ZERO
        return total

    def payment(self, payment: Payment) -> dict[str, Decimal]:
        """The money columns of a payment (MONEY_COLUMNS[Payment]) as the seller sees them."""
        of = self.of
        return {
            "amount": of(payment.order_id, payment.amount, payment.currency),
            "amount_authorized": of(payment.order_id, payment.amount_authorized, payment.currency),
            "amount_captured": of(payment.order_id, payment.amount_captured, payment.currency),
            "amount_refunded": self._refunded(
                self.by_payment.get(payment.id, ()), COUNTED_REFUNDS, payment.currency
            ),
        }

    def transaction(self, row: PaymentTransaction) -> Decimal | None:
        """A transaction's amount as the seller sees it; None when it is not the seller's to see."""
        if row.refund_id is not None:
            if self.refund(row.refund_id) is None:
                return None
            requested_for = self.refunds[row.refund_id][4]
            if requested_for == self.seller_id:
                return quantize_money(row.amount, row.currency)
            return self.of(row.order_id, row.amount, row.currency)
        if row.kind == "refund":
            return None
        return self.of(row.order_id, row.amount, row.currency)

    def refunded_total(self, order_id: int, currency: str) -> Decimal:
        """The seller's share of the order's completed refunds (orders.refunded_total holds them all)."""
        ids = [refund_id for refund_id, known in self.refunds.items() if known[0] == order_id]
        return self._refunded(ids, (RefundStatus.COMPLETED,), currency)

    def values(self, row) -> dict[str, Decimal | None]:
        """The money columns of a payment, transaction or refund (MONEY_COLUMNS) as the seller
        sees them (None: not its to see)."""
        if isinstance(row, Payment):
            return self.payment(row)
        if isinstance(row, PaymentTransaction):
            return {"amount": self.transaction(row)}
        if isinstance(row, Refund):
            return {"amount": self.refund(row.id)}
        raise TypeError(f"no seller share of {type(row).__name__}")
