"""Files of an import: type sniffing, storage under the instance folder, streaming readers
(csv module; openpyxl read_only) and writers of templates and error files in the format
uploaded.

Nothing here holds a whole file in memory: an upload is copied in 64 KiB blocks (refused as soon
as it passes DATA_IMPORT_MAX_BYTES), a CSV is read line by line, an XLSX by openpyxl's read-only
parser (row by row from the zip), and the writers stream (csv.writer; openpyxl write_only).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import queue
import re
import secrets
import threading
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from app.core.errors import DomainError, ValidationError
from app.dataio.errors import DataioError

BLOCK = 64 * 1024
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
CONTENT_TYPES = {"csv": CSV_CONTENT_TYPE, "xlsx": XLSX_CONTENT_TYPE}
# a cell that a spreadsheet would run as a formula: written back with a leading apostrophe
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")  # "-5" is a number, not a formula: kept as it is


class FileTooLarge(DomainError):
    status = 413
    code = DataioError.FILE_TOO_LARGE


class UnsupportedFile(DomainError):
    status = 415
    code = DataioError.UNSUPPORTED_FILE_TYPE


def max_bytes() -> int:
    return int(current_app.config["DATA_IMPORT_MAX_BYTES"])


def storage_root() -> Path:
    return Path(current_app.config["DATA_IMPORT_DIR"])


def path_of(tenant_id: int, storage_name: str) -> Path:
    return storage_root() / str(tenant_id) / storage_name


def store_upload(stream: BinaryIO, tenant_id: int) -> tuple[str, str, int]:
    """Copy an upload under DATA_IMPORT_DIR/<tenant id>/ with a random name; (format, storage
    name, size). Refused (and nothing kept) when larger than DATA_IMPORT_MAX_BYTES (413), empty
    (422) or neither an XLSX workbook nor UTF-8 text (415)."""
    folder = storage_root() / str(tenant_id)
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16)
    target = folder / name
    limit, size = max_bytes(), 0
    try:
        with target.open("wb") as out:
            while block := stream.read(BLOCK):
                size += len(block)
                if size > limit:
                    raise FileTooLarge(
                        f"the file is larger than {limit} bytes",
                        details={"file": f"at most {limit} bytes"},
                    )
                out.write(block)
        if size == 0:
            raise ValidationError("the file is empty", details={"file": "empty"})
        fmt = sniff(target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    final = f"{name}.{fmt}"
    target.rename(folder / final)
    return fmt, final, size


def sniff(path: Path) -> str:
    """ "xlsx" for a zip holding a workbook, "csv" for UTF-8 text without NUL bytes; anything else
    is refused (415), whatever its name says."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile as exc:
            raise _unsupported() from exc
        if "xl/workbook.xml" in names and "[Content_Types].xml" in names:
            return "xlsx"
        raise _unsupported()
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        try:
            while block := fh.read(BLOCK):
                if b"\x00" in block:
                    raise _unsupported()
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise _unsupported() from exc
    return "csv"


def _unsupported() -> UnsupportedFile:
    return UnsupportedFile(
        "the file is neither CSV (UTF-8 text) nor an XLSX workbook",
        details={"file": "CSV (UTF-8) or XLSX"},
    )


def _cell(value) -> str:
    """A spreadsheet cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_rows(path: Path, fmt: str) -> Iterator[list[str]]:
    """Every row of the file (the header first) as a list of strings, streamed."""
    if fmt == "csv":
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                yield [cell.strip() for cell in row]
        return
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell(value) for value in row]
    finally:
        workbook.close()


def prefetched(rows: Iterator[list[str]], depth: int = 2000) -> Iterator[list[str]]:
    """`rows`, read ahead on a thread of their own into a bounded queue: parsing a file (pure
    Python for XLSX) then overlaps the database round trips of the rows before it, instead of
    waiting for them. At most `depth` rows are held; an error of the reader is raised here."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def read() -> None:
        try:
            yield_rows(rows)
            buffer.put((done, None))
        except BaseException as exc:  # handed to the consumer
            buffer.put((done, exc))
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()  # the reader's own generator: its file or workbook is closed here

    def yield_rows(rows) -> None:
        for row in rows:
            while not stop.is_set():
                try:
                    buffer.put(row, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return

    reader = threading.Thread(target=read, name="import-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = buffer.get()
            if isinstance(item, tuple) and item and item[0] is done:
                if item[1] is not None:
                    raise item[1]
                return
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # let a blocked put() see the stop
            try:
                buffer.get_nowait()
            except queue.Empty:
                reader.join(0.05)


def count_rows(path: Path, fmt: str) -> int | None:
    """Data rows of the file (the header not counted), for progress: a CSV is read once more
    (blank rows not counted; reading a CSV is cheap); an XLSX gives the dimension its sheet
    records (Excel writes one), else None (unknown until the import has read it all: parsing a
    sheet twice would double the cost of its import)."""
    if fmt == "xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            max_row = workbook.worksheets[0].max_row
        finally:
            workbook.close()
        return None if max_row is None else max(max_row - 1, 0)
    rows = read_rows(path, fmt)
    next(rows, None)
    return sum(1 for row in rows if any(row))


def neutralise(value) -> str:
    """A cell that would start a formula in a spreadsheet is written with a leading apostrophe
    (a plain number such as -5 is left as it is)."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_table(fmt: str, rows: Iterable[list], out: BinaryIO) -> None:
    """Write `rows` (the header first) to `out` as CSV (UTF-8) or XLSX, streamed."""
    if fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text)
        for row in rows:
            writer.writerow([neutralise(v) for v in row])
        text.detach()
        return
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    for row in rows:
        sheet.append([neutralise(v) for v in row])
    workbook.save(out)


def remove(tenant_id: int, storage_name: str | None) -> None:
    if storage_name:
        try:
            os.unlink(path_of(tenant_id, storage_name))
        except FileNotFoundError:
            pass
