"""Every service's copy of who may do what: scopes down the unit tree, revocations that
only move forward, tokens and sessions refused once revoked or the official deactivated."""

from datetime import UTC, datetime, timedelta

import mongomock
import pytest

from shared import mongomock_speedups, sessions
from shared.access import AccessStore, in_subtree

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


@pytest.fixture
def store():
    mongomock_speedups.install()
    db = mongomock.MongoClient(tz_aware=True)["access"]
    s = AccessStore(lambda: db)
    s.ensure_indexes()
    for code, parent, managers, version in [
            ("SNV", None, ["GD"], 1), ("HC", "SNV", ["TP"], 1), ("HC-1", "HC", [], 1),
            ("TK", "SNV", [], 1)]:
        s.apply_unit({"code": code, "parent": parent, "managers": managers,
                      "version": version})
    for code, unit in [("GD", "SNV"), ("TP", "HC"), ("CB1", "HC-1")]:
        s.apply_official({"code": code, "unit": unit, "full_name": code, "version": 1})
    return s


def test_a_manager_sees_their_unit_and_every_unit_below(store):
    assert store.scope("TP") == {"HC", "HC-1"}
    assert store.scope("GD") == {"SNV", "HC", "HC-1", "TK"}
    assert store.scope("CB1") == set() and store.manages("TP") == ["HC"]
    assert store.unit_in_scope("TP", "HC-1") and not store.unit_in_scope("TP", "TK")


def test_an_older_directory_version_changes_nothing(store):
    store.apply_unit({"code": "HC", "parent": "SNV", "managers": ["CB1"], "version": 3})
    store.apply_unit({"code": "HC", "parent": "SNV", "managers": ["TP"], "version": 2})
    store._tree = None
    assert store.manages("CB1") == ["HC"] and store.manages("TP") == []


def test_revoked_tokens_and_sessions_stay_revoked_after_reactivation(store):
    store.apply_token("d" * 64, "CB1", T0)
    assert store.token_official("d" * 64) == "CB1"
    claims = sessions.SessionClaims("CB1", "sid-1", T0, T0 + sessions.IDLE, T0, "c" * 24)
    assert store.session_official(claims)["_id"] == "CB1"
    store.apply_official({"code": "CB1", "unit": "HC-1", "full_name": "CB1",
                          "active": False, "version": 2})
    assert store.token_official("d" * 64) is None and store.session_official(claims) is None
    store.apply_revocation(at=T0 + timedelta(minutes=1), official="CB1", sessions_too=True,
                           tokens_too=True)
    store.apply_revocation(at=T0, official="CB1", sessions_too=True)  # late: ignored
    store.apply_official({"code": "CB1", "unit": "HC-1", "full_name": "CB1",
                          "active": True, "version": 3})
    assert store.token_official("d" * 64) is None
    assert store.session_official(claims) is None
    later = sessions.SessionClaims("CB1", "sid-2", T0, T0 + sessions.IDLE,
                                   T0 + timedelta(minutes=2), "c" * 24)
    assert store.session_official(later)["_id"] == "CB1"


def test_a_signed_out_session_is_refused_but_not_the_officials_others(store):
    now = datetime.now(UTC)  # kept until the session's expiry (a TTL index drops it then)
    a = sessions.SessionClaims("TP", "sid-a", now, now + sessions.IDLE, now, "c" * 24)
    b = sessions.SessionClaims("TP", "sid-b", now, now + sessions.IDLE, now, "c" * 24)
    store.apply_revocation(at=now, session="sid-a", until=now + sessions.IDLE)
    assert store.session_official(a) is None and store.session_official(b) is not None


def test_a_revocation_may_arrive_before_the_official(store):
    store.apply_revocation(at=T0, official="NEW", sessions_too=True)
    assert store.official("NEW") is None
    store.apply_official({"code": "NEW", "unit": "TK", "full_name": "N", "version": 1})
    assert store.official("NEW")["sessions_valid_after"] == T0


def test_a_loop_in_the_tree_ends_the_walk():
    assert not in_subtree("A", {"X"}, {"A": "B", "B": "A"})
    assert in_subtree("A", {"B"}, {"A": "B", "B": "A"})


def test_pinned_keys_are_the_only_ones_trusted():
    db = mongomock.MongoClient(tz_aware=True)["pinned"]
    pinned, announced = sessions.generate_key(), sessions.generate_key()
    store = AccessStore(lambda: db, pinned_keys=[sessions.public_key_text(pinned)])
    store.apply_keys([{"kid": "x", "public_key": sessions.public_key_text(announced)}])
    assert list(store.public_keys()) == [sessions.key_id(sessions.public_key_text(pinned))]


def test_the_newest_key_announcement_is_the_whole_trusted_set():
    """A key rotated out is dropped with the next announcement; an older announcement
    arriving late (a redelivery, a replay) does not bring it back."""
    db = mongomock.MongoClient(tz_aware=True)["rotation"]
    store = AccessStore(lambda: db)
    old, new = sessions.generate_key(), sessions.generate_key()

    def announced(key):
        text = sessions.public_key_text(key)
        return [{"kid": sessions.key_id(text), "public_key": text}]

    store.apply_keys(announced(old), T0)
    store.apply_keys(announced(new), T0 + timedelta(days=1))
    store.apply_keys(announced(old), T0)  # late
    assert list(store.public_keys()) == [announced(new)[0]["kid"]]
