"""Who may do what, known by every service from events, in its own database.

Each service keeps a copy of what access decisions need, fed by events (survey applies its
own events to its copy as it writes them, so it never lags behind itself):
- the unit tree and each unit's managers (`directory.unit.upserted`),
- each official's unit, roles, whether active (`directory.official.upserted`), and since
  when their sessions and bearer tokens are valid (`auth.revoked`),
- the digests of officials' bearer tokens (`auth.token_issued`),
- sessions ended by sign-out (`auth.revoked` with a session id),
- survey's public session keys (`auth.keys_published`).

A manager of a unit is in scope for that unit and every unit below it; an official with
the role `admin` is an administrator.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared import sessions

UNITS = "access_units"
OFFICIALS = "access_officials"
TOKENS = "access_tokens"
ENDED = "access_sessions_ended"
KEYS = "access_keys"
CACHE_SECONDS = 5.0  # the unit tree and the keys are read at most this often per process


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class AccessStore:
    """This service's copy of the directory, tokens, ended sessions and keys."""

    def __init__(self, database: Callable[[], Database], *,
                 pinned_keys: list[str] | None = None):
        self._database = database
        # keys from the environment: when given, only they are trusted (events ignored)
        self._pinned = {sessions.key_id(k): sessions.public_key_from_text(k)
                        for k in (pinned_keys or [])}
        self._lock = threading.Lock()
        self._tree: tuple[float, dict[str, str | None], dict[str, set[str]]] | None = None
        self._keys: tuple[float, dict] | None = None

    def _coll(self, name: str):
        return self._database()[name]

    def ensure_indexes(self) -> None:
        self._coll(UNITS).create_index([("managers", ASCENDING)])
        self._coll(TOKENS).create_index([("official", ASCENDING)])
        self._coll(ENDED).create_index([("until", ASCENDING)], expireAfterSeconds=0)

    # --- applying events ---------------------------------------------------------------

    def _newest(self, name: str, code: str, version: int, fields: dict) -> bool:
        # DuplicateKeyError: this version or a newer one is already stored
        try:
            result = self._coll(name).update_one(
                {"_id": code, "$or": [{"version": {"$lt": version}},
                                      {"version": {"$exists": False}}]},
                {"$set": {**fields, "version": version}}, upsert=True)
        except DuplicateKeyError:
            return False
        return bool(result.modified_count or result.upserted_id)

    def apply_unit(self, data: dict) -> None:
        if self._newest(UNITS, data["code"], data["version"], {
                "parent": data.get("parent"), "managers": list(data.get("managers") or [])}):
            self._tree = None

    def apply_official(self, data: dict) -> None:
        self._newest(OFFICIALS, data["code"], data["version"], {
            "unit": data["unit"], "full_name": data["full_name"],
            "roles": list(data.get("roles") or []), "active": data.get("active", True)})

    def apply_token(self, digest: str, official: str, issued_at: datetime) -> None:
        with contextlib.suppress(DuplicateKeyError):
            self._coll(TOKENS).update_one(
                {"_id": digest}, {"$setOnInsert": {"official": official,
                                                   "issued_at": issued_at}}, upsert=True)

    def apply_revocation(self, *, at: datetime, official: str | None = None,
                         sessions_too: bool = False, tokens_too: bool = False,
                         session: str | None = None, until: datetime | None = None) -> None:
        """End one session (`session`, until its expiry), or every session and/or token
        of `official` begun before `at` (sign-out everywhere, deactivation, revocation)."""
        if session is not None:
            self._coll(ENDED).update_one({"_id": session},
                                         {"$set": {"until": until or at}}, upsert=True)
        if official is not None:
            fields = {}
            if sessions_too:
                fields["sessions_valid_after"] = at
            if tokens_too:
                fields["tokens_valid_after"] = at
            if fields:
                # $max: a late or repeated revocation never moves the line back
                self._coll(OFFICIALS).update_one({"_id": official}, {"$max": fields},
                                                 upsert=True)

    def apply_keys(self, keys: list[dict], published_at: datetime | None = None) -> None:
        """Trust exactly the keys of survey's newest announcement: a key rotated out is
        dropped with the next one (an older announcement arriving late changes nothing)."""
        published_at = published_at or datetime.now(UTC)
        with contextlib.suppress(DuplicateKeyError):
            self._coll(KEYS).update_one(
                {"_id": "announced", "$or": [{"published_at": {"$lt": published_at}},
                                             {"published_at": {"$exists": False}}]},
                {"$set": {"keys": [{"kid": k["kid"], "public_key": k["public_key"]}
                                   for k in keys], "published_at": published_at}},
                upsert=True)
        self._keys = None

    # --- reading -----------------------------------------------------------------------

    def official(self, code: str) -> dict | None:
        doc = self._coll(OFFICIALS).find_one({"_id": code})
        if doc is None or "unit" not in doc:
            return None  # only a revocation known so far
        for field in ("sessions_valid_after", "tokens_valid_after"):
            doc[field] = _aware(doc.get(field))
        return doc

    def token_official(self, digest: str) -> str | None:
        """The active official a bearer token's digest belongs to, if it is still valid."""
        doc = self._coll(TOKENS).find_one({"_id": digest})
        if doc is None:
            return None
        official = self.official(doc["official"])
        if official is None or not official.get("active", True):
            return None
        valid_after = official.get("tokens_valid_after")
        if valid_after is not None and _aware(doc["issued_at"]) <= valid_after:
            return None
        return doc["official"]

    def session_official(self, claims: sessions.SessionClaims) -> dict | None:
        """The official of a verified session, unless the session was ended or revoked or
        the official is unknown or inactive."""
        official = self.official(claims.official)
        if official is None or not official.get("active", True):
            return None
        valid_after = official.get("sessions_valid_after")
        if valid_after is not None and claims.auth_time <= valid_after:
            return None
        if self._coll(ENDED).count_documents({"_id": claims.session_id}, limit=1):
            return None
        return official

    def public_keys(self) -> dict:
        if self._pinned:
            return self._pinned
        cached = self._keys
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        keys = {}
        doc = self._coll(KEYS).find_one({"_id": "announced"}) or {}
        for key in doc.get("keys") or []:
            with contextlib.suppress(ValueError):
                keys[key["kid"]] = sessions.public_key_from_text(key["public_key"])
        self._keys = (time.monotonic(), keys)
        return keys

    def _unit_tree(self) -> tuple[dict[str, str | None], dict[str, set[str]]]:
        """(parent of each unit, units each official manages), cached for a few seconds."""
        cached = self._tree
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1], cached[2]
        parents: dict[str, str | None] = {}
        managed: dict[str, set[str]] = {}
        for doc in self._coll(UNITS).find({}, {"parent": 1, "managers": 1}):
            parents[doc["_id"]] = doc.get("parent")
            for manager in doc.get("managers") or []:
                managed.setdefault(manager, set()).add(doc["_id"])
        with self._lock:
            self._tree = (time.monotonic(), parents, managed)
        return parents, managed

    def manages(self, official: str) -> list[str]:
        """The units `official` manages directly, by code."""
        return sorted(self._unit_tree()[1].get(official, ()))

    def scope(self, official: str) -> set[str]:
        """Every unit in `official`'s scope: those they manage and all below them."""
        parents, managed = self._unit_tree()
        roots = managed.get(official, set())
        if not roots:
            return set()
        return {unit for unit in parents if in_subtree(unit, roots, parents)}

    def unit_in_scope(self, official: str, unit: str) -> bool:
        parents, managed = self._unit_tree()
        return in_subtree(unit, managed.get(official, set()), parents)


