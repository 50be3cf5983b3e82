"""Bulk import: templates, the dry run (validate) and the import job, with progress and the
error file.

Who: staff of the tenant (Admin, Super Admin working in it) import everything; a Seller imports
products, stock and prices into its own catalog only (a row naming another seller's SKU or handle
is an error, never an update) and no customers (403). Rules of each entity: import_rows.py.

- `validate_upload` is a dry run: the whole file is read, every problem reported by row and
  column; nothing is written (the upload is deleted when it is done). A file larger than
  DATA_IMPORT_SYNC_VALIDATE_BYTES is checked by a job instead (`dry_run` mode: the same chunks as
  `row_by_row`, its failed rows and checkpoint committed per chunk, nothing else written; it ends
  `validated`), so no request outlives the server's timeout; `report` reads its problems.
- `start_import` stores the upload under DATA_IMPORT_DIR, records a `data_imports` row and hands
  `run_import` to the task runner (RQ's default queue; in-process in the embedded default).
- `run_import` reads the file in chunks of DATA_IMPORT_CHUNK_ROWS rows (a product's rows never
  split). `all_or_nothing`: the file is checked first; any bad row and nothing is written (the
  failed rows make the error file); otherwise everything is written in ONE transaction.
  `row_by_row`: each chunk's good rows, its failed rows and the checkpoint (rows done) are
  committed together, so a run whose worker dies resumes after the last committed chunk when run
  again (`resume_import`, or the cron that picks up stalled imports) and never leaves half a
  product: a product and its variants are written in one transaction.
- Each import is on the audit trail: "import" when started, "import_end" with its figures.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError

from app.core.db import transaction
from app.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from app.core.paging import Page, paginate
from app.core.tenancy import tenant_scope, unscoped
from app.core.types import utcnow
from app.dataio import import_files
from app.dataio.errors import DataioError
from app.dataio.import_rows import ENTITIES, Context, Entity, Group, HeaderError, Row
from app.dataio.models import DRY_RUN, FINAL_STATUSES, DataImport, DataImportError
from app.events.bus import get_bus
from app.extensions import db
from app.security.actor import Actor
from app.security.audit import AuditActor, audit_as, not_audited, record_action
from app.security.models import User
from app.sellers.actors import actor_for
from app.sellers.models import SellerProfile
from app.sellers.services import require_approved
from app.tenants.models import Tenant

log = logging.getLogger(__name__)

TASK = "jobs.tasks.run_data_import"
REPORT_LIMIT = 1000  # problems listed in a dry run's answer (all are counted)


# --- who may import what ----------------------------------------------------------------------


def _entity(name: str) -> Entity:
    entity = ENTITIES.get(name)
    if entity is None:
        raise NotFound(f"no importable entity {name!r}", details={"entity": sorted(ENTITIES)})
    return entity


def _context(actor: Actor, entity: Entity, tenant_id: int) -> Context:
    """The import's standing: staff work on the whole tenant, a seller on its own catalog."""
    if actor.is_admin:
        seller_id = None
    elif actor.is_seller and actor.seller_id is not None:
        if entity.staff_only:
            raise PermissionDenied(f"only staff import {entity.name}")
        seller_id = actor.seller_id
        require_approved(db.session.get(SellerProfile, seller_id))
    else:
        raise PermissionDenied("only staff and sellers import data")
    currency = db.session.scalar(select(Tenant.default_currency).where(Tenant.id == tenant_id))
    return Context(
        actor=actor, tenant_id=tenant_id, seller_id=seller_id, default_currency=currency or "USD"
    )


def allowed_entities(actor: Actor) -> list[str]:
    return [n for n, e in ENTITIES.items() if actor.is_admin or not e.staff_only]


# --- templates ----------------------------------------------------------------------------------


