"""The seller ledger: one append-only row per money movement between the platform and a seller
(signed, in the sub-order's currency), the moment each delivered sub-order's money becomes
available, and the tenant's payout settings.

Nothing here is ever updated or deleted: the ORM refuses it (app.payouts.guard, installed by
app/hooks.py) and so does the database (the triggers of migration 0020). Balances are sums over
entries (app.payouts.statements), never stored."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import MONEY, TimestampMixin, UTCDateTime, utcnow
from app.orders.models import OrderLine, SubOrder
from app.security.models import User
from app.sellers.models import SellerProfile
from app.tenants.models import TenantScoped


class EntryKind(StrEnum):
    """What an entry records. Sales, shipping, commission reversals and payout reversals are
    credits (the seller is owed more); commission, seller-funded discounts, refunds and payouts
    debits; an adjustment either (staff, with a reason)."""

    SALE = "sale"
    COMMISSION = "commission"
    SELLER_DISCOUNT = "seller_discount"
    SHIPPING = "shipping"
    REFUND = "refund"
    COMMISSION_REVERSAL = "commission_reversal"
    ADJUSTMENT = "adjustment"
    PAYOUT = "payout"
    PAYOUT_REVERSAL = "payout_reversal"


ENTRY_KINDS: tuple[str, ...] = tuple(kind.value for kind in EntryKind)
# money that has left (or come back from) the seller's account, as opposed to money earned
PAYOUT_KINDS: tuple[str, ...] = (EntryKind.PAYOUT, EntryKind.PAYOUT_REVERSAL)


class SellerLedgerEntry(TenantScoped, Model):
    __tablename__ = "seller_ledger_entries"
    __table_args__ = (
        Index("ix_seller_ledger_tenant_seller", "tenant_id", "seller_id", "currency", "id"),
        Index("ix_seller_ledger_tenant_sub_order", "tenant_id", "sub_order_id"),
        Index("ix_seller_ledger_tenant_event", "tenant_id", "source_event_id"),
        Index("ix_seller_ledger_tenant_created", "tenant_id", "created_at"),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{kind}'" for kind in ENTRY_KINDS) + ")",
            name="kind_known",
        ),
    )
    __audit__ = False  # it is itself the record (who, why, when), and it never changes

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(
        ForeignKey("sellers.id", ondelete="RESTRICT"), nullable=False
    )
    sub_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("sub_orders.id", ondelete="RESTRICT")
    )
    order_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_lines.id", ondelete="RESTRICT"), index=True
    )
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)  # signed: + owed to the seller
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    # the outbox event the entry was written for (None: a staff adjustment)
    source_event_id: Mapped[int | None] = mapped_column(Integer)
    # an adjustment's reason (required for one), or what another entry is about
    note: Mapped[str | None] = mapped_column(String(500))
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="RESTRICT")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    # when the money becomes available to pay out; None: when its sub-order's release says
    # (SellerLedgerRelease, written at delivery), or never while it is not delivered
    available_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    seller: Mapped[SellerProfile] = relationship(SellerProfile)
    sub_order: Mapped[SubOrder | None] = relationship(SubOrder)
    order_line: Mapped[OrderLine | None] = relationship(OrderLine)
    created_by: Mapped[User | None] = relationship(User)
    # the sub-order's release (at delivery), which says when the entry is available
    release: Mapped[SellerLedgerRelease | None] = relationship(
        "SellerLedgerRelease",
        primaryjoin="foreign(SellerLedgerEntry.sub_order_id) == SellerLedgerRelease.sub_order_id",
        viewonly=True,
        uselist=False,
    )

    @property
    def available_from(self) -> dt.datetime | None:
        """When the entry's money is available: its own moment, else its sub-order's release
        (None: not delivered yet)."""
        if self.available_at is not None or self.sub_order_id is None:
            return self.available_at
        return self.release.available_at if self.release is not None else None

    def __repr__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"


class SellerLedgerRelease(TenantScoped, Model):
    """When a delivered sub-order's money becomes available: its delivery plus the tenant's hold
    period, fixed once at delivery (the first delivery event wins; a later settings change does
    not move it). Entries of the sub-order without their own `available_at` follow it."""

    __tablename__ = "seller_ledger_releases"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sub_order_id", name="uq_seller_ledger_releases_sub_order"),
    )
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sub_order_id: Mapped[int] = mapped_column(
        ForeignKey("sub_orders.id", ondelete="RESTRICT"), nullable=False
    )
    seller_id: Mapped[int] = mapped_column(
        ForeignKey("sellers.id", ondelete="RESTRICT"), nullable=False
    )
    delivered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    available_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    source_event_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


DEFAULT_HOLD_DAYS = 14


class PayoutSettings(TenantScoped, TimestampMixin, Model):
    """A tenant's payout rules (one row; defaults when it has none): how many days after delivery
    a sale's money becomes available, and the smallest amount worth paying out."""

    __tablename__ = "payout_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id", name="uq_payout_settings_tenant"),
        CheckConstraint("hold_days >= 0 AND hold_days <= 365", name="hold_days_range"),
        CheckConstraint("minimum_payout >= 0", name="minimum_payout_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hold_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_HOLD_DAYS, nullable=False)
    minimum_payout: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), nullable=False)

    def __repr__(self) -> str:
        return f"hold {self.hold_days} days, minimum {self.minimum_payout}"
