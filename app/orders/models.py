"""Orders as sold: a parent order per checkout, a sub-order per seller, lines that keep the price,
discounts (and who funds them), taxes (with their breakdown), shipping and the commission rate of
the moment; the stock each line holds; the status timeline; refund requests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import MONEY, RATE, TimestampMixin, UTCDateTime, utcnow
from app.orders.states import OrderStatus
from app.security.models import User
from app.sellers.models import SellerProfile
from app.tenants.models import TenantScoped

ZERO = Decimal("0.00")


class OrderPaymentStatus(StrEnum):
    """What the order knows of its payment (orders.payment_status), following payments' events."""

    UNPAID = "unpaid"
    CAPTURED = "captured"
    FAILED = "failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class ReservationStatus(StrEnum):
    """Units of stock held for an order line: held, then released (cancel) or consumed (shipped)."""

    HELD = "held"
    RELEASED = "released"
    CONSUMED = "consumed"


class RefundRequestStatus(StrEnum):
    """A refund request: requested, then approved (paid out by payments: completed, or failed when
    the payment refund was refused) or rejected; closed when it was still undecided as the order's
    payments were refunded in full by another path."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    COMPLETED = "completed"
    # approved, but the payment refund was refused (by the gateway at once, or later by its
    # webhook); like a rejected request it no longer counts against the sub-order (its units and
    # money can be asked for again), and `failure_code` says why
    FAILED = "failed"
    # still undecided when the order's payments were refunded in full by another path (an Admin's
    # refund through the payments API): nothing is left to pay it out with
    CLOSED = "closed"


class Order(TenantScoped, TimestampMixin, Model):
    """The parent order: what the buyer sees and pays (its total is the sum of its sub-orders)."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_orders_tenant_number"),
        # a Super Admin's number search spans tenants (migration 0021)
        Index("ix_orders_number", "number"),
        # the order list sorted by date (migration 0021)
        Index("ix_orders_tenant_created", "tenant_id", "created_at"),
        Index("ix_orders_tenant_customer", "tenant_id", "customer_user_id", "id"),
        Index("ix_orders_tenant_status_expiry", "tenant_id", "status", "reservation_expires_at"),
        # an order's currency read from the index alone (the dashboards; migration 0029)
        Index("ix_orders_tenant_currency", "tenant_id", "id", "currency"),
        CheckConstraint("total >= 0", name="total_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False)
    customer_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL")
    )
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    status: Mapped[str] = mapped_column(String(24), default=OrderStatus.PENDING, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)
    discount_total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)
    tax_total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)
    shipping_total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)
    total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)
    refunded_total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)
    shipping_address: Mapped[dict] = mapped_column(JSON, nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    coupon_codes: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    payment_method: Mapped[str | None] = mapped_column(String(32))
    payment_status: Mapped[str] = mapped_column(
        String(24), default=OrderPaymentStatus.UNPAID, nullable=False
    )
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # an unpaid order past this moment is cancelled by the cron job and its stock released
    reservation_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # a guest order's access token (X-Order-Token): only its SHA-256 is kept (app.orders.access)
    access_token_hash: Mapped[str | None] = mapped_column(String(64))

    customer: Mapped[User | None] = relationship(User)
    sub_orders: Mapped[list[SubOrder]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="SubOrder.id",
        lazy="selectin",
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )

    @property
    def is_guest(self) -> bool:
        return self.customer_user_id is None

    def __repr__(self) -> str:
        return self.number


class SubOrder(TenantScoped, TimestampMixin, Model):
    """One seller's part of an order: its lines, its shipping, its fulfilment status."""

    __tablename__ = "sub_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_sub_orders_tenant_number"),
        Index("ix_sub_orders_tenant_seller", "tenant_id", "seller_id", "id"),
        # a seller's sub-order numbers from its own index pages (statements; migration 0029)
        Index("ix_sub_orders_seller_number", "tenant_id", "seller_id", "id", "number"),
        Index("ix_sub_orders_tenant_order", "tenant_id", "order_id"),
        # the dashboards (app/dashboards.py): a period's sales, the work waiting (migration 0022)
        Index(
            "ix_sub_orders_tenant_seller_created",
            *("tenant_id", "seller_id", "created_at", "status", "total", "commission_amount"),
            "order_id",
        ),
        Index(
            "ix_sub_orders_tenant_created",
            *("tenant_id", "created_at", "status", "total", "commission_amount", "order_id"),
            "seller_id",
        ),
        Index("ix_sub_orders_tenant_seller_status", "tenant_id", "seller_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    seller_id: Mapped[int] = mapped_column(
        ForeignKey("sellers.id", ondelete="RESTRICT"), nullable=False
    )
    number: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(24), default=OrderStatus.PENDING, nullable=False)
    status_before_refund: Mapped[str | None] = mapped_column(String(24))
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)
    discount_total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)
    tax_total: Mapped[Decimal] = mapped_column(
        MONEY, default=ZERO, nullable=False
    )  # lines + shipping
    shipping_total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)
    total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)
    commission_rate: Mapped[Decimal] = mapped_column(RATE, nullable=False)
    # lines' commissions + the per-order fixed parts of the rules they applied (commission_fixed)
    commission_amount: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)
    commission_fixed: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)
    # the pricing helper's shipping method (its table is linked at merge)
    shipping_method_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "shipping_methods.id", ondelete="SET NULL", name="fk_sub_orders_shipping_method_id"
        ),
        index=True,
    )
    shipping_method_name: Mapped[str | None] = mapped_column(String(120))
    carrier: Mapped[str | None] = mapped_column(String(32))
    shipping_tax: Mapped[list] = mapped_column(JSON, default=list, nullable=False)

    order: Mapped[Order] = relationship(back_populates="sub_orders")
    seller: Mapped[SellerProfile] = relationship(SellerProfile)
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="sub_order",
        cascade="all, delete-orphan",
        order_by="OrderLine.id",
        lazy="selectin",
    )

    def __repr__(self) -> str:
        return self.number