def template(actor: Actor, entity_name: str, fmt: str, out) -> str:
    """Write the entity's template (header row and one example row) to `out`; its file name."""
    entity = _entity(entity_name)
    if fmt not in import_files.CONTENT_TYPES:
        raise ValidationError("unknown format", details={"format": "csv or xlsx"})
    ctx = _context(actor, entity, actor.tenant_id)
    import_files.write_table(fmt, [entity.header(ctx), entity.example(ctx)], out)
    return f"{entity.name}-template.{fmt}"


# --- reading a file in checked chunks -----------------------------------------------------------


@dataclass
class Chunk:
    groups: list[Group]
    last_row: int  # the file's row number of the chunk's last row

    @property
    def rows(self) -> list[Row]:
        return [r for g in self.groups for r in g.rows]


def _chunks(
    entity: Entity, path: Path, fmt: str, ctx: Context, *, skip: int = 0, size: int | None = None
) -> Iterator[Chunk]:
    """The file's data rows in checked chunks (parse, then check against the shop). The first
    `skip` data rows (done before a resume) are only parsed, so that the rest of the file is
    compared with them (duplicates). Blank rows are skipped."""
    size = size or int(current_app.config["DATA_IMPORT_CHUNK_ROWS"])
    rows = import_files.prefetched(import_files.read_rows(path, fmt))
    header = next(rows, None)
    if header is None:
        raise ValidationError("the file is empty", details={"file": "empty"})
    columns = entity.read_header(header, ctx)
    key_index = next(
        (i for i, c in enumerate(columns) if c is not None and c.name == entity.group_by), None
    )
    groups: list[Group] = []
    count = seen = 0
    number = 1
    for cells in rows:
        number += 1
        if not any(cells):
            continue
        cells = cells[: len(columns)] + [""] * (len(columns) - len(cells))
        row = Row(number=number, values=cells)
        seen += 1
        if seen <= skip:
            entity.skip(row, columns, ctx)
            continue
        entity.parse(row, columns, ctx)
        key = row.data.get(entity.group_by) if key_index is not None else None
        if key is not None and groups and groups[-1].key == key:
            groups[-1].rows.append(row)
        else:
            if count >= size:  # a new group starts: the ones before it are complete
                entity.check(groups, ctx)
                yield Chunk(groups, groups[-1].rows[-1].number)
                groups, count = [], 0
            groups.append(Group(key=key, rows=[row]))
        count += 1
    if groups:
        entity.check(groups, ctx)
        yield Chunk(groups, groups[-1].rows[-1].number)


def _header_problem(exc: HeaderError) -> dict:
    return {"row": 1, "columns": exc.details.get("columns", {})}


# --- the dry run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str


@dataclass(frozen=True)
class ValidationReport:
    entity: str
    format: str
    rows_total: int
    rows_valid: int
    rows_invalid: int
    problems_total: int
    problems: list[Problem]  # at most REPORT_LIMIT, in file order

    @property
    def ok(self) -> bool:
        return self.problems_total == 0


def validate_upload(actor: Actor, entity_name: str, stream, file_name: str) -> ValidationReport:
    """The dry run in the request: check every row of the uploaded file; writes nothing (no row;
    the upload is deleted once read). For any size: `dry_run` picks the request or a job."""
    entity = _entity(entity_name)
    tenant_id = actor.tenant_id
    ctx = _context(actor, entity, tenant_id)
    fmt, storage_name, _ = import_files.store_upload(stream, tenant_id)
    try:
        return _validate(entity, import_files.path_of(tenant_id, storage_name), fmt, ctx)
    finally:
        import_files.remove(tenant_id, storage_name)
        db.session.rollback()  # reads only; nothing to keep


@dataclass(frozen=True)
class DryRun:
    """A dry run's outcome: the report (a file small enough to check in the request), or the id
    of the job checking it (`report(actor, import_id)` once it is validated)."""

    report: ValidationReport | None = None
    import_id: int | None = None


