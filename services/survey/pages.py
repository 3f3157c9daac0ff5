"""Survey's pages for a signed-in official: the home page (`/`: who they are, what they
may open, the tokens issued for them) and, for administrators, the audit log (`/audit`).
"""

from __future__ import annotations

import math
from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, g, request

from services.survey.context import context
from services.survey.store import access as token_store
from services.survey.store import audit as audit_store
from services.survey.store import directory
from shared.web.pages import add_nav_link, forbidden_page, page, render_page, words

PER_PAGE = 50

pages = Blueprint("survey_pages", __name__, template_folder="templates")


def local_time(moment: datetime | None) -> str:
    """A moment as people here read it: 14:05, 04/12/2026 (survey's time zone)."""
    if moment is None:
        return ""
    return moment.astimezone(context().settings.tz).strftime("%H:%M, %d/%m/%Y")


def _open_links(user, t: dict) -> list[dict]:
    links = []
    if user.is_admin:
        links.append({"url": "/audit", "label": t["nav_audit"]})
    return links


@pages.get("/")
@page
def home():
    """The signed-in official's own page."""
    t = words()["t"]
    user = g.principal
    official = directory.find("official", user.official) or {
        "code": user.official, "unit": user.unit, "full_name": user.full_name}
    unit = directory.find("unit", official["unit"]) or {}
    managed = list(directory.by_codes("unit", context().access.manages(user.official)).values())
    roles = [t["role_admin"]] if user.is_admin else []
    roles += [t["role_manager"]] if managed else []
    roles.append(t["role_official"])
    tokens = [{"issued_at": local_time(doc.get("created_at")),
               "issued_by": doc.get("issued_by") or "",
               "revoked_at": local_time(doc.get("revoked_at"))}
              for doc in token_store.tokens_of(user.official)]
    return render_page(
        "account/home.html", title=t["home_greeting"].format(name=official["full_name"]),
        official=official, unit_name=f"{unit.get('name', '')} ({official['unit']})",
        roles=roles, manages=managed, tokens=tokens, links=_open_links(user, t),
        signed_in_at=local_time(user.session.auth_time))


def _entry_view(entry: dict, t: dict) -> dict:
    details = []
    for key, value in (entry.get("details") or {}).items():
        if key == "reason":
            value = t.get(f"reason_{value}", value)
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        details.append((key, value))
    return {**entry, "at": local_time(entry["at"]), "details": details,
            "action": t.get(f"action_{entry['action']}", entry["action"])}


@pages.get("/audit")
@page
def audit_log_page():
    """The audit log (administrators): filter by who and what, fifty entries a page."""
    if not g.principal.is_admin:
        return forbidden_page()
    t = words()["t"]
    actor = request.args.get("actor", "").strip()[:100]
    action = request.args.get("action", "").strip()[:64]
    number = request.args.get("page", "1")
    number = max(1, min(int(number), 100000)) if number.isdigit() else 1
    total, entries = audit_store.page(actor=actor or None, action=action or None,
                                      number=number, per_page=PER_PAGE)
    pages_count = max(1, math.ceil(total / PER_PAGE))

    def page_url(n: int) -> str:
        query = {k: v for k, v in (("actor", actor), ("action", action)) if v}
        return f"/audit?{urlencode({**query, 'page': n})}"

    first = (number - 1) * PER_PAGE + 1
    return render_page(
        "account/audit.html", title=t["audit_title"], actor=actor, action=action,
        actions=[(a, t.get(f"action_{a}", a)) for a in audit_store.actions()],
        entries=[_entry_view(e, t) for e in entries], total=total, page=number,
        pages=pages_count, first=first, last=first + len(entries) - 1, page_url=page_url)


def install_pages(app) -> None:
    app.register_blueprint(pages)
    add_nav_link(app, "/audit", "nav_audit", allowed=lambda user: user.is_admin)