class OrderLine(TenantScoped, Model):
    __tablename__ = "order_lines"
    __table_args__ = (
        Index("ix_order_lines_tenant_sub_order", "tenant_id", "sub_order_id"),
        Index("ix_order_lines_tenant_seller", "tenant_id", "seller_id", "id"),
        # a seller's SKUs (statements) and what its top products sum (dashboards): migration 0029
        Index("ix_order_lines_seller_sku", "tenant_id", "seller_id", "id", "sku"),
        Index(
            "ix_order_lines_seller_sales",
            "tenant_id",
            "seller_id",
            "sub_order_id",
            "product_id",
            "quantity",
            "total",
            "title",
        ),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    sub_order_id: Mapped[int] = mapped_column(
        ForeignKey("sub_orders.id", ondelete="CASCADE"), nullable=False
    )
    seller_id: Mapped[int] = mapped_column(
        ForeignKey("sellers.id", ondelete="RESTRICT"), nullable=False
    )
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_variants.id", ondelete="SET NULL"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    sku: Mapped[str] = mapped_column(String(64), nullable=False)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    subtotal: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    discount_total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)
    # [{"promotion_id", "code", "amount", "funded_by": "platform" | "seller"}]
    discounts: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    tax_total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)
    # [{"rule_id", "name", "rate", "amount"}]
    tax_breakdown: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    total: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    # frozen at checkout: the commission rule that applied (app.commissions; None: the seller's
    # own rate), its rate, its fixed part per line, and the amount (rate x base + fixed part)
    commission_rule_id: Mapped[int | None] = mapped_column(Integer)
    commission_rate: Mapped[Decimal] = mapped_column(RATE, nullable=False)
    commission_fixed: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)
    commission_amount: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, nullable=False)

    sub_order: Mapped[SubOrder] = relationship(back_populates="lines")

    def __repr__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class StockReservation(TenantScoped, TimestampMixin, Model):
    """Units of one stock row held for one order line: held, then released (cancel) or consumed (shipped)."""

    __tablename__ = "order_stock_reservations"
    __table_args__ = (
        Index("ix_order_stock_reservations_tenant_order", "tenant_id", "order_id"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
    )
    STATUSES = tuple(status.value for status in ReservationStatus)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    sub_order_id: Mapped[int] = mapped_column(
        ForeignKey("sub_orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    order_line_id: Mapped[int] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE"), nullable=False, index=True
    )
    stock_level_id: Mapped[int] = mapped_column(
        ForeignKey("stock_levels.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(12), default=ReservationStatus.HELD, nullable=False)


class OrderEvent(TenantScoped, Model):
    """The timeline: every status change of an order or one of its sub-orders, who and when, and
    the notes staff add (`is_note`; staff-only, never shown to the customer)."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_tenant_order", "tenant_id", "order_id", "id"),)
    __audit__ = False  # it is itself a record

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    sub_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("sub_orders.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24), nullable=False)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    order: Mapped[Order] = relationship(back_populates="events")
    sub_order: Mapped[SubOrder | None] = relationship(SubOrder)
    actor: Mapped[User | None] = relationship(User)

    @property
    def is_note(self) -> bool:
        """A note a person on the staff added to the timeline (app.orders.lifecycle.add_note): no
        status changed (it is written with the status it was in as both ends) and someone wrote it
        (the system's own no-change steps, such as "payment failed", have no actor)."""
        return self.from_status == self.to_status and self.actor_user_id is not None

    def __repr__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status}"


# the values, in this order (the API documents them)
REFUND_REQUEST_STATUSES: tuple[str, ...] = tuple(status.value for status in RefundRequestStatus)


class RefundRequest(TenantScoped, TimestampMixin, Model):
    """A customer's request for a refund or return of a sub-order; the seller or an admin decides."""

    __tablename__ = "order_refund_requests"
    __table_args__ = (
        Index("ix_order_refund_requests_tenant_order", "tenant_id", "order_id"),
        Index("ix_order_refund_requests_tenant_status", "tenant_id", "status"),  # 0022
        # the requests waiting for a seller: by status with their sub-order (migration 0029)
        Index("ix_order_refund_requests_status_sub_order", "tenant_id", "status", "sub_order_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    sub_order_id: Mapped[int] = mapped_column(
        ForeignKey("sub_orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    requested_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL")
    )
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    status: Mapped[str] = mapped_column(
        String(16), default=RefundRequestStatus.REQUESTED, nullable=False
    )
    decided_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL")
    )
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # the payments helper's refund (its table is linked at merge)
    payment_refund_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "refunds.id", ondelete="SET NULL", name="fk_order_refund_requests_payment_refund_id"
        ),
        index=True,
    )
    # the part of `amount` that is the sub-order's shipping (refunded once, with the last units or on request)
    shipping_amount: Mapped[Decimal] = mapped_column(
        MONEY, default=ZERO, server_default="0", nullable=False
    )
    # whether the approver put the returned (shipped) units back on hand
    restock: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0", nullable=False
    )
    # why the payment refund failed (the gateway's code), for a request in status "failed"
    failure_code: Mapped[str | None] = mapped_column(String(64))

    order: Mapped[Order] = relationship(Order)
    sub_order: Mapped[SubOrder] = relationship(SubOrder)
    lines: Mapped[list[RefundRequestLine]] = relationship(
        back_populates="refund_request",
        cascade="all, delete-orphan",
        order_by="RefundRequestLine.id",
        lazy="selectin",
    )

    def __repr__(self) -> str:
        return f"refund request {self.id} ({self.status})"


class RefundRequestLine(TenantScoped, Model):
    """Units of one order line named by a refund request (a return of 1 of 3 units), with their share
    of the line's paid amount; while the request is not rejected they count against the line."""

    __tablename__ = "order_refund_request_lines"
    __table_args__ = (
        Index("ix_order_refund_request_lines_tenant_line", "tenant_id", "order_line_id"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    refund_request_id: Mapped[int] = mapped_column(
        ForeignKey("order_refund_requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    order_line_id: Mapped[int] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE"), nullable=False
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    # units put back into the warehouse they were sold from (at approval, when asked)
    restocked_quantity: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", nullable=False
    )

    refund_request: Mapped[RefundRequest] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship(OrderLine)

    def __repr__(self) -> str:
        return f"{self.quantity} × line {self.order_line_id}"
