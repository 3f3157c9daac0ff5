"""Bulk import of units and officials from CSV or XLSX: all rows valid, or nothing written.

Columns (header row, any order): kind (unit or official), code, name, unit, parent,
position, emails (';'-separated), webhook_url. Rows may refer to units defined in the
same file, in any order; units are written parents first.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from marshmallow import ValidationError, validate

from services.survey import directory
from services.survey.documents import Official, Unit
from shared.schemas import CODE

COLUMNS = ("kind", "code", "name", "unit", "parent", "position", "emails", "webhook_url")
CSV_TYPES = ("text/csv", "application/csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 20_000

_email = validate.Email()
_url = validate.URL(require_tld=False, schemes={"http", "https"})


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
    """(row number, {column: text}) for each data row; row 1 is the header."""
    if mimetype == XLSX_TYPE:
        table = _xlsx_table(body)
    else:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UnreadableFile("the CSV file is not UTF-8 text "
                                 "(in Excel: Save As, 'CSV UTF-8')") from None
        try:
            table = list(csv.reader(io.StringIO(text), delimiter=_delimiter(text)))
        except csv.Error as exc:
            raise UnreadableFile(f"not a CSV file: {exc}") from None
    if not table or not any(c.strip() for c in table[0]):
        raise UnreadableFile("the file has no header row")
    header = [c.strip().lower() for c in table[0]]
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # blank lines between blocks are common in hand-made sheets
        rows.append((number, {h: (cells[i].strip() if i < len(cells) else "")
                              for i, h in enumerate(header) if h}))
    if len(rows) > MAX_ROWS:
        raise UnreadableFile(f"more than {MAX_ROWS} rows; split the file")
    return [(0, {"__header__": header}), *rows]


def _delimiter(text: str) -> str:
    """The header row's separator: a comma, or the semicolon that Excel writes where the
    decimal mark is a comma (Vietnamese regional settings), or a tab."""
    header = text.split("\n", 1)[0]
    return max(_DELIMITERS, key=header.count)  # a tie (no separator at all): the comma


_DELIMITERS = (",", ";", "\t")


def _xlsx_table(body: bytes) -> list[list[str]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile(f"not an XLSX workbook: {exc}") from None
    try:
        sheet = book.worksheets[0]
        return [["" if v is None else str(v) for v in row]
                for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def plan_import(rows: list[tuple[int, dict]]) -> Plan:
    """Validate every row against the file and the directory; collect every problem."""
    plan = Plan()
    header = rows[0][1]["__header__"]
    for name in header:
        if name and name not in COLUMNS:
            plan.error(1, name, f"unknown column; the columns are {', '.join(COLUMNS)}")
    for required in ("kind", "code", "name"):
        if required not in header:
            plan.error(1, required, "missing column")
    if plan.errors:
        return plan

    seen: dict[tuple[str, str], int] = {}
    file_units: dict[str, tuple[int, str | None]] = {}
    officials: list[tuple[int, dict]] = []
    for number, row in rows[1:]:
        kind = row.get("kind", "").lower()
        code = row.get("code", "")
        if kind not in ("unit", "official"):
            plan.error(number, "kind", "must be 'unit' or 'official'")
            continue
        if not _valid_code(code):
            plan.error(number, "code", CODE.error)
            continue
        if (kind, code) in seen:
            plan.error(number, "code", f"{kind} {code} is already on row {seen[(kind, code)]}")
            continue
        seen[(kind, code)] = number
        name = row.get("name", "")
        if not name:
            plan.error(number, "name", "is required")
        elif len(name) > 300:
            plan.error(number, "name", "is longer than 300 characters")
        if kind == "unit":
            _check_unit_row(plan, number, row)
            file_units[code] = (number, row.get("parent") or None)
            plan.units.append((code, {
                "name": name, "parent": row.get("parent") or None,
                "emails": _emails(row.get("emails", "")),
                "webhook_url": row.get("webhook_url") or None}))
        else:
            for column in ("parent", "emails", "webhook_url"):
                if row.get(column):
                    plan.error(number, column, "applies to units, not officials")
            if len(row.get("position", "")) > 300:
                plan.error(number, "position", "is longer than 300 characters")
            officials.append((number, row))
            plan.officials.append((code, {"full_name": name, "unit": row.get("unit", ""),
                                          "position": row.get("position") or None}))

    known = {d["_id"]: d.get("parent") for d in Unit._get_collection().find({}, {"parent": 1})}
    parents = {**known, **{code: parent for code, (_, parent) in file_units.items()}}
    for code, (number, parent) in file_units.items():
        if parent is None:
            continue
        if parent not in parents:
            plan.error(number, "parent", f"unknown unit {parent!r}")
        elif _in_loop(code, parents):
            plan.error(number, "parent", "this parent makes a loop of units")
    for number, row in officials:
        unit = row.get("unit", "")
        if not unit:
            plan.error(number, "unit", "is required for an official")
        elif unit not in parents:
            plan.error(number, "unit", f"unknown unit {unit!r}")
    plan.units = _parents_first(plan.units)
    plan.errors.sort(key=lambda e: (e["row"], e["field"]))
    return plan


def _check_unit_row(plan: Plan, number: int, row: dict) -> None:
    if row.get("unit"):
        plan.error(number, "unit", "applies to officials; a unit's own parent goes in 'parent'")
    if row.get("position"):
        plan.error(number, "position", "applies to officials, not units")
    parent = row.get("parent")
    if parent and not _valid_code(parent):
        plan.error(number, "parent", CODE.error)
    for email in _emails(row.get("emails", "")):
        try:
            _email(email)
        except ValidationError:
            plan.error(number, "emails", f"{email!r} is not an email address")
    if row.get("webhook_url"):
        try:
            _url(row["webhook_url"])
        except ValidationError:
            plan.error(number, "webhook_url", "is not an http(s) URL")


def _valid_code(code: str) -> bool:
    try:
        CODE(code)
        return True
    except ValidationError:
        return False


def _emails(text: str) -> list[str]:
    return list(dict.fromkeys(e.strip().lower() for e in text.split(";") if e.strip()))


def _in_loop(code: str, parents: dict[str, str | None]) -> bool:
    seen = set()
    current: str | None = code
    while current is not None:
        if current in seen:
            return current == code  # the first node met twice is where the loop closes
        seen.add(current)
        current = parents.get(current)
    return False


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


def apply_plan(plan: Plan, notify, correlationid: str | None) -> dict:
    """Write a validated plan; return {created, updated}."""
    created = updated = 0
    for code, data in plan.units:
        _, new = directory.upsert_unit(code, data, correlationid=correlationid)
        notify(Unit._get_collection().name, code)
        created, updated = created + new, updated + (not new)
    for code, data in plan.officials:
        current = Official._get_collection().find_one({"_id": code}, {"active": 1})
        data = {**data, "active": (current or {}).get("active", True)}
        _, new = directory.upsert_official(code, data, correlationid=correlationid)
        notify(Official._get_collection().name, code)
        created, updated = created + new, updated + (not new)
    return {"created": created, "updated": updated}
