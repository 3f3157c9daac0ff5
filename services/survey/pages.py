"""Survey's pages for a signed-in official: the home page (`/`: who they are, what they
may open, the tokens issued for them) and, for administrators, the audit log (`/audit`);
`install_pages` adds the review pages (`review_pages`, `response_pages`), the held
ratings page (`held_pages`) and the header's links.
"""

from __future__ import annotations

import contextlib
import math
from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, g, request

from services.survey.context import context
from services.survey.store import access as token_store
from services.survey.store import audit as audit_store
from services.survey.store import directory
from shared.web.pages import forbidden_page, page, render_page, words

PER_PAGE = 50

pages = Blueprint("survey_pages", __name__, template_folder="templates")


def local_time(moment: datetime | None) -> str:
    """A moment as people here read it: 14:05, 04/12/2026 (survey's time zone)."""
    if moment is None:
        return ""
    return moment.astimezone(context().settings.tz).strftime("%H:%M, %d/%m/%Y")


def _open_links(user, t: dict) -> list[dict]:
    from services.survey.held_pages import may_review_held
    from services.survey.response_pages import may_see_response

    links = [{"url": "/reviews", "label": t["nav_reviews"], "text": t["home_reviews_text"]}]
    if may_see_response(user):
        links.append({"url": "/reviews/response", "label": t["nav_review_response"],
                      "text": t["home_response_text"]})
    if may_review_held(user):
        links.append({"url": "/ratings/held", "label": t["nav_held"],
                      "text": t["held_home_text"]})
    if user.is_admin:
        links.append({"url": "/audit", "label": t["nav_audit"], "text": t["home_audit_text"]})
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
               "issued_by": actor_label(doc.get("issued_by") or "", t),
               "revoked_at": local_time(doc.get("revoked_at"))}
              for doc in token_store.tokens_of(user.official)]
    return render_page(
        "account/home.html", title=t["home_greeting"].format(name=official["full_name"]),
        official=official, unit_name=f"{unit.get('name', '')} ({official['unit']})",
        roles=roles, manages=managed, tokens=tokens, links=_open_links(user, t),
        signed_in_at=local_time(user.session.auth_time))


def actor_label(actor: str, t: dict) -> str:
    """How the log's actor reads: "CB001 · phiên đăng nhập", "admin (mã quản trị)"."""
    code, _, via = actor.partition(" (")
    if via.endswith(")") and f"via_{via[:-1]}" in t:
        return f"{code} · {t[f'via_{via[:-1]}']}"
    return t.get(f"actor_{actor}", actor)


def detail_lines(details: dict, t: dict) -> list[str]:
    """An entry's details in words: what survey records, worded; the rest as key: value."""
    details = dict(details or {})
    lines = []
    if "created" in details:
        created = details.pop("created")
        lines.append(t["detail_created"] if created else t["detail_updated"])
        changed = details.pop("changed", [])
        if changed and not created:
            fields = ", ".join(t.get(f"field_{f}", f) for f in changed)
            lines.append(t["detail_changed"].format(fields=fields))
    if details.pop("active", True) is False:
        lines.append(t["detail_inactive"])
    roles = details.pop("roles", None)
    if roles:
        lines.append(t["detail_roles"].format(roles=", ".join(
            t.get(f"role_{r}", r) for r in roles)))
    managers = details.pop("managers", None)
    if managers:
        lines.append(t["detail_managers"].format(codes=", ".join(managers)))
    if "reason" in details:
        reason = details.pop("reason")
        lines.append(t["detail_reason"].format(reason=t.get(f"reason_{reason}", reason)))
    if details.get("via") == "email_link":
        details.pop("via")
        lines.append(t["detail_email_link"])
    for key in ("previous", "new"):
        if key in details:
            value = details.pop(key)
            lines.append(t[f"detail_{key}"].format(value=value or t["detail_none"]))
    lines += _review_lines(details, t)
    for key, value in details.items():
        value = ", ".join(map(str, value)) if isinstance(value, list) else value
        lines.append(f"{key}: {value}")
    return lines


def _review_lines(details: dict, t: dict) -> list[str]:
    """The review cycle's details in words (taken out of `details`): a window's times and
    reminders, what was sent and to how many."""
    lines = []
    kind, offset = details.pop("kind", None), details.pop("offset", None)
    if kind in ("invitation", "reminder"):
        lines.append(t[f"detail_review_{kind}"] + (
            f" ({t['detail_before_close'].format(offset=offset)})" if offset else ""))
    for key in ("opens_at", "closes_at"):
        if isinstance(details.get(key), str):
            with contextlib.suppress(ValueError):
                moment = datetime.fromisoformat(details[key])
                lines.append(t[f"detail_{key}"].format(time=local_time(moment)))
                details.pop(key)
    if "remind_before" in details:
        offsets = details.pop("remind_before") or []
        lines.append(t["detail_remind_before"].format(
            offsets=", ".join(offsets) if offsets else t["detail_none"]))
    if "year" in details:
        lines.append(t["detail_year"].format(year=details.pop("year")))
    if "sent" in details:
        lines.append(t["detail_sent"].format(n=details.pop("sent")))
    return lines


def _entry_view(entry: dict, t: dict) -> dict:
    return {**entry, "at": local_time(entry["at"]), "details": detail_lines(
        entry.get("details"), t), "actor": actor_label(entry["actor"], t),
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
    from services.survey.held_pages import install_held_pages
    from services.survey.response_pages import install_response_pages
    from services.survey.review_pages import install_review_pages

    app.register_blueprint(pages)
    install_review_pages(app)
    install_response_pages(app)
    install_held_pages(app)