def dry_run(actor: Actor, entity_name: str, stream, file_name: str) -> DryRun:
    """Check the file in the request when it is at most DATA_IMPORT_SYNC_VALIDATE_BYTES, else hand
    it to a job (recorded like an import, in `dry_run` mode); nothing is written either way."""
    entity = _entity(entity_name)
    tenant_id = actor.tenant_id
    ctx = _context(actor, entity, tenant_id)
    fmt, storage_name, size = import_files.store_upload(stream, tenant_id)
    if size <= int(current_app.config["DATA_IMPORT_SYNC_VALIDATE_BYTES"]):
        try:
            return DryRun(
                report=_validate(entity, import_files.path_of(tenant_id, storage_name), fmt, ctx)
            )
        finally:
            import_files.remove(tenant_id, storage_name)
            db.session.rollback()
    return DryRun(
        import_id=_record(actor, entity, ctx, DRY_RUN, fmt, storage_name, size, file_name)
    )


def _validate(entity: Entity, path: Path, fmt: str, ctx: Context) -> ValidationReport:
    problems: list[Problem] = []
    total = invalid = problems_total = 0
    try:
        for chunk in _chunks(entity, path, fmt, ctx):
            for row in chunk.rows:
                total += 1
                if row.errors:
                    invalid += 1
                    for column, message in row.errors.items():
                        problems_total += 1
                        if len(problems) < REPORT_LIMIT:
                            problems.append(Problem(row.number, column, message))
            db.session.expunge_all()
    except HeaderError as exc:
        problems = [Problem(1, c, m) for c, m in _header_problem(exc)["columns"].items()]
        return ValidationReport(entity.name, fmt, 0, 0, 0, len(problems), problems)
    return ValidationReport(
        entity.name, fmt, total, total - invalid, invalid, problems_total, problems
    )


# --- starting, listing, reading -----------------------------------------------------------------


def start_import(actor: Actor, entity_name: str, mode: str, stream, file_name: str) -> int:
    """Store the upload, record the import (queued) and hand it to the job runner; its id."""
    entity = _entity(entity_name)
    if mode not in ("all_or_nothing", "row_by_row"):
        raise ValidationError("unknown mode", details={"mode": "all_or_nothing or row_by_row"})
    tenant_id = actor.tenant_id
    ctx = _context(actor, entity, tenant_id)
    fmt, storage_name, size = import_files.store_upload(stream, tenant_id)
    return _record(actor, entity, ctx, mode, fmt, storage_name, size, file_name)


def _record(
    actor: Actor,
    entity: Entity,
    ctx: Context,
    mode: str,
    fmt: str,
    storage_name: str,
    size: int,
    file_name: str,
) -> int:
    """Record the stored upload as an import (queued) and hand it to the job runner; its id."""
    tenant_id = actor.tenant_id
    try:
        with transaction():
            row = DataImport(
                tenant_id=tenant_id,
                seller_id=ctx.seller_id,
                user_id=actor.user_id,
                entity=entity.name,
                format=fmt,
                mode=mode,
                status="queued",
                file_name=(file_name or f"upload.{fmt}")[:255],
                storage_name=storage_name,
                file_bytes=size,
            )
            db.session.add(row)
            db.session.flush()
            record_action(
                db.session(),
                row,
                "import",
                after={"entity": entity.name, "mode": mode, "format": fmt, "file": row.file_name},
            )
            import_id = row.id
    except BaseException:
        import_files.remove(tenant_id, storage_name)
        raise
    enqueue(import_id)
    return import_id


def enqueue(import_id: int) -> None:
    get_bus().runner.enqueue(TASK, import_id, queue="default")


def _visible(actor: Actor):
    stmt = select(DataImport)
    if not actor.is_admin:
        if not actor.is_seller or actor.seller_id is None:
            raise PermissionDenied("only staff and sellers import data")
        stmt = stmt.where(DataImport.seller_id == actor.seller_id)
    return stmt


