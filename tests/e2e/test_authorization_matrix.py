"""Who may call what, in every service: each operation of each service's OpenAPI document,
tried as every kind of caller, against the one table below.

The three services run as three apps, each with its own database and its own copy of who
may do what, kept from the events on one in-process bus: so every service decides by
itself (a session or token it has only heard of through events). An operation that has no
row in the table fails the test: a new endpoint cannot skip it.

"Allowed" means the caller got past authentication and authorization (any answer but
401 and 403: a 404 for a missing record or a 422 for the empty body sent is allowed);
"denied" means 401 or 403.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from devkit.apps import ADMIN, make_settings, start
from services.notify.app import create_app as create_notify
from services.scoring.app import create_app as create_scoring
from services.survey.app import create_app as create_survey
from shared import sessions
from shared.memory_bus import MemoryBus
from tests.conftest import wait_for

YEAR = str(datetime.now(UTC).year)

# the callers: how each one calls, in `callers()` below
ANONYMOUS, OFFICIAL, OFFICIAL_TOKEN = "anonymous", "official", "official_token"
MANAGER_A, MANAGER_B = "manager_a", "manager_b"  # of the official's unit's parent; of another
ADMIN_TOKEN_, ADMIN_OFFICIAL = "admin_token", "admin_official"
REVOKED, EXPIRED, SIGNED_OUT = "revoked_token", "expired_session", "signed_out_session"
EVERYONE = frozenset({ANONYMOUS, OFFICIAL, OFFICIAL_TOKEN, MANAGER_A, MANAGER_B,
                      ADMIN_TOKEN_, ADMIN_OFFICIAL, REVOKED, EXPIRED, SIGNED_OUT})
ADMINS = frozenset({ADMIN_TOKEN_, ADMIN_OFFICIAL})
KNOWN = EVERYONE - {ANONYMOUS, REVOKED, EXPIRED, SIGNED_OUT}  # anyone signed in
OFFICIALS = KNOWN - {ADMIN_TOKEN_}
IN_SCOPE_OF_A1 = ADMINS | {MANAGER_A}  # unit A1 is below A, which manager A heads

# The expected table: (method, path) -> who is allowed. One place, every operation.
ALLOWED: dict[tuple[str, str], frozenset[str]] = {
    # survey: the directory and its tools are the administrator's
    ("PUT", "/api/v1/units/{code}"): ADMINS,
    ("GET", "/api/v1/units/{code}"): ADMINS,
    ("GET", "/api/v1/units"): ADMINS,
    ("GET", "/api/v1/officials"): ADMINS,
    ("PUT", "/api/v1/officials/{code}"): ADMINS,
    ("GET", "/api/v1/officials/{code}"): ADMINS,
    ("POST", "/api/v1/officials/{code}/tokens"): ADMINS,
    ("DELETE", "/api/v1/officials/{code}/tokens"): ADMINS,
    ("POST", "/api/v1/directory/import"): ADMINS,
    ("POST", "/api/v1/replays"): ADMINS,
    ("GET", "/api/v1/replays/{job_id}"): ADMINS,
    ("GET", "/api/v1/counters"): ADMINS,
    ("PUT", "/api/v1/counters/{code}"): ADMINS,
    ("GET", "/api/v1/counters/{code}"): ADMINS,
    ("POST", "/api/v1/counters/{code}/token"): ADMINS,
    ("GET", "/api/v1/counters/{code}/qr.svg"): ADMINS,
    ("GET", "/api/v1/counters/{code}/qr.png"): ADMINS,
    ("GET", "/api/v1/units/{code}/qr-sheet.html"): ADMINS,
    ("PUT", "/api/v1/review-windows/{period}"): ADMINS,
    # survey: the review cycle's response, counts only, within scope
    ("GET", "/api/v1/review-cycles/{period}/response"): IN_SCOPE_OF_A1,
    ("POST", "/api/v1/review-cycles/{period}/units/{code}/reminders"): IN_SCOPE_OF_A1,
    ("GET", "/api/v1/audit"): ADMINS,
    # survey: held ratings, to administrators and managers in scope
    ("GET", "/api/v1/ratings/suspect"): IN_SCOPE_OF_A1,
    ("POST", "/api/v1/ratings/{rating_id}/decision"): IN_SCOPE_OF_A1,
    ("POST", "/api/v1/ratings/bursts/{burst}/decision"): IN_SCOPE_OF_A1,
    # survey: what anyone may do
    ("POST", "/api/v1/ratings"): EVERYONE,
    ("POST", "/api/v1/auth/links"): EVERYONE,
    # survey: peer reviews are between colleagues of one unit (A1: the official only)
    ("GET", "/api/v1/peer-reviews/{period}/assignments"): OFFICIALS,
    ("GET", "/api/v1/peer-reviews/{period}/{reviewee}"): frozenset({OFFICIAL, OFFICIAL_TOKEN}),
    ("PUT", "/api/v1/peer-reviews/{period}/{reviewee}"): frozenset({OFFICIAL, OFFICIAL_TOKEN}),
    # every service: who is calling
    ("GET", "/api/v1/me"): KNOWN,
    # scoring: an official's own score, a unit's to those in its scope
    ("GET", "/api/v1/scores/officials/{code}"): IN_SCOPE_OF_A1 | {OFFICIAL, OFFICIAL_TOKEN},
    ("GET", "/api/v1/scores/units/{code}"): IN_SCOPE_OF_A1,
    ("GET", "/api/v1/reports/units/{code}.csv"): IN_SCOPE_OF_A1,
    ("GET", "/api/v1/reports/units/{code}.xlsx"): IN_SCOPE_OF_A1,
    ("GET", "/api/v1/scoring/config"): ADMINS,
    ("PUT", "/api/v1/scoring/config"): ADMINS,
    ("GET", "/api/v1/scoring/status"): ADMINS,
    ("PUT", "/api/v1/scoring/hold"): ADMINS,
    ("DELETE", "/api/v1/scoring/hold"): ADMINS,
    # notify: deadlines are written by the administrator, read within scope
    ("PUT", "/api/v1/deadlines/{deadline_id}"): ADMINS,
    ("GET", "/api/v1/deadlines/{deadline_id}"): IN_SCOPE_OF_A1,
    ("DELETE", "/api/v1/deadlines/{deadline_id}"): ADMINS,
    ("GET", "/api/v1/deadlines"): ADMINS | {MANAGER_A, MANAGER_B},
    ("POST", "/api/v1/deadlines/{deadline_id}/submissions/{unit}"): ADMINS,
    ("POST", "/api/v1/calendar"): ADMINS,
    ("GET", "/api/v1/notifications"): IN_SCOPE_OF_A1,
}

# Path parameters: a unit below manager A's unit, the official's own records, and for the
# calls that change something, records no caller depends on.
PARAMS = {"code": "A1", "period": YEAR, "reviewee": "CB2", "job_id": "nojob",
          "deadline_id": "bao-cao", "unit": "A1"}
PER_OPERATION = {
    ("GET", "/api/v1/officials/{code}"): {"code": "CB"},
    ("PUT", "/api/v1/officials/{code}"): {"code": "CBX"},
    ("POST", "/api/v1/officials/{code}/tokens"): {"code": "CBX"},
    ("DELETE", "/api/v1/officials/{code}/tokens"): {"code": "CBX"},
    ("GET", "/api/v1/scores/officials/{code}"): {"code": "CB"},
    ("PUT", "/api/v1/counters/{code}"): {"code": "QX"},
    ("GET", "/api/v1/counters/{code}"): {"code": "Q1"},
    ("POST", "/api/v1/counters/{code}/token"): {"code": "QX"},
    ("GET", "/api/v1/counters/{code}/qr.svg"): {"code": "Q1"},
    ("GET", "/api/v1/counters/{code}/qr.png"): {"code": "Q1"},
    ("PUT", "/api/v1/units/{code}"): {"code": "AX"},
    ("PUT", "/api/v1/deadlines/{deadline_id}"): {"deadline_id": "khac"},
    ("DELETE", "/api/v1/deadlines/{deadline_id}"): {"deadline_id": "khong-co"},
}
QUERIES = {("GET", "/api/v1/notifications"): "?unit=A1",
           ("GET", "/api/v1/ratings/suspect"): "?unit=A1",
           ("GET", "/api/v1/review-cycles/{period}/response"): "?unit=A1"}
# a valid body where an empty one would be refused before the rule under test applies
BODIES = {("PUT", "/api/v1/peer-reviews/{period}/{reviewee}"): {"scores": dict.fromkeys(
    ("discipline", "conduct", "ethics", "dress", "participation"), 4)},
          ("POST", "/api/v1/ratings/{rating_id}/decision"): {"decision": "reject"},
          ("POST", "/api/v1/ratings/bursts/{burst}/decision"): {"decision": "accept"}}
HELD: dict[str, str] = {}  # a held rating of A1 and its burst (`system` holds them)


def put(client, path, body):
    r = client.put(path, json=body, headers=ADMIN)
    assert r.status_code in (200, 201), (path, r.get_json())
    return r.get_json()


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    """Survey, scoring and notify on one bus, each with its own database."""
    import uuid

    bus = MemoryBus()
    base = f"mongomock://localhost/authz_{uuid.uuid4().hex[:8]}"
    apps = {name: start(create, make_settings(name, f"{base}_{name}"), bus)
            for name, create in (("survey", create_survey), ("scoring", create_scoring),
                                 ("notify", create_notify))}
    survey = apps["survey"].client
    put(survey, "/api/v1/units/A", {"name": "Sở A"})
    put(survey, "/api/v1/units/A1", {"name": "Phường A1", "parent": "A"})
    put(survey, "/api/v1/units/B", {"name": "Sở B"})
    for code, unit, extra in [("CB", "A1", {}), ("CB2", "A1", {}), ("CBR", "A1", {}),
                              ("CBS", "A1", {}), ("CBX", "A1", {}), ("MA", "A", {}),
                              ("MB", "B", {}), ("AD", "A", {"roles": ["admin"]})]:
        put(survey, f"/api/v1/officials/{code}",
            {"full_name": f"Cán bộ {code}", "unit": unit, **extra})
    put(survey, "/api/v1/units/A", {"name": "Sở A", "managers": ["MA"]})
    put(survey, "/api/v1/units/B", {"name": "Sở B", "managers": ["MB"]})
    counter = put(survey, "/api/v1/counters/Q1", {"unit": "A1", "label": "Quầy 1",
                                                  "officials": ["CB"]})
    for i in range(12):  # one address, one official: the 11th and 12th are held (a burst)
        r = survey.post("/api/v1/ratings", json={
            "counter_token": counter["token"], "official": "CB", "overall": 1 + i % 4,
            "client_id": str(uuid.uuid4())})
        assert r.status_code == 201
    held = survey.get("/api/v1/ratings/suspect?unit=A1", headers=ADMIN).get_json()
    HELD.update(rating_id=held[0]["id"], burst=held[0]["burst"])
    deadline = {"title": "Báo cáo", "units": ["A1"], "remind_before": ["P7D"],
                "due_at": (datetime.now(UTC) + timedelta(days=30)).isoformat()}
    wait_for(lambda: apps["notify"].client.put(  # once notify has heard of A1
        "/api/v1/deadlines/bao-cao", json=deadline, headers=ADMIN).status_code == 201,
        message="notify to know unit A1")
    yield apps
    for running in apps.values():
        running.stop()


@pytest.fixture(scope="module")
def callers(system):
    """How each kind of caller calls: (headers, cookie)."""
    survey = system["survey"]
    signer = survey.app.config["CONGSO_SESSION_SIGNER"]

    def session(official, now=None):
        token, claims = signer.issue(official, now=now)
        return {sessions.CSRF_HEADER: claims.csrf}, token

    def bearer(official):
        r = survey.client.post(f"/api/v1/officials/{official}/tokens", headers=ADMIN)
        return {"Authorization": f"Bearer {r.get_json()['token']}"}

    revoked = bearer("CBR")
    assert survey.client.delete("/api/v1/officials/CBR/tokens",
                                headers=ADMIN).status_code == 200
    out_headers, out_cookie = session("CBS")
    client = survey.client
    client.set_cookie(sessions.COOKIE, out_cookie)
    assert client.post("/logout", data={sessions.CSRF_FIELD: out_headers[
        sessions.CSRF_HEADER]}).status_code == 303
    return {
        ANONYMOUS: ({}, None),
        OFFICIAL: session("CB"),
        OFFICIAL_TOKEN: (bearer("CB"), None),
        MANAGER_A: session("MA"),
        MANAGER_B: session("MB"),
        ADMIN_TOKEN_: (ADMIN, None),
        ADMIN_OFFICIAL: session("AD"),
        REVOKED: (revoked, None),
        EXPIRED: session("CB", now=datetime.now(UTC) - sessions.IDLE - timedelta(minutes=1)),
        SIGNED_OUT: (out_headers, out_cookie),
    }


def operations(running) -> list[tuple[str, str]]:
    doc = running.client.get("/api/v1/openapi.json").get_json()
    return [(method.upper(), path) for path, item in doc["paths"].items()
            for method in item if method in ("get", "put", "post", "delete", "patch")]


def call(running, method, path, headers, cookie):
    client = running.client
    if cookie:
        client.set_cookie(sessions.COOKIE, cookie)
    values = {**PARAMS, **HELD, **PER_OPERATION.get((method, path), {})}
    url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
    url += QUERIES.get((method, path), "")
    body = BODIES.get((method, path), {}) if method in ("PUT", "POST", "PATCH") else None
    return client.open(url, method=method, json=body, headers=headers)


def test_every_operation_has_a_row(system):
    missing = {op for running in system.values() for op in operations(running)} - set(ALLOWED)
    assert not missing, f"operations with no row in the table: {sorted(missing)}"


def test_every_service_knows_the_sessions_and_tokens_it_has_only_heard_of(system, callers):
    """Scoring and notify learn survey's key, the directory, the tokens, the sign-outs and
    revocations through events: wait for them before judging."""
    for name in ("scoring", "notify"):
        for who, expected in ((OFFICIAL, 200), (OFFICIAL_TOKEN, 200), (MANAGER_A, 200),
                              (REVOKED, 401), (SIGNED_OUT, 401), (EXPIRED, 401)):
            headers, cookie = callers[who]

            def answered(name=name, headers=headers, cookie=cookie, expected=expected):
                running = system[name]
                return call(running, "GET", "/api/v1/me", headers, cookie).status_code == \
                    expected

            wait_for(answered, timeout=10, message=f"{name} to judge {who} as {expected}")


@pytest.mark.parametrize("service", ["survey", "scoring", "notify"])
def test_each_operation_allows_exactly_whom_the_table_says(system, callers, service):
    test_every_service_knows_the_sessions_and_tokens_it_has_only_heard_of(system, callers)
    running = system[service]
    wrong = []
    for method, path in operations(running):
        allowed = ALLOWED[(method, path)]
        for who, (headers, cookie) in callers.items():
            running.client.delete_cookie(sessions.COOKIE)
            r = call(running, method, path, headers, cookie)
            assert r.status_code < 500, (method, path, who, r.get_data(as_text=True)[:300])
            denied = r.status_code in (401, 403)
            if denied == (who in allowed):
                wrong.append((method, path, who, r.status_code))
            if denied and who in (ANONYMOUS, REVOKED, EXPIRED, SIGNED_OUT):
                assert r.status_code == 401, (method, path, who, r.status_code)
    assert not wrong, "\n".join(map(str, wrong))
