"""Payments: one Payment per order payment, every gateway call as a PaymentTransaction, refunds,
webhooks already processed, idempotency keys, and each tenant's payment method settings.

`order_id` references orders.id with ON DELETE RESTRICT: money records outlive nothing they
belong to, so an order that has payments, transactions or refunds cannot be deleted. The Payment
still keeps what it needs to authorize access without joining orders (tenant, customer user or
guest token hash, currency and amounts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

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

from app.core.crypto import EncryptedString
from app.core.types import MONEY, TimestampMixin, UTCDateTime, utcnow
from app.payments.gateways.manual import INSTRUCTIONS
from app.tenants.models import TenantScoped


@dataclass(frozen=True)
class ConfirmStep:
    """A payment in requires_action: the caller confirms it (`hint` says how)."""

    type: ClassVar[str] = "confirm"
    hint: str


@dataclass(frozen=True)
class OfflinePayment:
    """A bank transfer or cash on delivery waiting for the money: its reference and how to pay."""

    type: ClassVar[str] = "offline_payment"
    reference: str
    instructions: str


NextAction = ConfirmStep | OfflinePayment


class PaymentStatus(StrEnum):
    """A payment's status; the values are what the database stores and the API answers."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    FAILED = "failed"
    VOIDED = "voided"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class RefundStatus(StrEnum):
    """A payment refund: pending (its amount reserved, the gateway asked or to settle it by
    webhook), then completed or failed (the amount can be refunded again)."""

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


# the values, in this order (the API documents them)
PAYMENT_STATUSES: tuple[str, ...] = tuple(status.value for status in PaymentStatus)
REFUND_STATUSES: tuple[str, ...] = tuple(status.value for status in RefundStatus)
TRANSACTION_KINDS = (
    "authorize",
    "confirm",
    "capture",
    "void",
    "refund",
    "webhook",
    "mark_received",
)
TRANSACTION_STATUSES = ("succeeded", "pending", "requires_action", "failed")


class Payment(TenantScoped, TimestampMixin, Model):
    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_tenant_order", "tenant_id", "order_id"),
        Index("ix_payments_tenant_customer", "tenant_id", "customer_user_id", "id"),
        Index("ix_payments_tenant_gateway_ref", "tenant_id", "gateway", "gateway_reference"),
        Index("ix_payments_tenant_status", "tenant_id", "status", "id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "amount_captured >= 0 AND amount_captured <= amount", name="captured_within_amount"
        ),
        CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount_captured",
            name="refunded_within_captured",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # the order this pays (RESTRICT: an order with money records is never deleted)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="RESTRICT"), nullable=False
    )
    customer_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL")
    )
    # sha256 of the guest's order access token (guest checkout); never the token itself
    guest_token_hash: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(32), nullable=False)
    gateway: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(24), default=PaymentStatus.PENDING, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    amount_authorized: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"), nullable=False)
    amount_captured: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"), nullable=False)
    # refunds completed plus refunds in flight (reserved before the gateway is called)
    amount_refunded: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"), nullable=False)
    gateway_reference: Mapped[str | None] = mapped_column(String(128))
    card_brand: Mapped[str | None] = mapped_column(String(24))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(String(255))
    # a gateway call on this payment is in progress until then (concurrent callers get a 409)
    processing_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    transactions: Mapped[list[PaymentTransaction]] = relationship(
        "PaymentTransaction", back_populates="payment", order_by="PaymentTransaction.id"
    )
    refunds: Mapped[list[Refund]] = relationship(
        "Refund", back_populates="payment", order_by="Refund.id"
    )

    @property
    def refundable(self) -> Decimal:
        return self.amount_captured - self.amount_refunded

    @property
    def next_action(self) -> NextAction | None:
        """What the storefront shows next: the confirm step, or how to pay offline."""
        if self.status == PaymentStatus.REQUIRES_ACTION:
            return ConfirmStep(
                hint='POST /api/v1/payments/process/ with {"payment_id": '
                f'{self.id}, "confirm": true}}'
            )
        if (
            self.status == PaymentStatus.PENDING
            and self.gateway == "manual"
            and self.gateway_reference
        ):
            return OfflinePayment(
                reference=self.gateway_reference,
                instructions=INSTRUCTIONS.get(self.method, ""),
            )
        return None

    def __repr__(self) -> str:
        return f"Payment #{self.id} {self.amount} {self.currency} ({self.status})"


