"""Cells safe to open in a spreadsheet program, for every CSV and XLSX congso writes
(yearly reports, dashboard downloads, the audit log).

Text that a spreadsheet would run as a formula (OWASP, "CSV injection": a unit or official
named "=HYPERLINK(...)") is written with a leading apostrophe; in XLSX it is also stored as
text, since openpyxl stores a string beginning with "=" as a formula. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """A cell's value safe for Excel and LibreOffice: text beginning with =, +, -, @, tab or
    carriage return gets a leading apostrophe; numbers and None stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def safe_cells(values: Iterable) -> list:
    """One row as written: None as an empty cell, text made safe."""
    return [safe_text("" if v is None else v) for v in values]


def append_row(sheet, values: Iterable) -> int:
    """Append a row of safe cells to an openpyxl sheet, text stored as text; return the
    row's number."""
    sheet.append([None if v == "" else v for v in safe_cells(values)])
    row = sheet.max_row
    for cell in sheet[row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
    return row


def csv_bytes(rows: Iterable[Iterable]) -> bytes:
    """Rows as CSV in UTF-8 with a byte-order mark (so Excel reads Vietnamese right)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow(safe_cells(row))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
