"""Writes to the directory and to officials' access, as one use case each for the API,
the import and the demo: the record and its event, survey's own access copy, the audit
log, and the notices that make acting on someone's account never silent.

Order matters where a crash between two writes could hide something: the entry and the
notice of an email change or a token are written before the change itself (a crash then
leaves a notice of a change that did not happen, never a change nobody was told of), and
an official's sessions and tokens end before the record says they are inactive (so
reactivating them later never brings old tokens back).
"""

from __future__ import annotations

from services.survey import audit_log, identity, keys, response_counts
from services.survey.store import directory

UNIT_FIELDS = ("name", "parent", "emails", "webhook_url", "managers")
OFFICIAL_FIELDS = ("full_name", "unit", "position", "active", "email", "roles")


def _audit_saved(ctx, kind: str, code: str, previous: dict | None, saved: tuple[dict, bool],
                 fields: tuple[str, ...], shown: tuple[str, ...]) -> None:
    record, created = saved
    changed = [f for f in fields if previous is None or previous.get(f) != record.get(f)]
    audit_log.record(ctx, f"{kind}_saved", target=code, details={
        "created": created, "changed": changed, **{k: record[k] for k in shown}})


def save_unit(ctx, code: str, data: dict, *, correlationid: str | None = None,
              audited: bool = True, recount: bool = True) -> tuple[dict, bool]:
    """Create or update a unit (its parent and managers already checked). A new unit
    has its review response counted (`recount=False`: the caller counts, once for
    many)."""
    previous = directory.find("unit", code) if audited else None
    saved = directory.upsert_unit(code, data, correlationid=correlationid,
                                  notify=ctx.relay.notify)
    identity.track_unit(ctx.access, code, saved[0])
    if recount and saved[1]:
        recount_units(ctx, [code])
    if audited:
        _audit_saved(ctx, "unit", code, previous, saved, UNIT_FIELDS, ("managers",))
    return saved


def save_official(ctx, code: str, data: dict, *, correlationid: str | None = None,
                  audited: bool = True, recount: bool = True) -> tuple[dict, bool]:
    """Create or update an official (its unit already checked). Changing their address
    is audited and told to both addresses; deactivating them ends their sessions and
    tokens everywhere. An official added, moved, deactivated or reactivated has the
    review response of the units concerned counted again (`recount=False`: the caller
    counts, once for many)."""
    previous = directory.find("official", code)
    email = data.get("email")
    if previous is not None and previous.get("email") != email:
        directory.check_email_free(code, email)  # before the notice: no false alarm
        by, change = audit_log.current_actor(), {"previous": previous.get("email"),
                                                 "new": email}
        audit_log.record(ctx, "email_changed", target=code, actor=by, details=change,
                         notice=audit_log.notice({**previous, "email": email},
                                                 "email_changed", by=by, details=change,
                                                 previous_email=previous.get("email")))
    if previous is not None and previous.get("active", True) and \
            not data.get("active", True):
        identity.revoke_official(ctx, code)
    saved = directory.upsert_official(code, data, correlationid=correlationid,
                                      notify=ctx.relay.notify)
    identity.track_official(ctx.access, code, saved[0])
    if recount:
        recount_units(ctx, membership_changes(previous, saved[0]))
    if audited:
        _audit_saved(ctx, "official", code, previous, saved, OFFICIAL_FIELDS,
                     ("active", "roles"))
    return saved


def membership_changes(previous: dict | None, record: dict) -> set[str] | None:
    """The units whose active officials an official's write changed: none when only
    their name, position, address or roles did. None (unknown: every unit) when another
    write came between `previous` as read and `record` as written: the units that write
    put them in, which this one took them out of, are not known here."""
    if record["version"] != (previous or {}).get("version", 0) + 1:
        return None

    def active_in(official: dict | None) -> set[str]:
        return {official["unit"]} if official and official.get("active", True) else set()

    return active_in(previous) ^ active_in(record)


def recount_units(ctx, units) -> int:
    """Count the review response of `units` (None: every unit) again, every year kept
    (see `response_counts`); return how many changed."""
    if units is not None and not units:
        return 0
    return response_counts.recount(ctx.key(keys.REVIEWER_PSEUDONYM), units=units,
                                   notify=ctx.relay.notify)


def issue_token(ctx, code: str) -> str:
    """A bearer token acting as official `code`: audited, and told to the official."""
    official = directory.get("official", code)
    by = audit_log.current_actor()
    audit_log.record(ctx, "token_issued", target=code, actor=by,
                     notice=audit_log.notice(official, "token_issued", by=by))
    return identity.issue_token(ctx, code, issued_by=by)


def revoke_tokens(ctx, code: str) -> int:
    """End every token and session of official `code`: audited, and told to them."""
    official = directory.get("official", code)
    by = audit_log.current_actor()
    audit_log.record(ctx, "tokens_revoked", target=code, actor=by,
                     notice=audit_log.notice(official, "tokens_revoked", by=by))
    return identity.revoke_official(ctx, code)
