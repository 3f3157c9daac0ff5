"""Reading an import file: the rows of a CSV (UTF-8, comma, semicolon or tab separated)
or of an XLSX workbook's first sheet, as text, streamed and bounded."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

CSV_TYPES = ("text/csv", "application/csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 20_000
# Blank rows are skipped, but not without end (a sheet can declare a million of them).
MAX_LINES = 2 * MAX_ROWS


class UnreadableFile(ValueError):
    """The body is not a CSV (UTF-8) or XLSX file we can read."""


def read_rows(body: bytes, mimetype: str) -> list[tuple[int, dict]]:
    """(row number, {column: text}) for each data row, after (0, {"__header__": [...]});
    row 1 is the header. Reading stops at the first row past MAX_ROWS."""
    table = _xlsx_rows(body) if mimetype == XLSX_TYPE else _csv_rows(body)
    first = next(table, None)
    if first is None or not any(c.strip() for c in first[1]):
        raise UnreadableFile("the file has no header row")
    header = [c.strip().lower() for c in first[1]]
    rows = []
    for number, cells in table:
        if not any(c.strip() for c in cells):
            if number > MAX_LINES:
                raise UnreadableFile(f"more than {MAX_LINES} lines; remove the blank ones")
            continue  # blank lines between blocks are common in hand-made sheets
        if len(rows) == MAX_ROWS:
            raise UnreadableFile(f"more than {MAX_ROWS} rows; split the file")
        rows.append((number, {h: (cells[i].strip() if i < len(cells) else "")
                              for i, h in enumerate(header) if h}))
    return [(0, {"__header__": header}), *rows]


def _csv_rows(body: bytes) -> Iterator[tuple[int, list[str]]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("the CSV file is not UTF-8 text "
                             "(in Excel: Save As, 'CSV UTF-8')") from None
    try:
        yield from enumerate(csv.reader(io.StringIO(text), delimiter=_delimiter(text)), 1)
    except csv.Error as exc:
        raise UnreadableFile(f"not a CSV file: {exc}") from None


def _delimiter(text: str) -> str:
    """The header row's separator: a comma, or the semicolon that Excel writes where the
    decimal mark is a comma (Vietnamese regional settings), or a tab."""
    header = text.split("\n", 1)[0]
    return max(_DELIMITERS, key=header.count)  # a tie (no separator at all): the comma


_DELIMITERS = (",", ";", "\t")


def _xlsx_rows(body: bytes) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells as text) of the first worksheet, streamed: the reader stops as
    soon as the caller does, and a huge sheet is never held whole.

    openpyxl's own row parser, without its read-only worksheet: that one first scans the
    whole sheet for its size when the sheet does not state it (seconds for 300,000 rows).
    """
    import zipfile
    from xml.etree.ElementTree import ParseError

    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._reader import WorkSheetParser

    broken = (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, ParseError)
    try:
        reader = ExcelReader(io.BytesIO(body), read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        path = next((rel.target for _, rel in reader.parser.find_sheets()
                     if "worksheet" in rel.Type and rel.target in reader.valid_files), None)
        if path is None:
            raise ValueError("it has no worksheet")
        source = reader.archive.open(path)
    except broken as exc:
        raise UnreadableFile(f"not an XLSX workbook: {exc}") from None
    try:
        with source:
            parser = WorkSheetParser(source, reader.shared_strings, data_only=True)
            for number, cells in parser.parse():
                row = [""] * max((c["column"] for c in cells), default=0)
                for cell in cells:
                    row[cell["column"] - 1] = "" if cell["value"] is None else str(cell["value"])
                yield number, row
    except broken as exc:
        raise UnreadableFile(f"the worksheet cannot be read: {exc}") from None
    finally:
        reader.archive.close()
