"""The yearly peer-review cycle as notify sees it, on values only (no Flask, pika or
database): when a window's invitation and reminders are due, the key each is claimed
under, and what the emails to one official say.

Notify knows windows and times only; who is invited or reminded is survey's to decide
(it alone knows who has colleagues and who has finished). So notify's part of a cycle is
a plan of times per window version, and at each time one `review.cycle_due`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.notify import domain
from services.notify.notices import REVIEW_LINKS, local_times

# the emails' kinds (the purposes of their sign-in links)
INVITATION, REMINDER = REVIEW_LINKS


@dataclass(frozen=True)
class Plan:
    """A window version's times still to come when it was received: the invitation (or
    None) and each reminder by its offset, soonest first."""

    invitation: datetime | None
    reminders: tuple[tuple[str, datetime], ...]

    def items(self) -> list[tuple[str, str | None, datetime]]:
        """(kind, offset, when) of each time planned: kind "invitation" or "reminder"."""
        first = [("invitation", None, self.invitation)] if self.invitation else []
        return first + [("reminder", offset, when) for offset, when in self.reminders]

    def to_doc(self) -> dict:
        # a list of pairs, not a mapping: an offset ("P0.5D") may hold a dot
        return {"invitation": self.invitation,
                "reminders": [[offset, when] for offset, when in self.reminders]}

    @classmethod
    def from_doc(cls, doc: dict | None) -> Plan:
        doc = doc or {}
        return cls(_aware(doc.get("invitation")),
                   tuple((offset, _aware(when)) for offset, when in doc.get("reminders") or []))


def plan(opens_at: datetime, closes_at: datetime, remind_before: list[str], now: datetime,
         *, invited: bool) -> Plan:
    """What a window received at `now` plans. A time already past is not sent late, but
    a window open now whose invitation has not gone yet (`invited`: published for an
    earlier version of the year's window) invites at once, else nobody ever would be;
    a window closed (early, or long ago) plans nothing. A reminder is only planned
    inside the window, after its opening."""
    if closes_at <= now or closes_at <= opens_at:
        return Plan(None, ())
    invitation = opens_at if opens_at > now else (None if invited else now)
    times, _ = domain.reminder_times(closes_at, remind_before)
    reminders = sorted(((offset, when) for offset, when in times.items()
                        if when > now and when > opens_at), key=lambda item: item[1])
    return Plan(invitation, tuple(reminders))


def job_id(year: str, kind: str, offset: str | None) -> str:
    """The scheduler's id of a window's job: one per time, whatever the version."""
    return f"review-invitation:{year}" if kind == "invitation" else \
        f"review-reminder:{year}:{offset}"


def claim_key(year: str, kind: str, offset: str | None, version: int) -> str:
    """The one `review.cycle_due` of a time of a window version, whoever runs it."""
    return f"{year}|{kind}|{offset or '-'}|v{version}"


# --- the emails -------------------------------------------------------------------------


def email_context(purpose: str, context: dict, full_name: str, expires_at: datetime,
                  reviews_url: str | None, now: datetime, tz: ZoneInfo) -> dict:
    """What an invitation or reminder says, but the link (added at each delivery):
    `context` is survey's {year, assigned, done, pending, closes_at, extra}, loaded."""
    closes_at = context["closes_at"]
    closes_vi, closes_en = local_times(closes_at, tz)
    until_vi, until_en = local_times(expires_at, tz)
    pending = context["pending"]
    return {
        "full_name": full_name, "year": context["year"], "assigned": context["assigned"],
        "done": context["done"], "pending": pending,
        "colleagues_en": "colleague" if pending == 1 else "colleagues",
        "closes_vi": closes_vi, "closes_en": closes_en,
        "closes_day": closes_at.astimezone(tz).strftime("%d/%m/%Y"),
        "remaining": domain.human(closes_at - now) if closes_at > now else "",
        "until_vi": until_vi, "until_en": until_en,
        "reminder": purpose == REMINDER,
        "extra": purpose == REMINDER and bool(context.get("extra")),
        "reviews_url": reviews_url or "",
        "button": "Đánh giá đồng nghiệp / Review your colleagues"}


def reviews_url(login_url: str, next_path: str) -> str | None:
    """The review list's address, to come back to once the link is used: the site's base
    (the sign-in page's `/login/` taken off) and the path the link leads to."""
    base, found, _ = login_url.rpartition("/login/")
    if not found or not next_path.startswith("/") or next_path.startswith("//"):
        return None
    return base + next_path


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
