"""CSV and XLSX export: of any admin list (the admin hands its rows) and of the entities of the
Data Management API (products with variants, stock levels, customers, orders), scoped like the
lists (a seller: its own rows; a tenant: never another's).

Everything streams: rows come from the database in batches (`yield_per`), CSV is written a few
hundred rows at a time, XLSX through openpyxl's write_only workbook (rows go to a temporary file,
never a sheet in memory). A list of more than DATA_EXPORT_SYNC_MAX_ROWS rows is written by a
background job (`run_export`) into DATA_EXPORT_DIR; the user who asked downloads it through a
signed link that expires after DATA_EXPORT_LINK_SECONDS (`download_token` / `read_token`).

Formula injection: a text cell starting with = + - @ a tab or a carriage return is written with a
single quote in front, in CSV and XLSX alike, so no spreadsheet runs it (OWASP's CSV injection).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from app.catalog.models import Brand, Category, Product, ProductVariant
from app.core.errors import DomainError, NotFound, PermissionDenied, ValidationError
from app.core.tenancy import current_tenant_id, is_unscoped, tenant_scope, unscoped
from app.core.types import utcnow
from app.customers.models import CustomerProfile
from app.dataio.models import DONE, ENTITY, EXPIRED, FAILED, QUEUED, RUNNING, DataExport
from app.extensions import db
from app.inventory import scopes as stock_scopes
from app.inventory.models import StockLevel, Warehouse
from app.orders.models import Order
from app.security.actor import Actor
from app.security.models import User
from app.sellers.models import SellerProfile

FORMATS = ("csv", "xlsx")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 1000


# --- cells ------------------------------------------------------------------------------------


def neutralise(value):
    """A text that a spreadsheet would run as a formula, with a quote in front; anything else
    unchanged (numbers stay numbers: -5 is a number, "-5" in a text column is quoted)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def plain(value):
    """A value as an export cell: None, a number, or text (times in ISO 8601 UTC, JSON as JSON,
    a row by its name)."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)
    return str(value)


def csv_text(value) -> str:
    value = neutralise(plain(value))
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def xlsx_value(value):
    value = neutralise(plain(value))
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters: not allowed in XML
    return value


# --- writers -----------------------------------------------------------------------------------


def csv_chunks(header: list[str], rows: Iterable[Iterable], rows_per_chunk: int = 500):
    """UTF-8 CSV (with a byte order mark, so spreadsheets read accents) as bytes, a few hundred
    rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([csv_text(name) for name in header])
    count = 0
    for row in rows:
        writer.writerow([csv_text(value) for value in row])
        count += 1
        if count % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_xlsx(target, header: list[str], rows: Iterable[Iterable], title: str = "Export") -> int:
    """An XLSX workbook of one sheet into `target` (a path or a binary file), written row by row
    (openpyxl write_only); the number of rows written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(title))
    sheet.append([xlsx_value(name) for name in header])
    count = 0
    for row in rows:
        sheet.append([xlsx_value(value) for value in row])
        count += 1
    workbook.save(target)
    return count


def xlsx_chunks(header: list[str], rows: Iterable[Iterable], title: str = "Export"):
    """The XLSX file as bytes, 64 KiB at a time (a zip is only complete at its end: it is written
    to a temporary file first, never held in memory)."""
    with tempfile.TemporaryFile() as fh:
        write_xlsx(fh, header, rows, title)
        fh.seek(0)
        while chunk := fh.read(65536):
            yield chunk


def in_this_scope(body: Iterator[bytes]) -> Iterator[bytes]:
    """`body` read in the current tenant (and a Super Admin's cross-tenant reading), as they are
    now: a streamed response is read after its view returned, when the request's hooks have
    reset them."""
    tenant_id, across = current_tenant_id(), is_unscoped()

    def scoped():
        with tenant_scope(tenant_id):
            if across:
                with unscoped():
                    yield from body
            else:
                yield from body

    return scoped()


def chunks(fmt: str, header: list[str], rows: Iterable[Iterable], title: str = "Export"):
    check_format(fmt)
    return csv_chunks(header, rows) if fmt == "csv" else xlsx_chunks(header, rows, title)


def write_file(path: Path, fmt: str, header: list[str], rows: Iterable, title="Export") -> int:
    """The export written to `path` (through a temporary name: a half-written file is never
    offered); the number of rows."""
    check_format(fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    counted = _Counter(rows)
    if fmt == "csv":
        with open(partial, "wb") as fh:
            for chunk in csv_chunks(header, counted):
                fh.write(chunk)
    else:
        write_xlsx(partial, header, counted, title)
    os.replace(partial, path)
    return counted.count


class _Counter:
    def __init__(self, rows: Iterable):
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValidationError(
            "format must be csv or xlsx", details={"format": ["must be one of: csv, xlsx"]}
        )


def _sheet_title(title: str) -> str:
    cleaned = "".join(c for c in title if c not in "[]:*?/\\")[:31]
    return cleaned or "Export"


def file_name(title: str, fmt: str, when: dt.datetime | None = None) -> str:
    """ "products-2026-12-07-0930.csv": what the browser saves the download as."""
    stem = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-") or "export"
    while "--" in stem:
        stem = stem.replace("--", "-")
    return f"{stem[:60]}-{(when or utcnow()).strftime('%Y-%m-%d-%H%M')}.{fmt}"


# --- entities of the Data Management API --------------------------------------------------------


@dataclass
class Table:
    """An export: its title, header and rows (an iterator: read once), and how many rows it has."""

    title: str
    header: list[str]
    rows: Iterator[tuple]
    count: int


def _stream(stmt) -> Iterator[tuple]:
    """The statement's rows, read in batches (a server-side cursor on MariaDB)."""
    result = db.session.execute(stmt.execution_options(yield_per=BATCH))
    try:
        for row in result:
            yield tuple(row)
    finally:
        result.close()


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))


