"""Reading the seller ledger: balances (sums over entries, never stored), a seller's entries with
their running balance, and statements over a date range streamed as CSV or XLSX.

A seller's balances per currency, at a moment `now`:

    pending    earned (every entry but payouts) and not yet available: its sub-order is not
               delivered, or is still in its hold period
    available  earned and available, less what was paid out (payouts are negative entries,
               payout reversals give back what a failed payout took)
    paid       what was paid out (the payouts' and their reversals' sum, as a positive figure)

An entry is available from its own `available_at` (adjustments, payouts), else from its
sub-order's release (written at delivery); the running balance of an entry is the sum of the
seller's entries of its currency up to and including it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice

from sqlalchemy import and_, case, func, select

from app.core.errors import PermissionDenied, ValidationError
from app.core.paging import Page
from app.core.tenancy import current_tenant_id, tenant_scope
from app.core.types import money_unit, quantize_money, utcnow
from app.extensions import db
from app.orders.models import OrderLine, SubOrder
from app.payouts.errors import LedgerError
from app.payouts.models import PAYOUT_KINDS, SellerLedgerEntry, SellerLedgerRelease
from app.security.actor import Actor

E, R = SellerLedgerEntry, SellerLedgerRelease
# when an entry's money is available: its own moment, else its sub-order's release
AVAILABLE_AT = func.coalesce(E.available_at, R.available_at)
_RELEASE = and_(R.sub_order_id == E.sub_order_id, R.tenant_id == E.tenant_id)
STREAM_BATCH = 2000
ZERO = Decimal(0)
MAX_RANGE_DAYS = 3660


def seller_of(actor: Actor) -> int:
    """The seller profile id of a seller caller (403 for anyone else)."""
    if actor.seller_id is None:
        raise PermissionDenied(
            "only a seller has a ledger here", code=LedgerError.NO_SELLER_PROFILE
        )
    return actor.seller_id


@dataclass(frozen=True)
class Balance:
    currency: str
    pending: Decimal
    available: Decimal
    paid: Decimal

    @property
    def total(self) -> Decimal:
        """What the platform still owes the seller (pending + available)."""
        return self.pending + self.available


def balances(seller_id: int, now: dt.datetime | None = None) -> list[Balance]:
    """The seller's balances per currency (one grouped SUM over its entries)."""
    now = now or utcnow()
    is_payout = E.kind.in_(PAYOUT_KINDS)
    ready = and_(AVAILABLE_AT.is_not(None), AVAILABLE_AT <= now)
    rows = db.session.execute(
        select(
            E.currency,
            func.sum(case((is_payout, 0), (ready, 0), else_=E.amount)),
            func.sum(case((is_payout, E.amount), (ready, E.amount), else_=0)),
            func.sum(case((is_payout, E.amount), else_=0)),
        )
        .outerjoin(R, _RELEASE)
        .where(E.seller_id == seller_id)
        .group_by(E.currency)
        .order_by(E.currency)
    ).all()
    return [
        Balance(
            currency=currency,
            pending=quantize_money(pending or 0, currency),
            available=quantize_money(available or 0, currency),
            paid=quantize_money(-(paid or 0), currency),
        )
        for currency, pending, available, paid in rows
    ]


@dataclass(frozen=True)
class EntryLine:
    """One entry as a statement shows it."""

    id: int
    created_at: dt.datetime
    kind: str
    currency: str
    amount: Decimal
    balance: Decimal  # the running balance of its currency after it
    available_at: dt.datetime | None
    sub_order_id: int | None
    sub_order_number: str | None
    order_line_id: int | None
    sku: str | None
    note: str | None


@dataclass(frozen=True)
class Period:
    """A statement's dates, both included (None: open-ended), in UTC."""

    since: dt.date | None = None
    until: dt.date | None = None

    def __post_init__(self):
        if self.since and self.until:
            if self.since > self.until:
                raise ValidationError(
                    "the period ends before it starts", details={"until": ["on or after since"]}
                )
            if (self.until - self.since).days > MAX_RANGE_DAYS:
                raise ValidationError(
                    "the period is too long", details={"until": ["at most ten years after since"]}
                )

    @staticmethod
    def _start(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone.utc)

    def conditions(self) -> list:
        found = []
        if self.since:
            found.append(E.created_at >= self._start(self.since))
        if self.until:
            found.append(E.created_at < self._start(self.until + dt.timedelta(days=1)))
        return found


def _lines_query(seller_id: int, period: Period, currency: str | None):
    stmt = (
        select(
            E.id,
            E.created_at,
            E.kind,
            E.currency,
            E.amount,
            AVAILABLE_AT,
            E.sub_order_id,
            SubOrder.number,
            E.order_line_id,
            OrderLine.sku,
            E.note,
        )
        .outerjoin(R, _RELEASE)
        .outerjoin(SubOrder, SubOrder.id == E.sub_order_id)
        .outerjoin(OrderLine, OrderLine.id == E.order_line_id)
        .where(E.seller_id == seller_id, *period.conditions())
    )
    if currency:
        stmt = stmt.where(E.currency == currency)
    return stmt