def in_subtree(unit: str, roots: set[str], parents: dict[str, str | None]) -> bool:
    """Is `unit` one of `roots` or below one of them? (A loop in the data ends the walk.)"""
    seen: set[str] = set()
    current: str | None = unit
    while current is not None and current not in seen:
        if current in roots:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


def access_handler(store: AccessStore):
    """The event handler that keeps `store` current; every service runs it on its queue
    (survey also calls it as it writes its own events)."""
    from shared import auth_events as auth
    from shared import events as ev

    def apply(event) -> None:
        data = event.loaded_data()
        if event.type == ev.UNIT_UPSERTED:
            store.apply_unit(data)
        elif event.type == ev.OFFICIAL_UPSERTED:
            store.apply_official(data)
        elif event.type == auth.TOKEN_ISSUED:
            store.apply_token(data["digest"], data["official"], data["issued_at"])
        elif event.type == auth.REVOKED:
            store.apply_revocation(at=data["at"], official=data.get("official"),
                                   sessions_too=data["sessions"], tokens_too=data["tokens"],
                                   session=data.get("session"), until=data.get("until"))
        elif event.type == auth.KEYS_PUBLISHED:
            store.apply_keys(data["keys"], data["published_at"])

    return apply


def install_access(app, database: Callable[[], Database], settings) -> AccessStore:
    """This service's access copy, used to resolve callers (the first service installed
    in an app provides it: in the all-in-one app, survey's, which never lags)."""
    store = AccessStore(database, pinned_keys=list(settings.session_public_keys))
    if app.config.get("CONGSO_ACCESS") is None:
        app.config["CONGSO_ACCESS"] = store
    return store
