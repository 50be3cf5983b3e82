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
import json
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice

from sqlalchemy import DateTime, and_, case, func, select, type_coerce

from app.core import cache
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
# An entry's sub-order, order line and release are its seller's own (app.payouts.ledger writes
# an entry and a release with the sub-order's seller; an adjustment has no sub-order), so each is
# joined on (tenant_id, seller_id, ...): the seller-sliced covering indexes of migration 0029,
# where a seller's lookups stay in a few megabytes of its own index pages instead of one random
# read of the table's rows per entry (bench/results/seller_ledger.md).
_RELEASE = and_(
    R.tenant_id == E.tenant_id, R.seller_id == E.seller_id, R.sub_order_id == E.sub_order_id
)
# The optimizer does not pick these indexes by itself: for the release it prefers the unique
# (tenant_id, sub_order_id) key (then reads the release's row for its moment: one random read per
# entry), for the sub-order and line their primary key or, on small tables, an index merge of
# their tenant and seller keys. Every one of these joins is a lookup per entry, for which the
# seller's covering index is the right choice at any size, hence the hints (the bench's biggest
# statement: 16.3 s in-process before 0029, 5 s with the seller's indexes picked; ANALYZE of the
# release's join alone: 4-5 s -> 1.9 s). Other databases ignore them.
_JOIN_INDEXES = (
    (R, "FORCE INDEX (ix_seller_ledger_releases_seller)"),
    (SubOrder, "FORCE INDEX (ix_sub_orders_seller_number)"),
    (OrderLine, "FORCE INDEX (ix_order_lines_seller_sku)"),
)


def _release_hint(stmt, *, lines: bool = False):
    """`stmt` with the release's index hint, and the sub-order's and line's when it joins them."""
    for table, hint in _JOIN_INDEXES if lines else _JOIN_INDEXES[:1]:
        for dialect in ("mysql", "mariadb"):
            stmt = stmt.with_hint(table, hint, dialect)
    return stmt


_SUB_ORDER = and_(
    SubOrder.tenant_id == E.tenant_id,
    SubOrder.seller_id == E.seller_id,
    SubOrder.id == E.sub_order_id,
)
_ORDER_LINE = and_(
    OrderLine.tenant_id == E.tenant_id,
    OrderLine.seller_id == E.seller_id,
    OrderLine.id == E.order_line_id,
)
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
    """The seller's balances per currency (one grouped SUM over its entries); the current ones
    (no `now`) from the cache when its ledger has not changed (current_balances)."""
    if now is None:
        return current_balances(seller_id)[0]
    return balances_and_next_change(seller_id, now)[0]


# The current balances are cached (Redis, shared by the web processes; in-process without it)
# under the tenant's version of BALANCE_CACHE, which app.core.cache bumps after every commit that
# wrote an entry or a release through the ORM (the ledger's consumers, adjustments, payouts), and
# for no longer than until the seller's next pending money becomes available (then `available`
# changes by time alone), at most BALANCE_CACHE_SECONDS. Summing a big seller's entries costs
# seconds on a loaded database (205,000 entries: 1.5-7 s, bench/results/seller_ledger.md) however
# they are indexed. Code that writes entries or releases with Core or raw SQL must call
# cache.bump(BALANCE_CACHE, tenant_id) itself.
BALANCE_CACHE = "seller-balances"
BALANCE_CACHE_SECONDS = 300
cache.watch(SellerLedgerEntry, SellerLedgerRelease, namespace=BALANCE_CACHE)


def current_balances(seller_id: int) -> tuple[list[Balance], dt.datetime | None]:
    """balances_and_next_change(seller_id, now), from the cache when it holds them."""
    tenant_id = current_tenant_id()
    if tenant_id is None:
        return balances_and_next_change(seller_id, utcnow())
    key = f"{BALANCE_CACHE}:{seller_id}:{tenant_id}"
    version, stored = cache.get_versioned(BALANCE_CACHE, tenant_id, key)
    if stored is not None:
        data = json.loads(stored)
        until = dt.datetime.fromisoformat(data["until"]) if data["until"] else None
        if until is None or until > utcnow():
            found = [Balance(cur, *(Decimal(v) for v in money)) for cur, *money in data["rows"]]
            return found, until
    # on SQLite a transaction reads one snapshot, possibly older than the version: not stored
    snapshot_may_be_older = db.engine.dialect.name == "sqlite" and db.session().in_transaction()
    found, until = balances_and_next_change(seller_id, utcnow())
    ttl = BALANCE_CACHE_SECONDS
    if until is not None:
        ttl = min(ttl, int((until - utcnow()).total_seconds()))
    if ttl >= 1 and not snapshot_may_be_older:
        rows = [[b.currency, str(b.pending), str(b.available), str(b.paid)] for b in found]
        payload = {"until": until.isoformat() if until else None, "rows": rows}
        cache.put_versioned(version, key, json.dumps(payload).encode(), ttl)
    return found, until


