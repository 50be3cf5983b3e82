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
        # covering a seller's balances, pages, opening balances and statements (migrations 0024,
        # 0029: with order_line_id and note)
        Index(
            "ix_seller_ledger_seller_statement",
            "tenant_id",
            "seller_id",
            "id",
            "currency",
            "kind",
            "amount",
            "sub_order_id",
            "available_at",
            "created_at",
            "order_line_id",
            "note",
        ),
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
        # an entry's release read from the index alone (migration 0024)
        Index("ix_seller_ledger_releases_available", "tenant_id", "sub_order_id", "available_at"),
        # a seller's releases from its own index pages (statements, balances; migration 0029)
        Index(
            "ix_seller_ledger_releases_seller",
            "tenant_id",
            "seller_id",
            "sub_order_id",
            "available_at",
        ),
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


# --- payouts (issue 14, item 6) ----------------------------------------------------------------


class PayoutStatus(StrEnum):
    """created -> approved -> processing (an adapter is paying it) -> paid | failed; created,
    approved and processing may also fail. Paid and failed are final."""

    CREATED = "created"
    APPROVED = "approved"
    PROCESSING = "processing"
    PAID = "paid"
    FAILED = "failed"


PAYOUT_STATUSES: tuple[str, ...] = tuple(status.value for status in PayoutStatus)


class SkipReason(StrEnum):
    """Why the payout job built no payout for a seller's available money in a currency."""

    NO_BANK_ACCOUNT = "no_bank_account"  # no verified default bank account in that currency
    BELOW_MINIMUM = "below_minimum"  # less than the tenant's minimum payout
    NEGATIVE_BALANCE = "negative_balance"  # the seller owes the platform (refunds after payout)
    SELLER_SUSPENDED = "seller_suspended"  # not an approved seller (suspended, ...)


SKIP_REASONS: tuple[str, ...] = tuple(reason.value for reason in SkipReason)


class Payout(TenantScoped, TimestampMixin, Model):
    """One transfer of a seller's available money in one currency, built by the payout job
    (app.payouts.batches) from the ledger entries it pays (PayoutItem), with the negative PAYOUT
    entry it wrote. The bank account is kept as a masked reference only."""

    __tablename__ = "payouts"
    __table_args__ = (
        Index("ix_payouts_tenant_seller", "tenant_id", "seller_id", "currency", "id"),
        Index("ix_payouts_tenant_status", "tenant_id", "status", "id"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in PAYOUT_STATUSES) + ")",
            name="status_known",
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(
        ForeignKey("sellers.id", ondelete="RESTRICT"), nullable=False
    )
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    entry_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=PayoutStatus.CREATED, nullable=False)
    # the seller's verified default account when the payout was built (None if since deleted)
    bank_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("seller_bank_accounts.id", ondelete="SET NULL")
    )
    bank_account_masked: Mapped[str] = mapped_column(String(32), default="", nullable=False)
    adapter: Mapped[str | None] = mapped_column(String(32))
    external_reference: Mapped[str | None] = mapped_column(String(200))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    approved_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="RESTRICT")
    )
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    paid_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="RESTRICT")
    )
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    failed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="RESTRICT")
    )
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # the ledger entries it wrote: the PAYOUT (negative) and, when it failed, the PAYOUT_REVERSAL
    payout_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("seller_ledger_entries.id", ondelete="RESTRICT")
    )
    reversal_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("seller_ledger_entries.id", ondelete="RESTRICT")
    )

    seller: Mapped[SellerProfile] = relationship(SellerProfile)
    approved_by: Mapped[User | None] = relationship(User, foreign_keys=[approved_by_user_id])
    paid_by: Mapped[User | None] = relationship(User, foreign_keys=[paid_by_user_id])
    failed_by: Mapped[User | None] = relationship(User, foreign_keys=[failed_by_user_id])

    def __repr__(self) -> str:
        return f"Payout #{self.id} {self.amount} {self.currency}"


class PayoutItem(TenantScoped, Model):
    """A ledger entry paid by a payout. `claimed_entry_id` is the entry's id while the payout is
    live (created, approved, processing or paid) and NULL once it failed: its UNIQUE key is what
    makes paying one entry twice impossible in the database, whatever runs at once. A failed
    payout gives its claims back (its items stay, as history) so that its entries are payable
    again by a later payout, next to the PAYOUT_REVERSAL entry that undid its PAYOUT entry."""

    __tablename__ = "payout_items"
    # Written a million rows at a time by the job (INSERT ... SELECT): only the UNIQUE key that
    # matters is unique; the others are plain indexes (InnoDB buffers their changes), and the
    # claim needs no foreign key of its own: it is NULL or the item's ledger_entry_id (CHECK).
    __table_args__ = (
        UniqueConstraint("claimed_entry_id", name="uq_payout_items_claimed_entry"),
        Index("ix_payout_items_payout", "payout_id", "ledger_entry_id"),
        Index("ix_payout_items_entry", "ledger_entry_id"),
        CheckConstraint(
            "claimed_entry_id IS NULL OR claimed_entry_id = ledger_entry_id", name="claim_is_entry"
        ),
    )
    __audit__ = False  # written in bulk with its payout (which is audited)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payout_id: Mapped[int] = mapped_column(
        ForeignKey("payouts.id", ondelete="RESTRICT"), nullable=False
    )
    ledger_entry_id: Mapped[int] = mapped_column(
        ForeignKey("seller_ledger_entries.id", ondelete="RESTRICT"), nullable=False
    )
    claimed_entry_id: Mapped[int | None] = mapped_column(Integer)

    payout: Mapped[Payout] = relationship(Payout)
    entry: Mapped[SellerLedgerEntry] = relationship(
        SellerLedgerEntry, foreign_keys=[ledger_entry_id]
    )


class PayoutSkip(TenantScoped, Model):
    """A run of the payout job that paid a seller nothing in a currency it had money in, and why;
    the seller sees these notices (API, admin) and is mailed when the reason is new."""

    __tablename__ = "payout_skips"
    __table_args__ = (
        Index("ix_payout_skips_tenant_seller", "tenant_id", "seller_id", "currency", "id"),
        CheckConstraint(
            "reason IN (" + ", ".join(f"'{r}'" for r in SKIP_REASONS) + ")",
            name="reason_known",
        ),
    )
    __audit__ = False  # the job's own record

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(
        ForeignKey("sellers.id", ondelete="RESTRICT"), nullable=False
    )
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    reason: Mapped[str] = mapped_column(String(24), nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)  # what was available
    minimum: Mapped[Decimal | None] = mapped_column(MONEY)  # the minimum then (below_minimum)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    seller: Mapped[SellerProfile] = relationship(SellerProfile)
