"""Backup and restore of one tenant's data (issue 18 item 5).

A backup is a directory: one JSON-lines file per table (`<table>.jsonl`, one row a line, columns
sorted, rows in primary-key order) and `manifest.json` recording the schema version (the alembic
heads the database is at), the tenant's own row, and each table's file and row count.

Which tables: every table with a tenant_id (its rows of that tenant), and the child tables reached
through them (a table without tenant_id whose foreign key points into the backup: a user's roles,
a category's filterable attributes). Left out, with their reason (EXCLUDED): delivery machinery
and secrets of sessions (outbox, idempotency keys, login sessions and one-time tokens, processed
webhooks, background exports).

Restore (`restore_tenant`) reads a backup into an empty tenant, or a new one it creates, in one
transaction (nothing is written when anything fails): every id is new, every foreign key (and the id
columns without a foreign key named in ID_COLUMNS, the JSON id lists of ID_LISTS, and the audit
trail's entity ids) follows its row; password hashes and encrypted secrets are copied as stored
(they stay valid where the encryption key is the same). A reference to a row outside the backup (a
global role, a Super Admin's user id on a stock movement, the 0 of "no message read yet") is kept as
it is. A restored row has no `source_event_id` (the id of an outbox event, not backed up, that its
consumer wrote the row for: unique, and applied already), and KYC documents get their own
`storage_name`.

Files: the KYC documents' files (kept under KYC_STORAGE_ROOT, outside the database) are copied into
the backup, `files/kyc_documents/<storage_name>`, each checked against its row's sha256; the
manifest's `files` says how many were copied and names any missing from the storage or not matching
their row (the backup is made anyway: the rows are the record). A restore writes each file under
its new name, checked again; a file in the backup that does not match its row stops the restore
(nothing written: no row, no file). A row whose file the backup does not hold is restored without
it, and counted in the result's `files_missing`.

Everything is Core SQL on the tables, with explicit tenant conditions: the ORM's tenant hooks do
not apply (and must not: a restore writes a tenant the request is not in).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask_appbuilder import Model

import app.models  # noqa: F401  (every table in the metadata)
from app.core.errors import Conflict, NotFound, ValidationError
from app.core.types import utcnow
from app.extensions import db
from app.sellers.kyc import storage_root
from app.tenants.models import Tenant
from app.tenants.services import clear_cache, validate_tenant_fields

FORMAT = 1
MANIFEST = "manifest.json"

# tables with a tenant_id that are not the shop's data: how it runs, not what it holds
EXCLUDED = {
    "outbox_events": "domain events already delivered (a restore must not deliver them again)",
    "idempotency_keys": "replies to requests already made",
    "auth_sessions": "login sessions: signing in again makes new ones",
    "one_time_tokens": "password-reset and e-mail links, single-use secrets",
    "processed_webhooks": "payment providers' webhook deliveries already applied",
    "data_exports": "files made for a user (and tenant backups) in the instance folder",
}
# id columns without a foreign key, and the table whose id they hold
ID_COLUMNS = {
    ("seller_bank_accounts", "verified_by_user_id"): "ab_user",
    ("payment_transactions", "customer_user_id"): "ab_user",
    ("payment_transactions", "refund_id"): "refunds",
    ("refunds", "created_by_user_id"): "ab_user",
    ("refunds", "retry_of_refund_id"): "refunds",
    ("chat_conversations", "last_message_id"): "chat_messages",
    ("chat_participants", "last_read_message_id"): "chat_messages",
    ("order_lines", "commission_rule_id"): "commission_rules",
    ("payout_items", "claimed_entry_id"): "seller_ledger_entries",
}
# columns holding the id of an outbox event (not backed up) an event consumer wrote the row for:
# the events were applied, nothing will deliver them again; a copy has none (they are unique)
EVENT_COLUMNS = "source_event_id"
# file names unique in the whole database whose files are kept outside it: a restored row names its
# own, and the backup's copy of its file (FILES_DIR/<table>/<old name>) is written under it
FILE_COLUMNS = {("kyc_documents", "storage_name"): 80}
FILES_DIR = "files"
# the audit trail names what it is about by its mapped class and its id as text (app.security
# .audit): a restore makes that text the id the entity has in the copy; the trail goes in last
AUDIT = ("audit_log", "entity", "entity_id")
# JSON columns holding a list of ids
ID_LISTS = {
    ("promotions", "product_ids"): "products",
    ("promotions", "category_ids"): "categories",
    ("promotions", "seller_ids"): "sellers",
}


def metadata() -> sa.MetaData:
    return Model.metadata


# --- what a backup holds --------------------------------------------------------------------


@dataclass
class Plan:
    """The tables of a backup in an order that inserts parents first, and each one's references:
    column -> referenced table (foreign keys and ID_COLUMNS)."""

    tables: list[sa.Table]
    refs: dict[str, dict[str, str]] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [t.name for t in self.tables]


def _references(table: sa.Table) -> dict[str, str]:
    refs = {}
    for column in table.c:
        for fk in column.foreign_keys:
            refs[column.name] = fk.column.table.name
        target = ID_COLUMNS.get((table.name, column.name))
        if target:
            refs[column.name] = target
    return refs


def plan() -> Plan:
    tables = metadata().tables
    chosen = {
        name: table
        for name, table in tables.items()
        if "tenant_id" in table.c and name not in EXCLUDED and name != "tenants"
    }
    # child tables: no tenant_id, a foreign key into the backup (repeat: children of children)
    grew = True
    while grew:
        grew = False
        for name, table in tables.items():
            if name in chosen or name in EXCLUDED or name == "tenants" or "tenant_id" in table.c:
                continue
            if any(target in chosen for target in _references(table).values()):
                chosen[name] = table
                grew = True
    refs = {name: _references(table) for name, table in chosen.items()}
    ordered = _insert_order(chosen, refs)
    # nothing refers to audit rows: last, when every entity they name has its new id
    ordered.sort(key=lambda table: table.name == AUDIT[0])
    return Plan(ordered, refs)


def _entity_tables() -> dict[str, str]:
    """Mapped class name -> its table, for the classes whose table has a single id column."""
    return {
        mapper.class_.__name__: mapper.local_table.name
        for mapper in Model.registry.mappers
        if isinstance(mapper.local_table, sa.Table) and len(mapper.local_table.primary_key) == 1
    }


def _entity_id(row: dict, id_maps: dict[str, dict], entities: dict[str, str]) -> str | None:
    """The audit row's entity id as the copy knows it: the new id of an entity in the backup; one
    that is not (a global user, a row deleted since, a composite key) is kept as it is."""
    old = row.get(AUDIT[2])
    table = entities.get(row.get(AUDIT[1]) or "")
    if old is None or table is None or not str(old).isdigit():
        return old
    return str(id_maps.get(table, {}).get(int(old), old))


def _insert_order(chosen: dict[str, sa.Table], refs: dict[str, dict[str, str]]) -> list[sa.Table]:
    """Parents before children (Kahn's order, by name among equals); a cycle is broken at a
    nullable reference (restore fills it in afterwards)."""

    def edges(name: str, strict: bool) -> set[str]:
        table = chosen[name]
        return {
            target
            for column, target in refs[name].items()
            if target in chosen and target != name and (not strict or not table.c[column].nullable)
        }

    needs = {name: edges(name, strict=False) for name in chosen}
    ordered: list[str] = []
    while needs:
        ready = sorted(name for name, deps in needs.items() if not deps - set(ordered))
        if not ready:  # a cycle: follow the non-nullable references only
            ready = sorted(name for name in needs if not edges(name, strict=True) - set(ordered))[
                :1
            ]
            if not ready:
                raise RuntimeError(f"tables in a cycle of required references: {sorted(needs)}")
        for name in ready:
            ordered.append(name)
            needs.pop(name)
    return [chosen[name] for name in ordered]


def _conditions(p: Plan, tenant_id: int) -> dict[str, sa.ColumnElement]:
    """Each table's rows of the tenant: `tenant_id = t`, or (a child table) a reference to a row
    of the backup."""
    conditions: dict[str, sa.ColumnElement] = {}
    by_name = {t.name: t for t in p.tables}

    def condition(name: str) -> sa.ColumnElement:
        if name not in conditions:
            table = by_name[name]
            if "tenant_id" in table.c:
                conditions[name] = table.c.tenant_id == tenant_id
            else:
                parts = []
                for column, target in p.refs[name].items():
                    if target in by_name and target != name:
                        parent = by_name[target]
                        pk = _single_pk(parent)
                        parts.append(table.c[column].in_(sa.select(pk).where(condition(target))))
                conditions[name] = sa.or_(*parts)
        return conditions[name]

    for table in p.tables:
        condition(table.name)
    return conditions


def _single_pk(table: sa.Table) -> sa.Column:
    pks = list(table.primary_key.columns)
    if len(pks) != 1:
        raise RuntimeError(f"{table.name}: a table referenced by id has one primary key column")
    return pks[0]


def schema_version() -> str:
    """The alembic heads the database is at, sorted and joined ("0029" or "0029,0030")."""
    rows = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
    return ",".join(sorted(rows))


# --- values as JSON -------------------------------------------------------------------------


def _kind(column: sa.Column) -> str:
    kind = column.type
    if isinstance(kind, sa.types.TypeDecorator):
        kind = kind.impl if isinstance(kind.impl, sa.types.TypeEngine) else kind.impl()
    if isinstance(kind, sa.JSON):
        return "json"
    if isinstance(kind, sa.DateTime):
        return "datetime"
    if isinstance(kind, sa.Date):
        return "date"
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return "decimal"
    if isinstance(kind, sa.LargeBinary):
        return "binary"
    return "plain"


def _raw_type(column: sa.Column):
    """The stored type of a column whose type rewrites values on the way (an EncryptedString
    decrypts when read): read and written as stored, so a secret stays encrypted in the backup;
    None for every other column."""
    kind = column.type
    if isinstance(kind, sa.types.TypeDecorator) and _kind(column) in ("plain", "binary"):
        impl = kind.impl
        return impl if isinstance(impl, sa.types.TypeEngine) else impl()
    return None


def _selected(table: sa.Table) -> list:
    columns = []
    for column in table.c:
        raw = _raw_type(column)
        columns.append(column if raw is None else sa.type_coerce(column, raw).label(column.name))
    return columns


def _dump(value, kind: str):
    if value is None or kind == "json":
        return value
    if kind == "datetime":
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    if kind == "date":
        return value.isoformat()
    if kind == "decimal":
        return str(value)
    if kind == "binary":
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    return value


def _load(value, kind: str):
    if value is None or kind in ("json", "plain"):
        return value
    if kind == "datetime":
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "decimal":
        return Decimal(value)
    if kind == "binary":
        return base64.b64decode(value)
    return value


# --- backup ---------------------------------------------------------------------------------


@dataclass
class BackupResult:
    directory: Path
    tenant_slug: str
    schema_version: str
    counts: dict[str, int]
    files: dict = field(default_factory=dict)  # the manifest's `files`


def _tenant_by_slug(slug: str) -> Tenant | None:
    row = db.session.execute(sa.select(Tenant.__table__).where(Tenant.__table__.c.slug == slug))
    return row.mappings().first()


def backup_tenant(slug: str, directory: Path | str) -> BackupResult:
    """Write tenant `slug`'s data into `directory` (created; files there are replaced)."""
    tenant = _tenant_by_slug(slug)
    if tenant is None:
        raise NotFound(f"no tenant {slug!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    p = plan()
    conditions = _conditions(p, tenant["id"])
    counts: dict[str, int] = {}
    connection = db.session.connection()
    for table in p.tables:
        kinds = {c.name: _kind(c) for c in table.c}
        stmt = (
            sa.select(*_selected(table))
            .where(conditions[table.name])
            .order_by(*table.primary_key.columns)
            .execution_options(yield_per=2000)
        )
        count = 0
        with open(directory / f"{table.name}.jsonl", "w", encoding="utf-8") as fh:
            for row in connection.execute(stmt).mappings():
                line = {name: _dump(value, kinds[name]) for name, value in row.items()}
                fh.write(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n")
                count += 1
        counts[table.name] = count
    files = _backup_files(directory, tenant["id"])
    version = schema_version()
    tenant_kinds = {c.name: _kind(c) for c in Tenant.__table__.c}
    manifest = {
        "files": files,
        "format": FORMAT,
        "schema_version": version,
        "created_at": utcnow().isoformat(),
        "tenant": {k: _dump(v, tenant_kinds[k]) for k, v in tenant.items()},
        "tables": {
            table.name: {"file": f"{table.name}.jsonl", "rows": counts[table.name]}
            for table in p.tables
        },
        "insert_order": p.names(),
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return BackupResult(directory, slug, version, counts, files)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _backup_files(directory: Path, tenant_id: int) -> dict:
    """Copy the tenant's KYC files into the backup; what was copied, missing or not matching."""
    target = directory / FILES_DIR / "kyc_documents"
    copied, missing, mismatched = 0, [], []
    for row in rows_of(directory, "kyc_documents"):
        name = row.get("storage_name")
        if not name:
            continue
        source = storage_root() / str(tenant_id) / name
        if not source.is_file():
            missing.append(name)
            continue
        if _sha256(source) != row.get("sha256"):
            mismatched.append(name)
            continue
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target / name)
        copied += 1
    return {
        "kyc_documents": {
            "dir": f"{FILES_DIR}/kyc_documents",
            "copied": copied,
            "missing": missing,
            "mismatched": mismatched,
        }
    }


def read_manifest(directory: Path | str) -> dict:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise NotFound(f"no {MANIFEST} in {directory}: not a tenant backup")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValidationError(f"{MANIFEST} is not valid JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValidationError(f"{MANIFEST}: not a backup of format {FORMAT}")
    return manifest


def rows_of(directory: Path | str, table: str) -> Iterator[dict]:
    with open(Path(directory) / f"{table}.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


# --- restore --------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    tenant_id: int
    tenant_slug: str
    created: bool
    counts: dict[str, int]
    files_missing: int = 0  # KYC rows restored whose file the backup does not hold


def tenant_row_count(tenant_id: int) -> int:
    """Rows the tenant holds in the tables a backup holds (0: an empty tenant)."""
    total = 0
    for table in plan().tables:
        if "tenant_id" in table.c:
            total += db.session.execute(
                sa.select(sa.func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
            ).scalar_one()
    return total


def restore_tenant(directory: Path | str, into_slug: str, name: str | None = None) -> RestoreResult:
    """Read the backup in `directory` into tenant `into_slug`: an existing tenant that holds no
    rows, or a new one (the backup's settings, this slug, no domain). One transaction."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    version = schema_version()
    if manifest.get("schema_version") != version:
        raise Conflict(
            f"the backup is of schema {manifest.get('schema_version')!r}, this database is at "
            f"{version!r}: restore it into a database at the same migration",
            details={"backup": manifest.get("schema_version"), "database": version},
        )
    p = plan()
    unknown = set(manifest.get("tables", {})) - set(p.names())
    if unknown:
        raise ValidationError(f"the backup holds tables this version does not: {sorted(unknown)}")
    written: list[Path] = []
    try:
        existing = _tenant_by_slug(into_slug)
        created = existing is None
        tenant_id = _new_tenant(manifest, into_slug, name) if created else existing["id"]
        if not created and tenant_row_count(tenant_id):
            raise Conflict(
                f"tenant {into_slug!r} holds data: restore into an empty or a new tenant",
                details={"tenant": into_slug},
            )
        counts = _insert_all(directory, manifest, p, tenant_id)
        files_missing = _restore_files(directory, manifest, tenant_id, written)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for path in written:
            path.unlink(missing_ok=True)  # the rows are gone with the rollback: so are their files
        raise
    clear_cache()
    return RestoreResult(tenant_id, into_slug, created, counts, files_missing)


def _restore_files(directory: Path, manifest: dict, tenant_id: int, written: list[Path]) -> int:
    """Write the backup's KYC files under the restored rows' names (appending each to `written`);
    the number of rows whose file the backup does not hold. A file that does not match its row's
    sha256 raises ValidationError."""
    if "kyc_documents" not in manifest.get("tables", {}):
        return 0
    source_dir = directory / FILES_DIR / "kyc_documents"
    missing = 0
    for row in rows_of(directory, "kyc_documents"):
        old = row.get("storage_name")
        if not old:
            continue
        source = source_dir / old
        if not source.is_file():
            missing += 1
            continue
        if _sha256(source) != row.get("sha256"):
            raise ValidationError(
                f"{FILES_DIR}/kyc_documents/{old} does not match its row's sha256: the backup is "
                "damaged",
                details={"file": old},
            )
        target = storage_root() / str(tenant_id) / _restored_file_name(tenant_id, old)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(source, "rb") as src, open(target, "xb") as out:  # a new name: never overwrites
            written.append(target)
            shutil.copyfileobj(src, out)
        os.chmod(target, 0o600)
    return missing


def _restored_file_name(tenant_id: int, old: str, size: int = 80) -> str:
    return f"r{tenant_id}-{old}"[:size]


def _new_tenant(manifest: dict, slug: str, name: str | None) -> int:
    validate_tenant_fields(slug=slug)
    table = Tenant.__table__
    kinds = {c.name: _kind(c) for c in table.c}
    values = {
        key: _load(value, kinds[key])
        for key, value in (manifest.get("tenant") or {}).items()
        if key in table.c and key not in ("id", "slug", "domain")
    }
    values.update(slug=slug, domain=None)
    if name:
        values["name"] = name
    values.setdefault("name", slug)
    result = db.session.connection().execute(table.insert().values(**values))
    return result.inserted_primary_key[0]


def _insert_all(directory: Path, manifest: dict, p: Plan, tenant_id: int) -> dict[str, int]:
    connection = db.session.connection()
    id_maps: dict[str, dict[int, int]] = {}
    done: set[str] = set()
    deferred: list[tuple] = []
    counts: dict[str, int] = {}
    in_backup = set(p.names())
    for table in p.tables:
        if table.name not in manifest.get("tables", {}):
            continue  # a table the backup's version did not have (same schema: none)
        refs = p.refs[table.name]
        kinds = {c.name: _kind(c) for c in table.c}
        raw = {c.name: r for c in table.c if (r := _raw_type(c)) is not None}
        pk = list(table.primary_key.columns)
        own_ids = (
            len(pk) == 1
            and not pk[0].foreign_keys
            and (table.name, pk[0].name) not in ID_COLUMNS
            and isinstance(pk[0].type, sa.Integer)
        )
        mapping = id_maps.setdefault(table.name, {})
        entities = _entity_tables() if table.name == AUDIT[0] else None
        count = 0
        for row in rows_of(directory, table.name):
            values = {k: _load(v, kinds[k]) for k, v in row.items() if k in table.c}
            later: list[tuple[str, str, object]] = []
            if "tenant_id" in values:
                values["tenant_id"] = tenant_id
            for column, target in refs.items():
                old = values.get(column)
                if old is None or target not in in_backup:
                    continue  # outside the backup (a global role, a Super Admin): kept
                if target in done:
                    values[column] = _mapped(id_maps, target, old, table.name, column)
                else:  # a parent inserted later (a cycle) or this very table: filled in after
                    values[column] = None
                    later.append((column, target, old))
            for (tname, column), target in ID_LISTS.items():
                if tname == table.name and isinstance(values.get(column), list):
                    values[column] = [
                        id_maps.get(target, {}).get(i, i) if isinstance(i, int) else i
                        for i in values[column]
                    ]
            if entities is not None:
                values[AUDIT[2]] = _entity_id(values, id_maps, entities)
            if values.get(EVENT_COLUMNS) is not None:
                values[EVENT_COLUMNS] = None
            for (tname, column), size in FILE_COLUMNS.items():
                if tname == table.name and values.get(column):
                    values[column] = _restored_file_name(tenant_id, values[column], size)
            for column, stored in raw.items():
                if values.get(column) is not None:
                    values[column] = sa.type_coerce(values[column], stored)
            old_id = values.pop(pk[0].name) if own_ids else None
            result = connection.execute(table.insert().values(**values))
            if own_ids:
                new_id = result.inserted_primary_key[0]
                mapping[old_id] = new_id
                # an UPDATE would stamp onupdate columns (updated_at): they keep the backup's
                kept = {c.name: values[c.name] for c in table.c if c.onupdate and c.name in values}
                deferred.extend((table, pk[0], new_id, c, t, o, kept) for c, t, o in later)
            elif later:
                raise RuntimeError(f"{table.name}: a deferred reference needs an own id")
            count += 1
        done.add(table.name)
        counts[table.name] = count
    for table, pk, new_id, column, target, old, kept in deferred:
        connection.execute(
            table.update()
            .where(pk == new_id)
            .values({**kept, column: _mapped(id_maps, target, old, table.name, column)})
        )
    return counts


def _mapped(id_maps, target: str, old, table: str, column: str):
    """The new id of `target` #old; an id the backup does not hold (a Super Admin's user id, the
    0 some counters use for "none yet") is kept as it is."""
    return id_maps.get(target, {}).get(old, old)


# --- comparing backups ------------------------------------------------------------------------


def normalised(directory: Path | str) -> dict[str, list[dict]]:
    """Every table's rows with ids replaced by their rank in their table (1 for the smallest id
    backed up) and the tenant left out: two backups of the same data, whatever their ids, are
    equal. For checking a round trip (backup -> restore -> backup)."""
    manifest = read_manifest(directory)
    p = plan()
    by_name = {t.name: t for t in p.tables}
    tables = [name for name in manifest["tables"] if name in by_name]
    ranks: dict[str, dict] = {}
    rows: dict[str, list[dict]] = {}
    entities = _entity_tables()
    for name in tables:
        rows[name] = list(rows_of(directory, name))
        pk = list(by_name[name].primary_key.columns)
        if len(pk) == 1:
            ids = sorted(r[pk[0].name] for r in rows[name] if r.get(pk[0].name) is not None)
            ranks[name] = {old: rank for rank, old in enumerate(ids, 1)}
    out: dict[str, list[dict]] = {}
    for name in tables:
        table = by_name[name]
        pk = list(table.primary_key.columns)
        refs = p.refs[name]
        shaped = []
        for row in rows[name]:
            row = dict(row)
            row.pop("tenant_id", None)
            row.pop(EVENT_COLUMNS, None)  # cleared by a restore
            for tname, column in FILE_COLUMNS:
                if tname == name:
                    row.pop(column, None)  # renamed by a restore
            if len(pk) == 1 and pk[0].name in row and name in ranks:
                row[pk[0].name] = ranks[name].get(row[pk[0].name], row[pk[0].name])
            for column, target in refs.items():
                if column in row and target in ranks and row[column] is not None:
                    row[column] = ("#", ranks[target].get(row[column], row[column]))
            for (tname, column), target in ID_LISTS.items():
                if tname == name and isinstance(row.get(column), list):
                    row[column] = [ranks.get(target, {}).get(i, i) for i in row[column]]
            if name == AUDIT[0]:
                row[AUDIT[2]] = _entity_id(row, ranks, entities)
            shaped.append(row)
        out[name] = shaped
    return out


# --- a backup as a background job (a Super Admin's action: the zip under My exports) --------------


def backup_zip(slug: str, path: Path) -> int:
    """Tenant `slug`'s backup as one zip at `path` (written through a temporary name); the number
    of rows backed up."""
    import tempfile
    import zipfile

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with tempfile.TemporaryDirectory() as tmp:
        result = backup_tenant(slug, tmp)
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(Path(tmp).rglob("*")):
                if file.is_file():
                    archive.write(file, arcname=file.relative_to(tmp).as_posix())
    partial.replace(path)
    return sum(result.counts.values())


def backup_source(export, path: Path) -> int:
    """app.dataio.exports' source of kind "backup": the export's `source` is the tenant's slug."""
    from app.core.tenancy import unscoped

    with unscoped():
        return backup_zip(export.source, path)