def _seller_of(actor: Actor) -> int | None:
    """None for an Admin (the whole storefront), the seller's id for a seller; 403 for anyone
    else (Actor.is_staff counts sellers too: not the test here)."""
    if actor.is_admin:
        return None
    if actor.is_seller:
        if actor.seller_id is None:
            raise PermissionDenied("the caller is not a seller with a profile of this storefront")
        return actor.seller_id
    raise PermissionDenied("exports are for staff and sellers")


def _staff_only(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only staff may export this")


def _tenant() -> int:
    tenant_id = current_tenant_id()
    if tenant_id is None:
        raise PermissionDenied("exports are made within one storefront")
    return tenant_id


def _products(actor: Actor):
    seller_id = _seller_of(actor)
    tenant_id = _tenant()
    category, brand = aliased(Category), aliased(Brand)
    header = [
        "product_id",
        "title",
        "slug",
        "status",
        "product_type",
        "category",
        "brand",
        "seller",
        "variant_id",
        "sku",
        "variant_title",
        "price",
        "compare_at_price",
        "currency",
        "weight_kg",
        "options",
        "variant_active",
        "created_at",
    ]
    stmt = (
        select(
            Product.id,
            Product.title,
            Product.slug,
            Product.status,
            Product.product_type,
            category.name,
            brand.name,
            SellerProfile.store_name,
            ProductVariant.id,
            ProductVariant.sku,
            ProductVariant.title,
            ProductVariant.price,
            ProductVariant.compare_at_price,
            ProductVariant.currency,
            ProductVariant.weight_kg,
            ProductVariant.options,
            ProductVariant.is_active,
            Product.created_at,
        )
        .join(SellerProfile, SellerProfile.id == Product.seller_id)
        .outerjoin(category, category.id == Product.category_id)
        .outerjoin(brand, brand.id == Product.brand_id)
        .outerjoin(ProductVariant, ProductVariant.product_id == Product.id)
        .where(Product.tenant_id == tenant_id)
        .order_by(Product.id, ProductVariant.position, ProductVariant.id)
    )
    if seller_id is not None:
        stmt = stmt.where(Product.seller_id == seller_id)
    return "Products", header, stmt


def _stock_levels(actor: Actor):
    seller_id = _seller_of(actor)
    tenant_id = _tenant()
    header = [
        "id",
        "sku",
        "product",
        "warehouse_code",
        "warehouse",
        "quantity_on_hand",
        "quantity_reserved",
        "available",
        "reorder_point",
        "updated_at",
    ]
    stmt = (
        select(
            StockLevel.id,
            ProductVariant.sku,
            Product.title,
            Warehouse.code,
            Warehouse.name,
            StockLevel.quantity_on_hand,
            StockLevel.quantity_reserved,
            StockLevel.quantity_on_hand - StockLevel.quantity_reserved,
            StockLevel.reorder_point,
            StockLevel.updated_at,
        )
        .join(ProductVariant, ProductVariant.id == StockLevel.variant_id)
        .join(Product, Product.id == ProductVariant.product_id)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.tenant_id == tenant_id)
        .order_by(StockLevel.id)
    )
    if seller_id is not None:
        stmt = stmt.where(stock_scopes.stock_of_seller(seller_id))
    return "Stock levels", header, stmt