def balances_and_next_change(
    seller_id: int, now: dt.datetime | None = None
) -> tuple[list[Balance], dt.datetime | None]:
    """The seller's balances per currency at `now`, and the next moment they change by time
    alone (the earliest entry not yet available whose moment is known: pending money becoming
    available then), None when no such entry; in the same grouped SUM over its entries."""
    now = now or utcnow()
    is_payout = E.kind.in_(PAYOUT_KINDS)
    ready = and_(AVAILABLE_AT.is_not(None), AVAILABLE_AT <= now)
    rows = db.session.execute(
        _release_hint(
            select(
                E.currency,
                func.sum(case((is_payout, 0), (ready, 0), else_=E.amount)),
                func.sum(case((is_payout, E.amount), (ready, E.amount), else_=0)),
                func.sum(case((is_payout, E.amount), else_=0)),
                func.min(case((AVAILABLE_AT > now, AVAILABLE_AT), else_=None)),
            )
            .outerjoin(R, _RELEASE)
            .where(E.seller_id == seller_id)
            .group_by(E.currency)
            .order_by(E.currency)
        )
    ).all()
    found = [
        Balance(
            currency=currency,
            pending=quantize_money(pending or 0, currency),
            available=quantize_money(available or 0, currency),
            paid=quantize_money(-(paid or 0), currency),
        )
        for currency, pending, available, paid, _ in rows
    ]
    moments = [_aware(row[4]) for row in rows if row[4] is not None]
    return found, min(moments) if moments else None


