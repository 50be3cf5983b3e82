"""Export cells (app.dataio.exports): formulas neutralised in CSV and XLSX, values written plainly,
and the XLSX the same table as the CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from openpyxl import load_workbook

from app.dataio import exports

HOSTILE = ["=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")']


def test_formula_starts_are_quoted_and_everything_else_is_kept():
    for value in HOSTILE:
        assert exports.neutralise(value) == "'" + value
    for value in ("plain", "a=b", " =x", "", "'already"):
        assert exports.neutralise(value) == value
    assert exports.neutralise(-5) == -5 and exports.neutralise(Decimal("-1.50")) == Decimal("-1.50")


def _table():
    header = ["text", "number", "money", "when", "json", "none", "flag"]
    rows = [
        (
            value,
            -3,
            Decimal("-12.50"),
            dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            {"a": 1},
            None,
            True,
        )
        for value in HOSTILE + ["ok\x01"]
    ]
    return header, rows


def test_csv_and_xlsx_carry_the_same_neutralised_cells():
    header, rows = _table()
    text = b"".join(exports.csv_chunks(header, iter(rows))).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == header
    assert [row[0] for row in parsed[1:-1]] == ["'" + v for v in HOSTILE]
    assert parsed[1][1:] == ["-3", "-12.50", "2026-01-02T03:04:05+00:00", '{"a": 1}', "", "true"]

    data = b"".join(exports.xlsx_chunks(header, iter(rows), "Cells"))
    sheet = load_workbook(io.BytesIO(data), read_only=True)["Cells"]
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == header
    # XML reads a carriage return back as a line feed: the quote is what matters
    assert [row[0] for row in cells[1:-1]] == ["'" + v.replace("\r", "\n") for v in HOSTILE]
    assert cells[-1][0] == "ok"  # a control character XML cannot hold is dropped
    first = cells[1]
    assert first[1] == -3 and Decimal(str(first[2])) == Decimal("-12.5")
    assert first[3] == "2026-01-02T03:04:05+00:00" and first[5] is None and first[6] is True


def test_write_file_is_complete_or_absent(tmp_path):
    header, rows = _table()
    target = tmp_path / "sub" / "out.csv"
    assert exports.write_file(target, "csv", header, iter(rows)) == len(rows)
    assert target.is_file() and not (tmp_path / "sub" / "out.csv.part").exists()
