"""Sessions: signed by survey's key, checked by anyone holding the public key; forged,
tampered, expired, too old or unknown-key tokens are refused."""

import json
from datetime import UTC, datetime, timedelta

import jwt

from shared import sessions

NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def keys_of(*private):
    return {sessions.key_id(sessions.public_key_text(k)): k.public_key() for k in private}


def test_a_token_signed_by_survey_is_verified_with_the_public_key_alone():
    key = sessions.generate_key()
    token, claims = sessions.SessionSigner(key).issue("CB1", now=NOW)
    verified = sessions.verify(token, keys_of(key), now=NOW + timedelta(minutes=1))
    assert verified == claims
    assert verified.official == "CB1" and verified.expires_at == NOW + sessions.IDLE
    assert len(verified.csrf) >= 24 and len(verified.session_id) >= 16


def test_forged_tampered_expired_and_unknown_key_tokens_are_refused():
    key, other = sessions.generate_key(), sessions.generate_key()
    token, _ = sessions.SessionSigner(key).issue("CB1", now=NOW)
    assert sessions.verify(token, keys_of(other), now=NOW) is None  # unknown key
    forged, _ = sessions.SessionSigner(other).issue("CB1", now=NOW)
    assert sessions.verify(forged, keys_of(key), now=NOW) is None
    head, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    other_payload = jwt.utils.base64url_encode(
        json.dumps({**claims, "sub": "ADMIN1"}).encode()).decode()
    assert sessions.verify(f"{head}.{other_payload}.{signature}", keys_of(key),
                           now=NOW) is None
    assert sessions.verify(token, keys_of(key), now=NOW + sessions.IDLE) is None
    unsigned = jwt.encode(claims, key=None, algorithm="none", headers={
        "kid": sessions.key_id(sessions.public_key_text(key))})
    assert sessions.verify(unsigned, keys_of(key), now=NOW) is None
    for junk in ("", "x", "a.b.c", "é" * 3000):
        assert sessions.verify(junk, keys_of(key), now=NOW) is None


def test_renewal_keeps_the_session_and_its_csrf_but_never_past_the_absolute_limit():
    signer = sessions.SessionSigner(sessions.generate_key())
    _, first = signer.issue("CB1", now=NOW)
    later = NOW + timedelta(hours=11, minutes=50)
    _, renewed = signer.issue("CB1", now=later, previous=first)
    assert (renewed.session_id, renewed.csrf, renewed.auth_time) == (
        first.session_id, first.csrf, first.auth_time)
    assert renewed.expires_at == NOW + sessions.MAX_AGE  # not later + IDLE
    assert not first.needs_renewal(NOW + timedelta(minutes=4))
    assert first.needs_renewal(NOW + sessions.RENEW_AFTER)


def test_keys_travel_as_base64_and_pem():
    key = sessions.generate_key()
    text = sessions.private_key_text(key)
    assert sessions.public_key_text(sessions.private_key_from_text(text)) == \
        sessions.public_key_text(key)
    from cryptography.hazmat.primitives import serialization

    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    assert sessions.public_key_text(sessions.public_key_from_text(pem.decode())) == \
        sessions.public_key_text(key)


def test_the_sign_in_time_is_kept_to_the_millisecond():
    """A revocation is kept to the millisecond: a sign-in a moment after it must not be
    taken for a session it ended."""
    key = sessions.generate_key()
    moment = NOW.replace(microsecond=123_456)
    token, claims = sessions.SessionSigner(key).issue("CB1", now=moment)
    assert claims.auth_time == NOW.replace(microsecond=123_000)
    assert sessions.verify(token, keys_of(key), now=NOW).auth_time == claims.auth_time
