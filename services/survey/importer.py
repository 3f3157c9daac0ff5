"""Bulk import of units and officials from CSV or XLSX: all rows valid, or nothing written.

Columns (header row, any order): kind (unit or official), code, name, unit, parent,
position, emails (';'-separated), webhook_url. Rows may refer to units defined in the
same file, in any order; units are written parents first. Each row is checked with the
API's own schemas (`UnitIn`, `OfficialIn`) and parent rule (`domain.parent_error`), so
the import accepts exactly what the API accepts.
"""

from __future__ import annotations

import csv
import io
from collections import ChainMap
from collections.abc import Iterator
from dataclasses import dataclass, field

from marshmallow import ValidationError

from services.survey import domain
from services.survey.schemas import OfficialIn, UnitIn
from services.survey.store import Notify, directory
from shared.problems import flatten_errors
from shared.schemas import CODE, is_code

COLUMNS = ("kind", "code", "name", "unit", "parent", "position", "emails", "webhook_url")
CSV_TYPES = ("text/csv", "application/csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 20_000
# Blank rows are skipped, but not without end (a sheet can declare a million of them).
MAX_LINES = 2 * MAX_ROWS
# Only the columns of its kind may be filled in a row; the API field each column feeds.
KIND_COLUMNS = {
    "unit": {"name": "name", "parent": "parent", "emails": "emails",
             "webhook_url": "webhook_url"},
    "official": {"name": "full_name", "unit": "unit", "position": "position"},
}
KIND_SCHEMAS = {"unit": UnitIn(), "official": OfficialIn()}
MISPLACED = {
    ("unit", "unit"): "applies to officials; a unit's own parent goes in 'parent'",
    ("unit", "position"): "applies to officials, not units",
}


class UnreadableFile(ValueError):
    """The body is not a CSV (UTF-8) or XLSX file we can read."""


@dataclass
class Plan:
    units: list[tuple[str, dict]] = field(default_factory=list)
    officials: list[tuple[str, dict]] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append({"row": row, "field": column, "message": message})


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


def plan_import(rows: list[tuple[int, dict]]) -> Plan:
    """Validate every row against the file and the directory; collect every problem."""
    plan = Plan()
    _check_header(plan, rows[0][1]["__header__"])
    if plan.errors:
        return plan
    seen: dict[tuple[str, str], int] = {}
    file_parents: dict[str, str | None] = {}
    unit_rows: dict[str, int] = {}
    official_rows: list[tuple[int, str]] = []
    for number, row in rows[1:]:
        kind, code = row.get("kind", "").lower(), row.get("code", "")
        if kind not in KIND_COLUMNS:
            plan.error(number, "kind", "must be 'unit' or 'official'")
            continue
        if not is_code(code):
            plan.error(number, "code", CODE.error)
            continue
        if (kind, code) in seen:
            plan.error(number, "code", f"{kind} {code} is already on row {seen[(kind, code)]}")
            continue
        seen[(kind, code)] = number
        data = _load_row(plan, number, kind, row)
        # checked against the directory even when another field of the row is not valid,
        # so that one answer lists every problem
        link = row.get("parent" if kind == "unit" else "unit", "")
        link = link if is_code(link) else None
        if kind == "unit":
            file_parents[code], unit_rows[code] = link, number
        elif link:
            official_rows.append((number, link))
        if data is not None:
            (plan.units if kind == "unit" else plan.officials).append((code, data))
    # the file's units over the directory's: a unit moved by the file counts as moved
    parents = ChainMap(file_parents, directory.UnitParents())
    for code, number in unit_rows.items():
        problem = domain.parent_error(code, file_parents[code], parents)
        if problem:
            plan.error(number, "parent", problem)
    for number, unit in official_rows:
        if unit not in parents:
            plan.error(number, "unit", f"unknown unit {unit!r}")
    plan.units = _parents_first(plan.units)
    plan.errors.sort(key=lambda e: (e["row"], e["field"]))
    return plan


def _check_header(plan: Plan, header: list[str]) -> None:
    for position, name in enumerate(header):
        if name and name not in COLUMNS:
            plan.error(1, name, f"unknown column; the columns are {', '.join(COLUMNS)}")
        elif name and name in header[:position]:
            plan.error(1, name, "this column appears twice")
    for required in ("kind", "code", "name"):
        if required not in header:
            plan.error(1, required, "missing column")


def _load_row(plan: Plan, number: int, kind: str, row: dict) -> dict | None:
    """The row as the API body of its kind, checked by the API's schema; None if invalid."""
    columns = KIND_COLUMNS[kind]
    body: dict = {}
    valid = True
    for column, value in row.items():
        if not value or column in ("kind", "code"):
            continue
        if column not in columns:
            plan.error(number, column,
                       MISPLACED.get((kind, column), "applies to units, not officials"))
            valid = False
            continue
        body[columns[column]] = _split_emails(value) if column == "emails" else value
    try:
        data = KIND_SCHEMAS[kind].load(body)
    except ValidationError as exc:
        to_column = {api: column for column, api in columns.items()}
        for name, messages in flatten_errors(exc.messages).items():
            api_field, _, item = name.partition(".")
            for message in messages:
                if item.isdigit():  # one address of the list
                    message = f"{body[api_field][int(item)]!r}: {message}"
                plan.error(number, to_column.get(api_field, api_field), message)
        return None
    return data if valid else None


def _split_emails(text: str) -> list[str]:
    return [e for e in (part.strip() for part in text.split(";")) if e]


def _parents_first(units: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    by_code = dict(units)
    ordered: list[tuple[str, dict]] = []
    done: set[str] = set()

    def visit(code: str) -> None:
        if code in done or code not in by_code:
            return
        done.add(code)
        parent = by_code[code].get("parent")
        if parent:
            visit(parent)
        ordered.append((code, by_code[code]))

    for code, _ in units:
        visit(code)
    return ordered


def apply_plan(plan: Plan, notify: Notify, correlationid: str | None) -> dict:
    """Write a validated plan; return {created, updated}. An official keeps the `active`
    flag it has (the file has no such column)."""
    created = updated = 0

    def count(result: tuple[dict, bool]) -> None:
        nonlocal created, updated
        created, updated = created + result[1], updated + (not result[1])

    for code, data in plan.units:
        count(directory.upsert_unit(code, data, correlationid=correlationid, notify=notify))
    active = {code: o.get("active", True) for code, o in
              directory.officials([code for code, _ in plan.officials]).items()}
    for code, data in plan.officials:
        data = {**data, "active": active.get(code, True)}
        count(directory.upsert_official(code, data, correlationid=correlationid,
                                        notify=notify))
    return {"created": created, "updated": updated}