def _opening(seller_id: int, before_id: int | None, period: Period, currency: str | None):
    """{currency: balance} of the entries before the first one listed (by id, else by date)."""
    stmt = select(E.currency, func.sum(E.amount)).where(E.seller_id == seller_id)
    if before_id is not None:
        stmt = stmt.where(E.id < before_id)
    elif period.since:
        stmt = stmt.where(E.created_at < period._start(period.since))
    else:
        return {}
    if currency:
        stmt = stmt.where(E.currency == currency)
    return {cur: Decimal(total) for cur, total in db.session.execute(stmt.group_by(E.currency))}


def _line(row, balance: Decimal) -> EntryLine:
    return EntryLine(
        id=row[0],
        created_at=row[1],
        kind=row[2],
        currency=row[3],
        amount=row[4],
        balance=quantize_money(balance, row[3]),
        available_at=row[5],
        sub_order_id=row[6],
        sub_order_number=row[7],
        order_line_id=row[8],
        sku=row[9],
        note=row[10],
    )


def _with_balances(rows, opening: dict[str, Decimal]) -> Iterator[EntryLine]:
    running = dict(opening)
    for row in rows:
        running[row[3]] = running.get(row[3], Decimal(0)) + row[4]
        yield _line(row, running[row[3]])


def entries_page(
    seller_id: int,
    page: int,
    page_size: int,
    period: Period = Period(),
    currency: str | None = None,
) -> Page[EntryLine]:
    """One page of the seller's entries, oldest first, each with its running balance."""
    currency = currency.upper() if currency else None
    base = _lines_query(seller_id, period, currency)
    counted = select(func.count(E.id)).where(E.seller_id == seller_id, *period.conditions())
    total = db.session.scalar(counted.where(E.currency == currency) if currency else counted)
    rows = db.session.execute(
        base.order_by(E.id).limit(page_size).offset((page - 1) * page_size)
    ).all()
    opening = _opening(seller_id, rows[0][0] if rows else None, period, currency)
    return Page(
        items=list(_with_balances(rows, opening)),
        total=total or 0,
        page=page,
        page_size=page_size,
    )


# --- statements (exports) --------------------------------------------------------------------

HEADER = (
    "entry",
    "date (UTC)",
    "kind",
    "sub-order",
    "SKU",
    "note",
    "currency",
    "amount",
    "balance",
    "available from (UTC)",
)


def _stamp(value: dt.datetime | None) -> str:
    return value.isoformat(" ", "seconds")[:19] if value else ""


def statement_lines(seller_id: int, period: Period) -> Iterator[tuple]:
    """The rows of the seller's statement for `period` (HEADER's columns), oldest first, with
    running balances from the balance before it, streamed from the database in batches (a
    server-side cursor: memory stays flat whatever the seller's size). Rows are plain tuples, built
    without an object per entry: a statement may hold hundreds of thousands. The generator keeps
    the tenant it was made under."""
    tenant_id = current_tenant_id()

    def generate() -> Iterator[tuple]:
        with tenant_scope(tenant_id):
            running = _opening(seller_id, None, period, None)
            units: dict[str, Decimal] = {}
            rows = db.session.execute(
                _lines_query(seller_id, period, None)
                .order_by(E.id)
                .execution_options(yield_per=STREAM_BATCH)
            )
            for entry_id, created, kind, cur, amount, available, _, number, _, sku, note in rows:
                unit = units.get(cur) or units.setdefault(cur, money_unit(cur))
                balance = running[cur] = running.get(cur, ZERO) + amount
                yield (
                    entry_id,
                    _stamp(created),
                    kind,
                    number or "",
                    sku or "",
                    note or "",
                    cur,
                    amount.quantize(unit),
                    balance.quantize(unit),
                    _stamp(available),
                )

    return generate()


def csv_chunks(rows: Iterator[tuple], rows_per_chunk: int = 2000) -> Iterator[str]:
    """A statement as CSV text, a chunk of rows at a time (for a streamed response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    while True:
        batch = list(islice(rows, rows_per_chunk))
        writer.writerows(batch)
        yield buffer.getvalue()
        if len(batch) < rows_per_chunk:
            return
        buffer.seek(0)
        buffer.truncate()


def xlsx_file(rows: Iterator[tuple], title: str = "Statement"):
    """A statement as an XLSX workbook in a temporary file (rewound), written by openpyxl in
    write-only mode: rows go to disk as they come, never held as a sheet in memory."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)  # amounts stay numbers a spreadsheet can sum
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    book.save(out)
    out.seek(0)
    return out


# --- what a seller asks about its own ledger (the API's /sellers/me/...) -------------------


def my_balances(actor: Actor) -> list[Balance]:
    return balances(seller_of(actor))


def my_entries(
    actor: Actor, page: int, page_size: int, period: Period, currency: str | None = None
) -> Page[EntryLine]:
    return entries_page(seller_of(actor), page, page_size, period, currency)


def my_statement(actor: Actor, period: Period) -> Iterator[tuple]:
    return statement_lines(seller_of(actor), period)
