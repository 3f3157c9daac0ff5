"""Who reads what in notify, on values only: `scope` is None for an administrator (they
read everything), else the set of units in the reader's scope (the units they manage and
every unit below them).

- The notification log: a manager reads the notifications about units in scope, never
  the messages to one person (sign-in links, account notices: admins only).
- Deadlines: a manager reads those naming a unit in scope (or every unit, `["*"]`), with
  only the units in scope (and their submissions) listed.
"""

from __future__ import annotations

from shared.errors import Forbidden

LOG_FILTERS = ("unit", "deadline", "kind", "status", "official")


def log_filter(query: dict, scope: set[str] | None) -> dict:
    """The database filter of the notification log for a reader (Forbidden: a unit out
    of scope, or messages to one person asked for by a manager)."""
    where = {k: query[k] for k in LOG_FILTERS if query.get(k)}
    if scope is None:
        return where
    if query.get("official"):
        raise Forbidden("Messages to one official are for administrators only.",
                        slug="out-of-scope")
    unit = query.get("unit")
    if unit is not None and unit not in scope:
        raise Forbidden(f"Unit {unit!r} is not in your scope.", slug="out-of-scope")
    if unit is None:
        where["unit"] = {"$in": sorted(scope)}
    where["official"] = None  # unit notifications only (None matches "absent" too)
    return where


def visible_deadline(deadline: dict, submitted: list[str], scope: set[str] | None
                     ) -> dict | None:
    """The deadline as the reader sees it, None when it names no unit in their scope."""
    units = deadline.get("units") or []
    if scope is None:
        return {**deadline, "submitted": submitted}
    if "*" not in units and not scope.intersection(units):
        return None
    return {**deadline, "units": units if "*" in units else [u for u in units if u in scope],
            "submitted": [u for u in submitted if u in scope]}


def require_manager(scope: set[str] | None) -> None:
    """Forbidden for an official who manages no unit."""
    if scope is not None and not scope:
        raise Forbidden("This is for administrators and the managers of units.",
                        slug="not-allowed")
