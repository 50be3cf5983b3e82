"""Builders of the seller ledger's tests: an order with exactly the lines, discounts, shipping and
frozen commission a hand-computed case needs, paid, refunded and delivered through the real
services (payments' test gateway, orders' refund requests and status steps), whose events the
ledger's consumers turn into entries (the inline runner consumes them right after each commit)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.orders import refunds as order_refunds
from app.orders.inputs import RefundAsk, RefundLine
from app.orders.models import Order, OrderLine, RefundRequest, SubOrder
from app.orders.transitions import set_status
from app.payments import charges
from app.payouts.models import PayoutSettings, SellerLedgerEntry, SellerLedgerRelease
from app.security import roles
from app.security.models import User
from app.sellers.actors import actor_for
from tests.builders.payments import CARD_OK

D = Decimal


@dataclass(frozen=True)
class Line:
    """An order line as checkout would freeze it: `total` is what the buyer pays for it (after
    its discounts, tax included), `discounts` [(amount, "platform" | "seller")]."""

    total: str
    commission: str
    quantity: int = 1
    discounts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Sub:
    seller_id: int
    lines: tuple[Line, ...]
    shipping: str = "0"
    # a per-order commission part on top of the lines' (a rule of the commission helper)
    extra_commission: str = "0"


@dataclass
class LedgerShop:
    app: object
    tenant_id: int
    customer: SimpleNamespace
    admin: SimpleNamespace
    sellers: list = field(default_factory=list)

    # --- running as someone -----------------------------------------------------------------
    def run(self, fn, *args, **kwargs):
        with self.app.app_context(), tenant_scope(self.tenant_id):
            try:
                return fn(*args, **kwargs)
            finally:
                db.session.rollback()
                db.session.remove()

    def actor(self, user_id: int):
        return actor_for(db.session.get(User, user_id))

    # --- orders -----------------------------------------------------------------------------
    def order(self, *subs: Sub, currency: str = "USD") -> int:
        """A pending order of these sub-orders (its totals are their sums). Its id."""

        def make():
            number = "L-" + uuid.uuid4().hex[:10].upper()
            order = Order(
                number=number,
                customer_user_id=self.customer.user_id,
                email="buyer@example.com",
                currency=currency,
                shipping_address={"country": "GB"},
            )
            for i, spec in enumerate(subs, start=1):
                order.sub_orders.append(
                    SubOrder(
                        seller_id=spec.seller_id, number=f"{number}-{i}", commission_rate=D("0.1")
                    )
                )
            db.session.add(order)
            db.session.flush()
            for sub, spec in zip(order.sub_orders, subs, strict=True):
                for j, line in enumerate(spec.lines, start=1):
                    off = sum((D(a) for a, _ in line.discounts), D(0))
                    sub.lines.append(
                        OrderLine(
                            order_id=order.id,
                            seller_id=spec.seller_id,
                            sku=f"SKU-{sub.id}-{j}",
                            title=f"Thing {j}",
                            quantity=line.quantity,
                            unit_price=((D(line.total) + off) / line.quantity).quantize(D("0.01")),
                            subtotal=D(line.total) + off,
                            discount_total=off,
                            discounts=[
                                {"promotion_id": None, "code": None, "amount": a, "funded_by": f}
                                for a, f in line.discounts
                            ],
                            total=D(line.total),
                            commission_rate=D("0.1"),
                            commission_amount=D(line.commission),
                        )
                    )
                sub.subtotal = sum((x.subtotal for x in sub.lines), D(0))
                sub.discount_total = sum((x.discount_total for x in sub.lines), D(0))
                sub.shipping_total = D(spec.shipping)
                sub.total = sum((x.total for x in sub.lines), D(0)) + D(spec.shipping)
                sub.commission_amount = sum((x.commission_amount for x in sub.lines), D(0)) + D(
                    spec.extra_commission
                )
            order.subtotal = sum((s.subtotal for s in order.sub_orders), D(0))
            order.discount_total = sum((s.discount_total for s in order.sub_orders), D(0))
            order.shipping_total = sum((s.shipping_total for s in order.sub_orders), D(0))
            order.total = sum((s.total for s in order.sub_orders), D(0))
            db.session.commit()
            return order.id

        return self.run(make)

    def pay(self, order_id: int) -> None:
        """The whole order paid by card (payments' test gateway): payment.captured, then orders
        marks every sub-order paid (order.status_changed: the ledger's sale entries)."""
        total = self.run(lambda: db.session.get(Order, order_id).total)
        currency = self.run(lambda: db.session.get(Order, order_id).currency)
        self.run(
            charges.start_payment,
            order_id=order_id,
            amount=total,
            currency=currency,
            method="test_card",
            customer_user_id=self.customer.user_id,
            payment_details=dict(CARD_OK),
        )

    def sub_ids(self, order_id: int) -> list[int]:
        return self.run(
            lambda: list(
                db.session.scalars(
                    select(SubOrder.id).where(SubOrder.order_id == order_id).order_by(SubOrder.id)
                )
            )
        )

    def line_ids(self, sub_order_id: int) -> list[int]:
        return self.run(
            lambda: list(
                db.session.scalars(
                    select(OrderLine.id)
                    .where(OrderLine.sub_order_id == sub_order_id)
                    .order_by(OrderLine.id)
                )
            )
        )

    def refund(self, order_id: int, *, sub_order_id=None, amount=None, lines=(), shipping=False):
        """The customer asks (an amount of a sub-order, or units of lines), an admin approves:
        payments refunds by the test gateway (refund.completed)."""
        ask = RefundAsk(
            reason="changed my mind",
            sub_order_id=sub_order_id,
            amount=None if amount is None else D(amount),
            lines=tuple(RefundLine(line_id=i, quantity=q) for i, q in lines),
            include_shipping=shipping,
        )
        self.run(
            lambda: order_refunds.request_refund(self.actor(self.customer.user_id), order_id, ask)
        )
        request_id = self.run(
            lambda: db.session.scalar(
                select(RefundRequest.id)
                .where(RefundRequest.order_id == order_id)
                .order_by(RefundRequest.id.desc())
            )
        )
        self.run(
            lambda: order_refunds.decide_refund(
                self.actor(self.admin.id), order_id, request_id, approve=True
            )
        )

    def step(self, sub_order_id: int, *statuses: str) -> None:
        """Fulfilment steps (processing, shipped, delivered...) by an admin, each committed."""
        for status in statuses:

            def go(status=status):
                sub = db.session.get(SubOrder, sub_order_id)
                set_status(sub, status, actor_id=self.admin.id)
                db.session.commit()

            self.run(go)

    def hold_days(self, days: int) -> None:
        def save():
            row = db.session.scalar(select(PayoutSettings)) or PayoutSettings()
            row.hold_days = days
            db.session.add(row)
            db.session.commit()

        self.run(save)

    # --- reading ----------------------------------------------------------------------------
    def entries(self, sub_order_id: int | None = None, seller_id: int | None = None):
        """[(kind, amount, order_line_id)] in id order."""

        def read():
            stmt = select(
                SellerLedgerEntry.kind, SellerLedgerEntry.amount, SellerLedgerEntry.order_line_id
            ).order_by(SellerLedgerEntry.id)
            if sub_order_id is not None:
                stmt = stmt.where(SellerLedgerEntry.sub_order_id == sub_order_id)
            if seller_id is not None:
                stmt = stmt.where(SellerLedgerEntry.seller_id == seller_id)
            return [tuple(row) for row in db.session.execute(stmt)]

        return self.run(read)

    def net(self, sub_order_id: int) -> Decimal:
        return sum((amount for _, amount, _ in self.entries(sub_order_id)), D(0))


@pytest.fixture
def ledger_shop(app, factory):
    tenant = factory.tenant()
    shop = LedgerShop(
        app=app,
        tenant_id=tenant.id,
        customer=factory.customer(tenant),
        admin=factory.user(tenant, roles.ADMIN),
    )
    shop.sellers = [factory.seller(tenant), factory.seller(tenant)]
    shop.tenant = tenant
    return shop


def add_ledger_rows(seller_id: int) -> None:
    """One row of every tenant-owned model of the ledger, for the tenancy tests (call under
    tenant_scope, after add_order_rows): an entry and a release of the seller's sub-order, and
    the tenant's payout settings."""
    from app.core.types import utcnow

    sub = db.session.scalar(
        select(SubOrder).where(SubOrder.seller_id == seller_id).order_by(SubOrder.id)
    )
    now = utcnow()
    db.session.add_all(
        [
            SellerLedgerEntry(
                seller_id=seller_id,
                sub_order_id=sub.id,
                currency="USD",
                amount=D("10.00"),
                kind="sale",
            ),
            SellerLedgerRelease(
                sub_order_id=sub.id, seller_id=seller_id, delivered_at=now, available_at=now
            ),
            PayoutSettings(hold_days=3),
        ]
    )
    db.session.commit()
    from tests.builders.payouts import add_payout_rows

    add_payout_rows(seller_id)