def _customers(actor: Actor):
    _staff_only(actor)
    tenant_id = _tenant()
    header = [
        "id",
        "email",
        "first_name",
        "last_name",
        "phone",
        "preferred_language",
        "preferred_currency",
        "marketing_opt_in",
        "loyalty_points",
        "created_at",
    ]
    stmt = (
        select(
            CustomerProfile.id,
            User.email,
            User.first_name,
            User.last_name,
            CustomerProfile.phone,
            CustomerProfile.preferred_language,
            CustomerProfile.preferred_currency,
            CustomerProfile.marketing_opt_in,
            CustomerProfile.loyalty_points,
            CustomerProfile.created_at,
        )
        .join(User, User.id == CustomerProfile.user_id)
        .where(CustomerProfile.tenant_id == tenant_id)
        .order_by(CustomerProfile.id)
    )
    return "Customers", header, stmt


def _orders(actor: Actor):
    _staff_only(actor)
    tenant_id = _tenant()
    header = [
        "number",
        "status",
        "payment_status",
        "email",
        "currency",
        "subtotal",
        "discount_total",
        "tax_total",
        "shipping_total",
        "total",
        "refunded_total",
        "created_at",
        "paid_at",
    ]
    stmt = (
        select(
            Order.number,
            Order.status,
            Order.payment_status,
            Order.email,
            Order.currency,
            Order.subtotal,
            Order.discount_total,
            Order.tax_total,
            Order.shipping_total,
            Order.total,
            Order.refunded_total,
            Order.created_at,
            Order.paid_at,
        )
        .where(Order.tenant_id == tenant_id)
        .order_by(Order.id)
    )
    return "Orders", header, stmt


ENTITIES: dict[str, Callable] = {
    "products": _products,
    "stock-levels": _stock_levels,
    "customers": _customers,
    "orders": _orders,
}


def entity_table(actor: Actor, entity: str) -> Table:
    """The rows of `entity` the actor may export (a seller: its own products and stock; customers
    and orders: staff only), in id order."""
    build = ENTITIES.get(entity)
    if build is None:
        raise NotFound(f"no export of {entity!r}; one of: {', '.join(ENTITIES)}")
    title, header, stmt = build(actor)
    return Table(title, header, _stream(stmt), _count(stmt))


# --- background exports and their links -------------------------------------------------------

# kind -> source(export, path) -> rows written: how a job makes an export's file again. The admin
# registers "list" (it replays the user's list: admin.exports), this module "entity", app.backup
# "backup". A source writes `path` itself (write_table for rows), within whatever context it
# needs (the admin's: a request as the user).
Source = Callable[[DataExport, Path], int]
_SOURCES: dict[str, Source] = {}


def register_source(kind: str, source: Source) -> None:
    _SOURCES[kind] = source


def write_table(path: Path, fmt: str, table: Table) -> int:
    return write_file(path, fmt, table.header, table.rows, table.title)


def export_dir() -> Path:
    return Path(current_app.config["DATA_EXPORT_DIR"])


def request_export(
    user_id: int, kind: str, source: str, params: dict, fmt: str, title: str
) -> DataExport:
    """Record an export for a background job (the caller enqueues `run_export(id)` after the
    commit)."""
    export = DataExport(
        user_id=user_id,
        kind=kind,
        source=source[:120],
        params=params,
        format=fmt,
        status=QUEUED,
        title=title[:200],
    )
    db.session.add(export)
    db.session.commit()
    return export