def list_imports(actor: Actor, page: int, page_size: int) -> Page[DataImport]:
    """The imports of the tenant (staff) or of the seller, newest first."""
    return paginate(_visible(actor).order_by(DataImport.id.desc()), page, page_size)


def get_import(actor: Actor, import_id: int) -> DataImport:
    row = db.session.scalar(_visible(actor).where(DataImport.id == import_id))
    if row is None:
        raise NotFound("no such import")
    return row


def error_file(actor: Actor, import_id: int, out) -> str:
    """Write the import's failed rows (as uploaded, plus an `error` column) to `out` in the format
    uploaded; its file name."""
    row = get_import(actor, import_id)
    if not row.rows_failed:
        raise NotFound("this import has no failed rows")
    entity = ENTITIES[row.entity]
    header = _uploaded_header(row, entity)

    def rows():
        yield [*header, "error"]
        last = 0
        while True:
            batch = db.session.execute(
                select(DataImportError.id, DataImportError.values, DataImportError.errors)
                .where(DataImportError.import_id == row.id, DataImportError.id > last)
                .order_by(DataImportError.id)
                .limit(1000)
            ).all()
            if not batch:
                return
            for error_id, values, errors in batch:
                last = error_id
                if not errors:  # row 0: the uploaded header
                    continue
                text = "; ".join(f"{column}: {message}" for column, message in errors.items())
                yield [*values, text]

    import_files.write_table(row.format, rows(), out)
    return f"import-{row.id}-errors.{row.format}"


def report(actor: Actor, import_id: int) -> ValidationReport:
    """The problems an import (a dry run's, or a real one's failed rows) has found so far, as the
    dry run reports them: the first REPORT_LIMIT in file order, all of them counted."""
    row = get_import(actor, import_id)
    problems: list[Problem] = []
    problems_total = 0
    last = 0
    while True:
        batch = db.session.execute(
            select(DataImportError.id, DataImportError.row_number, DataImportError.errors)
            .where(DataImportError.import_id == row.id, DataImportError.id > last)
            .order_by(DataImportError.id)
            .limit(2000)
        ).all()
        if not batch:
            break
        for error_id, number, errors in batch:
            last = error_id
            for column, message in (errors or {}).items():
                problems_total += 1
                if len(problems) < REPORT_LIMIT:
                    problems.append(Problem(number, column, message))
    problems.sort(key=lambda p: p.row)
    checked = row.rows_done + row.rows_failed
    return ValidationReport(
        row.entity, row.format, checked, row.rows_done, row.rows_failed, problems_total, problems
    )


def _uploaded_header(row: DataImport, entity: Entity) -> list[str]:
    """The header of the uploaded file (kept as row 0 of the errors), else the template's."""
    stored = db.session.scalar(
        select(DataImportError.values).where(
            DataImportError.import_id == row.id, DataImportError.row_number == 0
        )
    )
    return list(stored) if stored else entity.header()


# --- the job ------------------------------------------------------------------------------------


def _stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=int(current_app.config["DATA_IMPORT_STALE_SECONDS"]))