class PaymentTransaction(TenantScoped, Model):
    """One gateway call (or webhook) on a payment: what was asked, what came back (masked)."""

    __tablename__ = "payment_transactions"
    __table_args__ = (
        Index("ix_payment_transactions_tenant_payment", "tenant_id", "payment_id", "id"),
        Index("ix_payment_transactions_tenant_customer", "tenant_id", "customer_user_id", "id"),
        Index("ix_payment_transactions_tenant_order", "tenant_id", "order_id"),
    )
    __audit__ = False  # the ledger is itself the record

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), nullable=False
    )
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="RESTRICT"), nullable=False
    )
    customer_user_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    gateway: Mapped[str] = mapped_column(String(16), nullable=False)
    gateway_reference: Mapped[str | None] = mapped_column(String(128))
    error_code: Mapped[str | None] = mapped_column(String(64))
    raw_response: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    # the refund this transaction is about (a refund call, or a gateway webhook about that refund):
    # who may see it follows (app.orders.shares). A plain id like refunds.retry_of_refund_id:
    # both rows go with their payment.
    refund_id: Mapped[int | None] = mapped_column(Integer)

    payment: Mapped[Payment] = relationship(Payment, back_populates="transactions")

    def __repr__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} ({self.status})"


class Refund(TenantScoped, TimestampMixin, Model):
    __tablename__ = "refunds"
    __table_args__ = (
        Index("ix_refunds_tenant_payment", "tenant_id", "payment_id"),
        Index("ix_refunds_tenant_order", "tenant_id", "order_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        # a failed refund is retried once (app.payments.refunds.retry_refund): a second retry is of its retry
        UniqueConstraint("retry_of_refund_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), nullable=False
    )
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="RESTRICT"), nullable=False
    )
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=RefundStatus.PENDING, nullable=False)
    gateway_reference: Mapped[str | None] = mapped_column(String(128))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    created_by_user_id: Mapped[int | None] = mapped_column(Integer)
    # the failed refund (of the same payment, same amount) this one retries; a plain id like
    # created_by_user_id: both rows go with their payment, and a self-referencing FK would only
    # get in the way of that cascade on MariaDB
    retry_of_refund_id: Mapped[int | None] = mapped_column(Integer)

    payment: Mapped[Payment] = relationship(Payment, back_populates="refunds")

    def __repr__(self) -> str:
        return f"Refund #{self.id} {self.amount} {self.currency} ({self.status})"


class ProcessedWebhook(TenantScoped, Model):
    """A gateway event already applied: a replay finds its row and changes nothing."""

    __tablename__ = "processed_webhooks"
    __table_args__ = (
        UniqueConstraint("tenant_id", "gateway", "event_id", name="uq_processed_webhooks_event"),
    )
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(16), nullable=False)
    event_id: Mapped[str] = mapped_column(String(128), nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    payment_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class PaymentMethodSetting(TenantScoped, TimestampMixin, Model):
    """A tenant's choice of payment methods. A tenant without rows gets PAYMENT_METHODS from the
    configuration. Stripe credentials per tenant are encrypted at rest (Fernet, app/core/crypto)."""

    __tablename__ = "payment_method_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "method", name="uq_payment_method_settings_method"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    method: Mapped[str] = mapped_column(String(32), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    display_name: Mapped[str | None] = mapped_column(String(100))
    instructions: Mapped[str | None] = mapped_column(Text)
    stripe_secret_key: Mapped[str | None] = mapped_column(EncryptedString())
    stripe_webhook_secret: Mapped[str | None] = mapped_column(EncryptedString())

    @property
    def stripe_keys(self) -> str:
        """What the admin shows of the Stripe credentials: never the values."""
        return "set" if self.stripe_secret_key else "not set"

    def __repr__(self) -> str:
        return self.display_name or self.method
