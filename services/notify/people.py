"""Messages to one official by email: sign-in links (asked for on /login, or carried by a
review invitation or reminder) and notices about their own account.

They are the official's own business. They are logged like every send (kind `auth.link`,
`review.invitation`, `review.reminder` or `account.notice`, `official`, and `unit`: the
official's unit as notify knows it from directory events, null while it does not),
visible to administrators only, and left out of the metrics. A sign-in link is sent once
per nonce, only while it is valid (one that had expired when it arrived is logged as
skipped), and its secret is never stored (links.py).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from marshmallow import ValidationError

from services.notify import links, notices, review_domain
from services.notify.render import render
from services.notify.schemas import ReviewLinkContext
from services.notify.sender import Sender
from services.notify.store import NotifyStore
from shared.signin import LIFETIME_MINUTES


def _person(nid: str, kind: str, official: str, email: str, store: NotifyStore,
            now: datetime) -> dict:
    unit = (store.official(official) or {}).get("unit")
    return {"_id": nid, "kind": kind, "unit": unit, "official": official,
            "deadline": None, "channel": "email", "recipient": email, "status": "pending",
            "attempts": 0, "errors": [], "data": {}, "created_at": now}


def send_signin_link(data: dict, *, store: NotifyStore, sender: Sender, tz: ZoneInfo,
                     now: datetime | None = None) -> list[str]:
    """Email the sign-in link of an `auth.link_requested` (once per nonce): asked for on
    /login (kind `auth.link`), or with a review invitation or reminder (its purpose as the
    kind, the counts in its context). A request that expired on its way (notify was
    down), or whose counts do not load, is logged as skipped, not sent."""
    now = now or datetime.now(UTC)
    kind = notices.LINK if data["purpose"] == "sign_in" else data["purpose"]
    # the claim key names the nonce by its hash: the log shows the key to admins, and an
    # admin holds ADMIN_TOKEN, from which the link key may be derived
    digest = hashlib.sha256(data["nonce"].encode()).hexdigest()[:32]
    doc = {**_person(f"{kind}|{digest}|email", kind, data["official"], data["email"], store,
                     now), "expires_at": data["expires_at"]}
    try:
        context = _context(kind, data, now, tz)
    except ValidationError as exc:
        doc.update(status="skipped", subject="", text="", html="", errors=[
            f"survey's counts for this {kind} do not load: {exc.messages}"])
        return [doc["_id"]] if sender.create(doc) else []
    subject, text, html = render(kind, {**context, "link": links.WITHHELD})
    doc.update(subject=subject, text=text, html=html, context=context)
    if kind != notices.LINK:
        doc["data"] = {"year": context["year"]}
    if now >= data["expires_at"]:
        doc.update(status="skipped", errors=[
            "the link had expired when notify received it: not sent"])
    else:
        doc.update(link_nonce=data["nonce"], login_url=data["login_url"])
    return [doc["_id"]] if sender.create(doc) else []


def _context(kind: str, data: dict, now: datetime, tz: ZoneInfo) -> dict:
    """What the email says, but the link: ValidationError when a review's counts are
    missing or wrong."""
    if kind == notices.LINK:
        return notices.link_context(data["full_name"], data["expires_at"],
                                    LIFETIME_MINUTES, tz)
    counts = ReviewLinkContext().load(data.get("context") or {})
    return review_domain.email_context(
        kind, counts, data["full_name"], data["expires_at"],
        review_domain.reviews_url(data["login_url"], data.get("next") or "/"), now, tz)


def send_account_notice(data: dict, event_id: str, *, store: NotifyStore, sender: Sender,
                        tz: ZoneInfo, now: datetime | None = None) -> list[str]:
    """Email an `account.notice` to each of its addresses, once each (per event)."""
    now = now or datetime.now(UTC)
    context = notices.notice_context(data["notice"], data["full_name"], data["at"],
                                     data["by"], data.get("details") or {}, tz)
    subject, text, html = render(notices.NOTICE, context)
    created = []
    # the current and the previous address (an email change): each once
    addresses: dict[str, str] = {}
    for email in data["emails"]:
        addresses.setdefault(email.strip().lower(), email.strip())
    for key, email in addresses.items():
        doc = {**_person(f"{notices.NOTICE}|{event_id}|{key}", notices.NOTICE,
                         data["official"], email, store, now),
               "subject": subject, "text": text, "html": html,
               "data": {"notice": data["notice"], "at": data["at"].isoformat(),
                        "by": data["by"]}}
        if sender.create(doc):
            created.append(doc["_id"])
    return created