def _claim(import_id: int) -> str | None:
    """Take the import for this run: a queued one, or a running one whose worker stopped beating
    (killed). None when it is finished or another live run has it."""
    token = secrets.token_hex(16)
    now = utcnow()
    result = db.session.execute(
        update(DataImport)
        .where(
            DataImport.id == import_id,
            (DataImport.status.in_(("queued", "error")))
            | (
                (DataImport.status == "running")
                & (
                    DataImport.heartbeat_at.is_(None)
                    | (DataImport.heartbeat_at < now - _stale_after())
                )
            ),
        )
        .values(status="running", run_token=token, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return token if result.rowcount == 1 else None


def _owned(import_id: int, token: str) -> DataImport:
    """The import row, locked for this transaction, if this run still owns it."""
    row = db.session.scalar(
        select(DataImport)
        .where(DataImport.id == import_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None or row.run_token != token:
        raise _LostClaim()
    return row


class _LostClaim(Exception):
    """Another run took the import over (this one was thought dead)."""


def run_import(import_id: int) -> str | None:
    """The job: run (or resume) import `import_id`; its final status, or None when there was
    nothing to do (finished, or another run owns it)."""
    with unscoped():
        found = db.session.execute(
            select(DataImport.tenant_id, DataImport.user_id).where(DataImport.id == import_id)
        ).first()
    db.session.rollback()
    if found is None:
        return None
    tenant_id, user_id = found
    # an app context (and so a database session) of its own: run in-process (the embedded
    # default) the job must not expire or detach the objects of the request that started it
    with current_app.app_context(), tenant_scope(tenant_id):
        user = db.session.get(User, user_id) if user_id else None
        audit = AuditActor(
            actor_id=user_id, actor=user.username if user else "system:data-import", source="job"
        )
        with audit_as(audit):
            token = _claim(import_id)
            if token is None:
                return None
            try:
                return _run(import_id, token, user)
            except _LostClaim:
                db.session.rollback()
                return None
            except Exception as exc:
                db.session.rollback()
                log.exception("data import %s broke", import_id)
                _finish(import_id, token, "error", message=_message(exc), keep_file=True)
                if current_app.config["JOBS_MODE"] == "rq":
                    raise  # RQ retries it with backoff; each retry resumes from the checkpoint
                return "error"  # in-process: the request that started it is not failed


def _message(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.message[:500]
    return f"the import stopped: {type(exc).__name__}"[:500]


def _run(import_id: int, token: str, user: User | None) -> str:
    row = db.session.get(DataImport, import_id)
    entity = ENTITIES[row.entity]
    fmt, mode, tenant_id = row.format, row.mode, row.tenant_id
    if row.storage_name is None:  # deleted (expired) before this run
        db.session.rollback()
        return _finish(import_id, token, "error", message="the uploaded file is gone")
    path = import_files.path_of(row.tenant_id, row.storage_name)
    if row.started_at is None:
        row.started_at = utcnow()
    if row.rows_total is None and path.exists():
        row.rows_total = import_files.count_rows(path, fmt)
    db.session.commit()
    if not path.exists():
        return _finish(import_id, token, "error", message="the uploaded file is gone")
    actor = actor_for(user) if user is not None else None
    try:
        if actor is None:
            raise PermissionDenied("the user who started the import is gone")
        ctx = _context(actor, entity, tenant_id)
        if mode == "all_or_nothing":
            return _all_or_nothing(import_id, token, entity, path, fmt, ctx)
        return _row_by_row(import_id, token, entity, path, fmt, ctx, dry=mode == DRY_RUN)
    except HeaderError as exc:
        db.session.rollback()
        with transaction():
            _owned(import_id, token)
            _store_errors(
                import_id, tenant_id, [Row(1, [], errors=_header_problem(exc)["columns"])]
            )
        return _finish(import_id, token, "failed", message=exc.message, failed=1)
    except (PermissionDenied, ValidationError) as exc:
        db.session.rollback()
        return _finish(import_id, token, "failed", message=exc.message)


def _store_errors(import_id: int, tenant_id: int, rows: list[Row]) -> None:
    if rows:
        db.session.execute(
            insert(DataImportError.__table__),
            [
                {
                    "tenant_id": tenant_id,
                    "import_id": import_id,
                    "row_number": r.number,
                    "values": r.values,
                    "errors": r.errors,
                }
                for r in rows
            ],
        )


def _store_header(import_id: int, tenant_id: int, path: Path, fmt: str) -> None:
    """The uploaded header, kept as row 0 of the errors so the error file repeats it."""
    header = next(import_files.read_rows(path, fmt), [])
    db.session.execute(
        insert(DataImportError.__table__)
        .prefix_with("IGNORE", dialect="mysql")
        .prefix_with("IGNORE", dialect="mariadb")
        .prefix_with("OR IGNORE", dialect="sqlite"),
        [
            {
                "tenant_id": tenant_id,
                "import_id": import_id,
                "row_number": 0,
                "values": header,
                "errors": {},
            }
        ],
    )


def _apply_groups(entity: Entity, groups: list[Group], ctx: Context) -> tuple[int, int]:
    """Write the good groups; the rows written are on the audit trail as one import (its
    "import" and "import_end" rows), not row by row."""
    with not_audited():
        return _apply_good(entity, groups, ctx)


def _apply_good(entity: Entity, groups: list[Group], ctx: Context) -> tuple[int, int]:
    created = updated = 0
    good = [g for g in groups if g.ok]
    entity.before_apply(good, ctx)
    if hasattr(entity, "apply_many"):
        if good:
            created, updated = entity.apply_many(good, ctx)
    else:
        for group in good:
            c, u = entity.apply(group, ctx)
            created += c
            updated += u
    db.session.flush()
    return created, updated


def _all_or_nothing(
    import_id: int, token: str, entity: Entity, path: Path, fmt: str, ctx: Context
) -> str:
    # 1. check the whole file (reads only), keeping the failed rows
    failed: list[Row] = []
    checked = 0
    failed_count = 0
    for chunk in _chunks(entity, path, fmt, ctx):
        for r in chunk.rows:
            checked += 1
            if r.errors:
                failed_count += 1
                if len(failed) < 10_000:
                    failed.append(r)
        db.session.expunge_all()
        db.session.rollback()
    if failed_count:
        with transaction():
            _owned(import_id, token)
            _store_header(import_id, ctx.tenant_id, path, fmt)
            for start in range(0, len(failed), 1000):
                _store_errors(import_id, ctx.tenant_id, failed[start : start + 1000])
        return _finish(
            import_id,
            token,
            "failed",
            message=f"{failed_count} row(s) invalid; nothing was imported",
            failed=failed_count,
        )
    # 2. write everything in one transaction
    ctx.seen_keys.clear()
    ctx.seen_handles.clear()
    ctx.last_handle = None
    created = updated = done = 0
    with transaction():
        _owned(import_id, token)
        for chunk in _chunks(entity, path, fmt, ctx):
            bad = [r for r in chunk.rows if r.errors]
            if bad:  # the shop changed since the check: nothing is written
                raise ValidationError(
                    f"row {bad[0].number} became invalid while importing; nothing was imported"
                )
            c, u = _apply_groups(entity, chunk.groups, ctx)
            created, updated, done = created + c, updated + u, done + len(chunk.rows)
            db.session.expunge_all()
        row = _owned(import_id, token)
        row.rows_done, row.rows_created, row.rows_updated = done, created, updated
    return _finish(import_id, token, "completed")


def _row_by_row(
    import_id: int, token: str, entity: Entity, path: Path, fmt: str, ctx: Context, dry=False
) -> str:
    """Chunk by chunk: its good rows written (not in a dry run), its failed rows and the
    checkpoint committed together; a resumed run starts after the last committed chunk."""
    row = db.session.get(DataImport, import_id)
    skip = row.rows_done + row.rows_failed
    db.session.rollback()
    with transaction():
        _owned(import_id, token)
        _store_header(import_id, ctx.tenant_id, path, fmt)
    for chunk in _chunks(entity, path, fmt, ctx, skip=skip):
        try:
            _commit_chunk(import_id, token, entity, chunk.groups, ctx, dry=dry)
        except DBAPIError:
            # a concurrent writer took a unique value (or a deadlock): each group on its own
            db.session.rollback()
            for group in chunk.groups:
                try:
                    _commit_chunk(import_id, token, entity, [group], ctx)
                except DBAPIError as exc:
                    db.session.rollback()
                    for r in group.rows:
                        r.fail("row", f"not imported: {type(exc.orig).__name__}")
                    _commit_chunk(import_id, token, entity, [group], ctx)
        db.session.expunge_all()
    row = db.session.get(DataImport, import_id)
    status = "completed_with_errors" if row.rows_failed else "completed"
    valid, invalid = row.rows_done, row.rows_failed
    db.session.rollback()
    if dry:
        message = f"{valid} row(s) valid, {invalid} with problems; nothing was written"
        return _finish(import_id, token, "validated", message=message)
    return _finish(import_id, token, status)


def _commit_chunk(
    import_id: int, token: str, entity: Entity, groups: list[Group], ctx: Context, dry=False
) -> None:
    """One transaction: the chunk's good groups (not in a dry run), its failed rows and the
    checkpoint."""
    with transaction():
        row = _owned(import_id, token)
        created, updated = (0, 0) if dry else _apply_groups(entity, groups, ctx)
        bad = [r for g in groups for r in g.rows if r.errors]
        _store_errors(import_id, ctx.tenant_id, bad)
        total = sum(len(g.rows) for g in groups)
        row = _owned(import_id, token)
        row.rows_done += total - len(bad)
        row.rows_failed += len(bad)
        row.rows_created += created
        row.rows_updated += updated
        row.heartbeat_at = utcnow()


def _finish(
    import_id: int,
    token: str,
    status: str,
    *,
    message: str | None = None,
    failed: int | None = None,
    keep_file: bool = False,
) -> str:
    with transaction():
        row = _owned(import_id, token)
        row.status = status
        row.message = message
        if failed is not None:
            row.rows_failed = failed
        if row.rows_total is None and status in ("completed", "completed_with_errors", "validated"):
            row.rows_total = row.rows_done + row.rows_failed  # an XLSX without its dimension
        row.finished_at = utcnow()
        row.heartbeat_at = row.finished_at
        if status in FINAL_STATUSES and not keep_file:
            import_files.remove(row.tenant_id, row.storage_name)
            row.storage_name = None
        record_action(
            db.session(),
            row,
            "import_end",
            after={
                "status": status,
                "rows_done": row.rows_done,
                "rows_failed": row.rows_failed,
                "rows_created": row.rows_created,
                "rows_updated": row.rows_updated,
            },
        )
    return status


def resume_import(actor: Actor, import_id: int) -> DataImport:
    """Run a stalled import again (its worker died: no heartbeat for DATA_IMPORT_STALE_SECONDS,
    or the job broke): it goes on from its checkpoint."""
    row = get_import(actor, import_id)
    stale = row.heartbeat_at is None or row.heartbeat_at < utcnow() - _stale_after()
    if row.status == "error" or (row.status == "running" and stale):
        enqueue(row.id)
        return row
    raise Conflict(
        "only a stalled or broken import is resumed",
        code=DataioError.IMPORT_NOT_RESUMABLE,
        details={"status": row.status},
    )


def resume_stalled() -> int:
    """Cron: hand every stalled import (a running one whose worker stopped beating) back to the
    job runner, and delete the uploads of imports finished or abandoned long ago."""
    with unscoped():
        return _resume_stalled()


def _resume_stalled() -> int:
    limit = utcnow() - _stale_after()
    stalled = list(
        db.session.scalars(
            select(DataImport.id).where(
                DataImport.status == "running", DataImport.heartbeat_at < limit
            )
        )
    )
    expired = utcnow() - dt.timedelta(hours=int(current_app.config["DATA_IMPORT_KEEP_HOURS"]))
    old = db.session.execute(
        select(DataImport.id, DataImport.tenant_id, DataImport.storage_name).where(
            DataImport.storage_name.is_not(None), DataImport.created_at < expired
        )
    ).all()
    for _, tenant_id, name in old:
        import_files.remove(tenant_id, name)
    if old:
        db.session.execute(
            update(DataImport)
            .where(DataImport.id.in_([i for i, _, _ in old]))
            .values(storage_name=None)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    for import_id in stalled:
        enqueue(import_id)
    return len(stalled)