def run_export(export_id: int) -> str:
    """The job: write the export's file, mark it done (or failed, with the reason). Idempotent: a
    finished export is left as it is. Runs without a tenant (a job): the row's tenant is set."""
    with unscoped():
        export = db.session.get(DataExport, export_id)
    if export is None or export.status == DONE:
        return "skipped"
    with tenant_scope(export.tenant_id):
        export.status = RUNNING
        db.session.commit()
        name = f"{export.tenant_id}/{export.id}-{file_name(export.title, export.format)}"
        try:
            count = _SOURCES[export.kind](export, export_dir() / name)
        except (DomainError, OSError, KeyError) as exc:
            db.session.rollback()
            (export_dir() / name).unlink(missing_ok=True)  # a half-written file is no export
            export = db.session.get(DataExport, export_id)
            export.status, export.error, export.finished_at = FAILED, str(exc)[:2000], utcnow()
            db.session.commit()
            return FAILED
        export = db.session.get(DataExport, export_id)
        export.status, export.row_count, export.file_name = DONE, count, name
        export.finished_at = utcnow()
        db.session.commit()
    return DONE


def purge_expired(now: dt.datetime | None = None) -> int:
    """Cron: delete the files of exports finished more than DATA_EXPORT_KEEP_HOURS ago and mark
    them expired (their links then answer 404; the row stays in the user's list, saying so).
    Every tenant's; returns how many files went."""
    now = now or utcnow()
    keep = dt.timedelta(hours=int(current_app.config["DATA_EXPORT_KEEP_HOURS"]))
    with unscoped():
        old = db.session.execute(
            select(DataExport.id, DataExport.file_name).where(
                DataExport.status == DONE, DataExport.finished_at < now - keep
            )
        ).all()
        for _, name in old:
            if name:
                (export_dir() / name).unlink(missing_ok=True)
        if old:
            db.session.execute(
                update(DataExport)
                .where(DataExport.id.in_([export_id for export_id, _ in old]))
                .where(DataExport.status == DONE)
                .values(status=EXPIRED, file_name=None)
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
    return len(old)


def _entity_source(export: DataExport, path: Path) -> int:
    from app.sellers.actors import actor_for

    user = db.session.get(User, export.user_id)
    return write_table(path, export.format, entity_table(actor_for(user), export.source))


register_source(ENTITY, _entity_source)


def exports_of(user_id: int, limit: int = 50) -> list[DataExport]:
    """The user's own exports and backups, newest first."""
    stmt = (
        select(DataExport)
        .where(DataExport.user_id == user_id)
        .order_by(DataExport.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def _visible_export(export_id) -> DataExport | None:
    """The export by id through a query (the tenant's rows only: session.get would hand back a
    row of another tenant the session already holds)."""
    if not isinstance(export_id, int):
        return None
    return db.session.scalar(select(DataExport).where(DataExport.id == export_id))


def export_of(user_id: int, export_id: int) -> DataExport:
    """One of the user's own exports; 404 for another user's (as for an unknown one)."""
    export = _visible_export(export_id)
    if export is None or export.user_id != user_id:
        raise NotFound("no such export")
    return export


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="data-export-download")


def download_token(export: DataExport) -> str:
    """A token naming the export and its owner, signed; read_token refuses it once
    DATA_EXPORT_LINK_SECONDS have passed."""
    return _serializer().dumps({"e": export.id, "u": export.user_id})


def read_token(token: str, user_id: int, max_age: int | None = None) -> tuple[DataExport, Path]:
    """The export and its file behind a download token, for the signed-in `user_id` only: 403 when
    the link expired, 404 for a forged link, another user's, or a file not (or no longer) there."""
    max_age = max_age if max_age is not None else current_app.config["DATA_EXPORT_LINK_SECONDS"]
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise PermissionDenied("this download link has expired: ask for a new one") from exc
    except BadSignature as exc:
        raise NotFound("no such download") from exc
    if not isinstance(data, dict) or data.get("u") != user_id:
        raise NotFound("no such download")
    export = _visible_export(data.get("e"))
    if export is None or export.user_id != user_id or export.status != DONE or not export.file_name:
        raise NotFound("no such download")
    path = export_dir() / export.file_name
    if not path.is_file():
        raise NotFound("this file is no longer kept")
    return export, path


def download_name(export: DataExport) -> str:
    return export.file_name.rsplit("/", 1)[-1].split("-", 1)[-1] if export.file_name else "export"
