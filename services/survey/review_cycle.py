"""The yearly review cycle: invitations and reminders, sent when notify says their time
has come (`review.cycle_due`), a manager's extra reminder to one unit, and the units'
response counts.

Survey alone knows who has colleagues to review and how far each has got, and it knows
that only through the keyed review ids (`domain.review_key`): counting an official's
finished reviews recomputes the ids of their reviews of each colleague, which nobody
without survey's key can do, and nothing here ever says whom anyone reviewed.

Each invitation or reminder is a sign-in link like /login's (the same store, used once)
that leads to the review list, valid 72 hours and never past the close. It is claimed
once per (year, official, kind, offset): the claim and the `auth.link_requested` event
that asks notify to send it are one write, so a redelivery or a second process sends
nothing twice, and a crash before that write sends nothing at all (the redelivery does).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from services.survey import audit_log, keys, review_rules, reviews, signin_links
from services.survey.response_counts import counts_of, progress_of
from services.survey.review_rules import REMINDER, Progress
from services.survey.store import directory
from services.survey.store import review_cycle as cycle_store
from services.survey.store import reviews as review_store
from services.survey.store import signin as link_store
from shared.db import stored_now
from shared.errors import Conflict, Forbidden, RateLimited

logger = logging.getLogger(__name__)


def on_cycle_due(ctx, data: dict, *, now: datetime | None = None) -> int:
    """An invitation or a reminder is due: send it to every official concerned who has
    not had it yet; return how many were sent. A time planned for an older version of
    the window is ignored (notify has the new one planned)."""
    year, kind, offset = data["year"], data["kind"], data.get("offset")
    window = review_store.window(year)
    if window is None or window.get("version") != data["window_version"]:
        logger.info("review %s of %s ignored: planned for window version %s, now %s", kind,
                    year, data["window_version"], (window or {}).get("version"))
        return 0
    sent = _send(ctx, year, window, cycle_store.active_by_unit(), kind,
                 offset if kind == REMINDER else None, extra=False, now=now or stored_now())
    if sent:
        audit_log.record(ctx, "review_cycle_sent", target=year, details={
            "kind": kind, "offset": offset, "sent": sent})
    return sent


def remind_unit(ctx, year: str, unit: str, *, now: datetime | None = None) -> int:
    """A manager's "send a reminder now": every official of `unit` with reviews pending
    is reminded (at most once a day per unit: RateLimited); return how many."""
    now = now or stored_now()
    window = reviews.window_of(year, ctx.settings.tz)
    if not window["opens_at"] <= now < window["closes_at"]:
        raise Conflict(f"The review window for {year} is not open.",
                       slug="review-window-closed")
    members = dict(cycle_store.active_by_unit([unit])).get(unit, [])
    progress = progress_of(year, members, ctx.key(keys.REVIEWER_PSEUDONYM))
    if not any(review_rules.is_concerned(REMINDER, progress[m["code"]], m["email"])
               for m in members):
        return 0
    last = cycle_store.claim_unit_reminder(year, unit, now,
                                           review_rules.EXTRA_REMINDER_EVERY)
    if last is not None:
        wait = review_rules.extra_reminder_wait(last, now)
        raise RateLimited(f"This unit was reminded less than a day ago; again in {wait} s.",
                          retry_after=wait)
    sent = _send(ctx, year, window, [(unit, members)], REMINDER, f"extra {now.isoformat()}",
                 extra=True, now=now, progress={unit: progress})
    audit_log.record(ctx, "review_reminders_sent", target=unit, details={
        "year": year, "sent": sent})
    return sent


def units_in_scope(ctx, principal, only: str | None = None) -> list[dict]:
    """The units whose response `principal` may read: every unit for an administrator,
    for a manager those they manage and every unit below. `only`: that unit alone
    (Forbidden outside the scope, whether it exists or not; NotFound within it)."""
    if only is not None:
        if not principal.is_admin and not (
                principal.official and ctx.access.unit_in_scope(principal.official, only)):
            raise Forbidden(f"Unit {only!r} is not in your scope.", slug="out-of-scope")
        return [directory.get("unit", only)]
    if principal.is_admin:
        return directory.listing("unit")
    codes = ctx.access.scope(principal.official) if principal.official else set()
    if not codes:
        raise Forbidden("For administrators and the managers of units.", slug="not-allowed")
    return list(directory.by_codes("unit", sorted(codes)).values())


def response(year: str, units: list[dict], key: bytes) -> list[dict]:
    """Each unit's response counts (invited, finished, in_progress, not_started), in the
    order given: counts only (those `review.response` tells scoring)."""
    counts = counts_of(year, [u["code"] for u in units], key)
    return [{"unit": u["code"], "name": u["name"], **counts[u["code"]]} for u in units]


def _send(ctx, year: str, window: dict, units: Iterable[tuple[str, list[dict]]], kind: str,
          offset: str | None, *, extra: bool, now: datetime,
          progress: dict[str, dict[str, Progress]] | None = None) -> int:
    expires_at = review_rules.link_expiry(now, window["closes_at"])
    if expires_at is None:
        return 0
    key = ctx.key(keys.REVIEWER_PSEUDONYM)
    sent = 0
    for unit, members in units:
        if len(members) < 2:
            continue
        of_unit = (progress or {}).get(unit) or progress_of(year, members, key)
        concerned = {review_rules.notice_key(year, m["code"], kind, offset): m
                     for m in members
                     if review_rules.is_concerned(kind, of_unit[m["code"]], m["email"])}
        done = cycle_store.sent_notices(list(concerned))
        for notice, member in concerned.items():
            if notice not in done:
                context = review_rules.link_context(year, of_unit[member["code"]],
                                                    window["closes_at"], extra=extra)
                sent += _send_one(ctx, notice, member, year, kind, offset, context,
                                  expires_at=expires_at, now=now)
    return sent


def _send_one(ctx, notice: str, member: dict, year: str, kind: str, offset: str | None,
              context: dict, *, expires_at: datetime, now: datetime) -> int:
    next_path = f"/reviews/{year}"
    digest, event = signin_links.new_link(
        ctx, member, expires_at=expires_at, next_path=next_path,
        purpose=review_rules.PURPOSES[kind], context=context)
    # the link first, without its event: until the notice below is written it is never
    # sent, and a crash in between leaves only a link nobody has
    link_store.add_link(digest, official=member["code"], created_at=now,
                        expires_at=expires_at, next_path=next_path, event=None)
    if not cycle_store.add_notice(notice, year=year, official=member["code"], kind=kind,
                                  offset=offset, sent_at=now, event=event,
                                  notify=ctx.relay.notify):
        link_store.drop_link(digest)
        return 0
    return 1