def _aware(value) -> dt.datetime:
    """MIN() of a UTCDateTime column comes back without the column's type: naive UTC on MariaDB,
    an ISO string on SQLite."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


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
        .outerjoin(SubOrder, _SUB_ORDER)
        .outerjoin(OrderLine, _ORDER_LINE)
        .where(E.seller_id == seller_id, *period.conditions())
    )
    if currency:
        stmt = stmt.where(E.currency == currency)
    return _release_hint(stmt, lines=True)


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
    """One page of the seller's entries, oldest first, each with its running balance.

    The page's entry ids are found first on the covering index (tenant_id, seller_id, id, ...) of
    migrations 0024/0029, skipping the entries before the page there (from the end, in reverse, for a
    page in the second half: the latest entries are the last pages), then only those entries are
    read; the opening balance is summed on the same index. No entry row before the page is read."""
    currency = currency.upper() if currency else None
    conditions = [E.seller_id == seller_id, *period.conditions()]
    if currency:
        conditions.append(E.currency == currency)
    total = db.session.scalar(select(func.count(E.id)).where(*conditions)) or 0
    skip = (page - 1) * page_size
    ids: list[int] = []
    if skip < total:
        ids_query = select(E.id).where(*conditions)
        from_end = total - skip - page_size
        if from_end > skip:
            ids = list(db.session.scalars(ids_query.order_by(E.id).limit(page_size).offset(skip)))
        else:
            ids = list(
                db.session.scalars(
                    ids_query.order_by(E.id.desc())
                    .limit(page_size + min(0, from_end))
                    .offset(max(0, from_end))
                )
            )
    rows = (
        db.session.execute(
            _lines_query(seller_id, period, currency).where(E.id.in_(ids)).order_by(E.id)
        ).all()
        if ids
        else []
    )
    opening = _opening(seller_id, rows[0][0] if rows else None, period, currency)
    return Page(
        items=list(_with_balances(rows, opening)),
        total=total,
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


def _naive(column):
    """A UTCDateTime column read as the naive UTC datetime stored (no per-row conversion: a
    statement formats hundreds of thousands of them)."""
    return type_coerce(column, DateTime())


def statement_lines(seller_id: int, period: Period) -> Iterator[tuple]:
    """The rows of the seller's statement for `period` (HEADER's columns), oldest first, with
    running balances from the balance before it, streamed from the database in batches (a
    server-side cursor: memory stays flat whatever the seller's size). Rows are plain tuples, built
    without an object per entry: a statement may hold hundreds of thousands, read through Core
    (the tenant's condition explicit) without the ORM's or the UTC type's work per row. The
    generator keeps the tenant it was made under."""
    tenant_id = current_tenant_id()

    def generate() -> Iterator[tuple]:
        with tenant_scope(tenant_id):
            running = _opening(seller_id, None, period, None)
            units: dict[str, Decimal] = {}
            stmt = (
                select(
                    E.id,
                    _naive(E.created_at),
                    E.kind,
                    E.currency,
                    E.amount,
                    _naive(AVAILABLE_AT),
                    SubOrder.number,
                    OrderLine.sku,
                    E.note,
                )
                .outerjoin(R, _RELEASE)
                .outerjoin(SubOrder, _SUB_ORDER)
                .outerjoin(OrderLine, _ORDER_LINE)
                .where(E.tenant_id == tenant_id, E.seller_id == seller_id, *period.conditions())
                .order_by(E.id)
            )
            stmt = _release_hint(stmt, lines=True)
            connection = db.session.connection().execution_options(
                stream_results=True, yield_per=STREAM_BATCH
            )
            for (
                entry_id,
                created,
                kind,
                cur,
                amount,
                available,
                number,
                sku,
                note,
            ) in connection.execute(stmt):
                unit = units.get(cur) or units.setdefault(cur, money_unit(cur))
                balance = running[cur] = running.get(cur, ZERO) + amount
                yield (
                    entry_id,
                    str(created)[:19] if created else "",
                    kind,
                    number or "",
                    sku or "",
                    note or "",
                    cur,
                    amount.quantize(unit),
                    balance.quantize(unit),
                    str(available)[:19] if available else "",
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


# An XLSX workbook is a zip of XML parts; the statement's is written here part by part, the sheet
# streamed row by row into the zip (deflated). openpyxl's write-only mode did the same through its
# XML serialiser at ~0.6 ms a row (138 s for 150,000 rows, bench/results/ledger_statement.md);
# formatting the rows' XML directly takes microseconds. Cells: numbers (entry id, amount, balance:
# a spreadsheet can sum them, exact decimal text) and inline strings; one sheet, no styles beyond
# the default one. tests/app/payouts/test_statement_exports.py reads it back with openpyxl.
_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.openxmlformats'
        '.org/officeDocument/2006/relationships/officeDocument"/>'
        "</Relationships>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
        '<Relationship Id="rId2" Target="styles.xml" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/styles"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_END = "</sheetData></worksheet>"
# XML 1.0 refuses most control characters even escaped: a note holding one loses it
_NOT_XML = {c: None for c in range(32) if c not in (9, 10, 13)} | {0xFFFE: None, 0xFFFF: None}
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


_UNSAFE = re.compile('[&<>"\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]').search


def _xml_text(value: str) -> str:
    if _UNSAFE(value) is None:
        return value
    return value.translate(_NOT_XML).translate(_XML_ESCAPES)


def _row(values) -> str:
    """One sheet row: numbers as numbers, text as inline strings, None and "" as empty cells."""
    cells = []
    for value in values:
        kind = type(value)
        if kind is str:
            if value:
                cells.append(
                    f'<c t="inlineStr"><is><t xml:space="preserve">{_xml_text(value)}</t></is></c>'
                )
            else:
                cells.append("<c/>")
        elif kind is int or kind is Decimal or kind is float:
            cells.append(f"<c><v>{value}</v></c>")
        elif value is None:
            cells.append("<c/>")
        elif kind is bool:
            cells.append(f'<c t="b"><v>{int(value)}</v></c>')
        elif isinstance(value, int | Decimal | float):
            cells.append(f"<c><v>{value}</v></c>")
        else:
            cells.append(
                f'<c t="inlineStr"><is><t xml:space="preserve">{_xml_text(str(value))}</t></is></c>'
            )
    return "<row>" + "".join(cells) + "</row>"


def _sheet_title(title: str) -> str:
    """A valid sheet name: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in title).strip()[:31]
    return _xml_text(cleaned or "Statement")


def xlsx_file(rows: Iterator[tuple], title: str = "Statement"):
    """A statement as an XLSX workbook (HEADER, then `rows`) in a temporary file (rewound):
    the sheet is written to the zip as the rows come, a batch at a time, never held in memory."""
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5) as book:
        for name, text in _XLSX_PARTS.items():
            book.writestr(name, text)
        book.writestr("xl/workbook.xml", _WORKBOOK.format(name=_sheet_title(title)))
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_SHEET_START.encode())
            sheet.write(_row(HEADER).encode())
            while batch := list(islice(rows, STREAM_BATCH)):
                sheet.write("".join(map(_row, batch)).encode())
            sheet.write(_SHEET_END.encode())
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
