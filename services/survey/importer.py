"""Bulk import of units and officials from CSV or XLSX: all rows valid, or nothing written.

Columns (header row, any order): kind (unit or official), code, name, unit, parent,
position, emails (a unit's, ';'-separated), webhook_url, managers (a unit's, official
codes, ';'-separated), email (an official's sign-in address). Rows may refer to units and
officials defined in the same file, in any order; units are written parents first. Each
row is checked with the API's own schemas (`UnitIn`, `OfficialIn`) and parent rule
(`domain.parent_error`), so the import accepts exactly what the API accepts; an address
given twice (in the file, or already another official's) is a row error.

A file without the `email` (or `managers`) column leaves those as they are; with it, the
file decides (an empty cell removes the address). Roles are never imported: making someone
an administrator is an act of its own (`PUT /officials/{code}` with `roles`), and an
official keeps their roles and their `active` flag.
"""

from __future__ import annotations

from collections import ChainMap
from dataclasses import dataclass, field

from marshmallow import ValidationError

from services.survey import accounts, domain
from services.survey.import_files import (  # noqa: F401 - the views read files through here
    CSV_TYPES,
    XLSX_TYPE,
    UnreadableFile,
    read_rows,
)
from services.survey.schemas import OfficialIn, UnitIn
from services.survey.store import directory
from shared.problems import flatten_errors
from shared.schemas import CODE, is_code

COLUMNS = ("kind", "code", "name", "unit", "parent", "position", "emails", "webhook_url",
           "managers", "email")
LISTS = ("emails", "managers")  # ';'-separated cells
# Only the columns of its kind may be filled in a row; the API field each column feeds.
KIND_COLUMNS = {
    "unit": {"name": "name", "parent": "parent", "emails": "emails",
             "webhook_url": "webhook_url", "managers": "managers"},
    "official": {"name": "full_name", "unit": "unit", "position": "position",
                 "email": "email"},
}
KIND_SCHEMAS = {"unit": UnitIn(), "official": OfficialIn()}
MISPLACED = {
    ("unit", "unit"): "applies to officials; a unit's own parent goes in 'parent'",
    ("unit", "position"): "applies to officials, not units",
    ("unit", "email"): "applies to officials; a unit's addresses go in 'emails'",
    ("official", "emails"): "applies to units; an official's address goes in 'email'",
}


@dataclass
class Plan:
    units: list[tuple[str, dict]] = field(default_factory=list)
    officials: list[tuple[str, dict]] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    columns: set[str] = field(default_factory=set)

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append({"row": row, "field": column, "message": message})


def plan_import(rows: list[tuple[int, dict]]) -> Plan:
    """Validate every row against the file and the directory; collect every problem."""
    plan = Plan(columns=set(rows[0][1]["__header__"]))
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
    rows_of = {code: number for (kind, code), number in seen.items() if kind == "official"}
    _check_managers(plan, {c: n for (k, c), n in seen.items() if k == "unit"}, rows_of)
    if "email" in plan.columns:
        _check_emails(plan, rows_of)
    plan.units = _parents_first(plan.units)
    plan.errors.sort(key=lambda e: (e["row"], e["field"]))
    return plan


def _check_managers(plan: Plan, unit_rows: dict[str, int], rows_of: dict[str, int]) -> None:
    """A unit's managers must be officials of the directory or of the file."""
    named = {m for _, data in plan.units for m in data["managers"] if m not in rows_of}
    unknown = set(directory.unknown_officials(sorted(named)))
    for code, data in plan.units:
        missing = [m for m in data["managers"] if m in unknown]
        if missing:
            plan.error(unit_rows[code], "managers", f"unknown officials: {', '.join(missing)}")


def _check_emails(plan: Plan, rows_of: dict[str, int]) -> None:
    """An address may be one official's only: not twice in the file, nor another's."""
    emails = {code: data.get("email") for code, data in plan.officials}
    others = directory.emails_of_others(list(rows_of))
    for code, holder in domain.duplicate_emails(emails, others).items():
        where = f"on row {rows_of[holder]}" if holder in rows_of else "in the directory"
        plan.error(rows_of[code], "email", f"already the address of official {holder} {where}")
    # an address passed from one official of the file to another: the one giving it up
    # is written first (an address is never two officials' at once, even for a moment)
    now = {o["email"]: c for c, o in directory.officials(list(emails)).items() if o.get("email")}
    after = {c: now[e] for c, e in emails.items() if e in now and now[e] != c}
    order: list[str] = []
    placed: set[str] = set()
    for start in emails:
        chain, in_chain, code = [], set(), start
        while code is not None and code not in placed and code not in in_chain:
            chain.append(code)
            in_chain.add(code)
            code = after.get(code)
        if code in in_chain:
            plan.error(rows_of[code], "email", "officials of this file swap addresses; "
                                               "change them in two imports")
        order.extend(reversed(chain))
        placed.update(chain)
    position = {code: i for i, code in enumerate(order)}
    plan.officials.sort(key=lambda item: position[item[0]])


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
        body[columns[column]] = _split_list(value) if column in LISTS else value
    try:
        data = KIND_SCHEMAS[kind].load(body)
    except ValidationError as exc:
        to_column = {api: column for column, api in columns.items()}
        for name, messages in flatten_errors(exc.messages).items():
            api_field, _, item = name.partition(".")
            for message in messages:
                if item.isdigit():  # one item of a list
                    message = f"{body[api_field][int(item)]!r}: {message}"
                plan.error(number, to_column.get(api_field, api_field), message)
        return None
    return data if valid else None


def _split_list(text: str) -> list[str]:
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


def apply_plan(plan: Plan, ctx, correlationid: str | None) -> dict:
    """Write a validated plan; return {created, updated}. An official keeps the `active`
    flag and roles it has (the file has no such column), and so do the address of an
    official and the managers of a unit when the file has no column for them."""
    created = updated = 0

    def count(result: tuple[dict, bool]) -> None:
        nonlocal created, updated
        created, updated = created + result[1], updated + (not result[1])

    kept_units = directory.by_codes("unit", [code for code, _ in plan.units])
    # the units whose review response is counted again, once (None: every unit)
    changed: set[str] | None = set()
    for code, data in plan.units:
        if "managers" not in plan.columns:
            data = {**data, "managers": kept_units.get(code, {}).get("managers") or []}
        saved = accounts.save_unit(ctx, code, data, correlationid=correlationid,
                                   audited=False, recount=False)
        count(saved)
        if saved[1]:
            changed.add(code)
    kept = directory.officials([code for code, _ in plan.officials])
    for code, data in plan.officials:
        stored = kept.get(code, {})
        data = {**data, "active": stored.get("active", True),
                "roles": stored.get("roles") or [],
                "email": data.get("email") if "email" in plan.columns else stored.get("email")}
        saved = accounts.save_official(ctx, code, data, correlationid=correlationid,
                                       audited=False, recount=False)
        count(saved)
        moved = accounts.membership_changes(kept.get(code), saved[0])
        changed = None if changed is None or moved is None else changed | moved
    accounts.recount_units(ctx, changed)
    return {"created": created, "updated": updated}
