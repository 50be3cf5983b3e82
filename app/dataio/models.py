"""Exports: a file made for one user in the background (`data_exports`): a large export of an admin
list or an entity, or a tenant backup (app.backup). The file lives under DATA_EXPORT_DIR (the
instance folder); only the user who asked may download it, through a signed link that expires
(app.dataio.exports).

Imports: one row per uploaded file (`data_imports`: who, what, mode, status, progress) and its
failed rows (`data_import_errors`: the row as uploaded and its errors by column).

The failed rows are written in the same transaction as the chunk of good rows they came with
(row_by_row) or in the transaction that records the failure (all_or_nothing), so the error file,
made from them on demand, never loses or repeats a row when a killed import is resumed.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import UTCDateTime, utcnow
from app.tenants.models import TenantScoped

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
EXPIRED = "expired"  # done, and its file deleted DATA_EXPORT_KEEP_HOURS after (purge_expired)
EXPORT_STATUSES = (QUEUED, RUNNING, DONE, FAILED, EXPIRED)
# what was exported: an admin list (source: the view's name), an API entity, a tenant backup
LIST, ENTITY, BACKUP = "list", "entity", "backup"
EXPORT_KINDS = (LIST, ENTITY, BACKUP)


class DataExport(TenantScoped, Model):
    __tablename__ = "data_exports"
    __table_args__ = (Index("ix_data_exports_tenant_user", "tenant_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    source: Mapped[str] = mapped_column(String(120), nullable=False)
    # how the rows were chosen: the list's query arguments (filters, order), or an entity's
    params: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    format: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    row_count: Mapped[int | None] = mapped_column(Integer)
    file_name: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return self.title


IMPORT_ENTITIES = ("products", "stock", "customers", "prices")
IMPORT_FORMATS = ("csv", "xlsx")
IMPORT_MODES = ("all_or_nothing", "row_by_row")
# a dry run too large to answer in the request: checked by the job, nothing written
DRY_RUN = "dry_run"
# queued -> running -> completed | completed_with_errors | failed (all_or_nothing with bad rows:
# nothing written) | error (the job itself broke; rows committed so far stay, re-run resumes);
# a dry run ends validated (every row checked, its problems kept) or failed (an unreadable header)
IMPORT_STATUSES = (
    "queued",
    "running",
    "completed",
    "completed_with_errors",
    "failed",
    "error",
    "validated",
)
FINAL_STATUSES = ("completed", "completed_with_errors", "failed", "validated")


class DataImport(TenantScoped, Model):
    __tablename__ = "data_imports"
    # progress is bookkeeping (a checkpoint per chunk); the import itself is recorded by
    # app.security.audit.record_action when it is started and when it ends
    __audit__ = False
    __table_args__ = (Index("ix_data_imports_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    entity: Mapped[str] = mapped_column(String(16), nullable=False)
    format: Mapped[str] = mapped_column(String(8), nullable=False)
    mode: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(24), default="queued", nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    # the upload under <instance>/data-imports/<tenant id>/ (NULL once deleted)
    storage_name: Mapped[str | None] = mapped_column(String(64))
    file_bytes: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    rows_failed: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    rows_created: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    message: Mapped[str | None] = mapped_column(String(500))
    # the run that owns the import now (a resumed run takes it over from a dead one)
    run_token: Mapped[str | None] = mapped_column(String(32))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    @property
    def has_error_file(self) -> bool:
        return self.rows_failed > 0

    def __repr__(self) -> str:
        return f"import {self.id} ({self.entity})"


class DataImportError(TenantScoped, Model):
    """One failed row: its number in the file (1 = the header), its values as uploaded, its
    errors by column."""

    __tablename__ = "data_import_errors"
    __audit__ = False
    __table_args__ = (
        UniqueConstraint("import_id", "row_number", name="uq_data_import_errors_row"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    import_id: Mapped[int] = mapped_column(
        ForeignKey("data_imports.id", ondelete="CASCADE"), nullable=False
    )
    row_number: Mapped[int] = mapped_column(Integer, nullable=False)
    values: Mapped[list] = mapped_column(JSON, nullable=False)
    errors: Mapped[dict] = mapped_column(JSON, nullable=False)
