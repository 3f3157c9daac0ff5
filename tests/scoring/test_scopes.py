"""Who may read which scores: the contract's "Reads by scope", checked for each kind of
caller. The office: P above U1 and U2; MP manages P, M1 manages U1, M2 manages U2; CB1
and CB2 work in U1, ADM (role admin) in U2. Everything scoring knows of it comes as
events through its queue, as in production."""

from __future__ import annotations

import pytest

from devkit.apps import ADMIN
from tests.scoring.helpers import as_caller, deliver, official, revoked, unit


def status(running, caller: str, path: str) -> int:
    client, headers = as_caller(running, caller)
    return client.get(path, headers=headers).status_code


CALLERS = ("anonymous", "admin", "ADM", "ADM-session", "CB1", "CB1-session", "CB2", "M1",
           "M1-session", "M2", "MP")
OWN_SCORE = {"anonymous": 401, "admin": 200, "ADM": 200, "ADM-session": 200, "CB1": 200,
             "CB1-session": 200, "CB2": 403, "M1": 200, "M1-session": 200, "M2": 403,
             "MP": 200}
UNIT_U1 = {**OWN_SCORE, "CB1": 403, "CB1-session": 403}
UNIT_READS = ("/api/v1/scores/units/U1?period=2026", "/api/v1/reports/units/U1.csv?period=2026",
              "/api/v1/reports/units/U1.xlsx?period=2026")


@pytest.mark.parametrize("caller", CALLERS)
def test_an_officials_score_is_theirs_their_managers_and_the_admins(office, caller):
    assert status(office, caller, "/api/v1/scores/officials/CB1?period=2026") == \
        OWN_SCORE[caller]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("path", UNIT_READS)
def test_a_units_results_are_for_its_managers_above_it_and_the_admins(office, caller, path):
    assert status(office, caller, path) == UNIT_U1[caller]


def test_a_managers_scope_is_their_unit_and_below_never_beside_or_above(office):
    assert status(office, "M1", "/api/v1/scores/units/U2") == 403  # a sibling
    assert status(office, "M1", "/api/v1/scores/units/P") == 403  # the unit above
    assert status(office, "M1", "/api/v1/scores/officials/M2") == 403  # a sibling's official
    assert status(office, "MP", "/api/v1/scores/units/U2") == 200
    assert status(office, "MP", "/api/v1/scores/officials/M2") == 200
    assert status(office, "M2", "/api/v1/scores/officials/M2") == 200  # their own


def test_what_a_manager_reads_is_the_units_whole_view(office):
    client, headers = as_caller(office, "M1")
    body = client.get("/api/v1/scores/units/U1?period=2026", headers=headers).get_json()
    assert {o["official"] for o in body["officials"]} == {"CB1", "CB2", "M1"}
    assert body["citizen"]["count"] == 1


@pytest.mark.parametrize("path", ["/api/v1/scores/units/NOPE", "/api/v1/scores/officials/NOPE",
                                  "/api/v1/reports/units/NOPE.csv?period=2026"])
def test_an_unknown_code_is_403_out_of_scope_and_404_only_to_the_admin(office, path):
    """Whether a unit or an official exists is not told to someone who could not read it."""
    for caller in ("CB1", "M1", "MP", "CB1-session"):
        assert status(office, caller, path) == 403, caller
    assert status(office, "admin", path) == 404
    assert status(office, "ADM", path) == 404


def test_an_unknown_unit_answers_like_a_known_one_out_of_scope(office):
    client, headers = as_caller(office, "M1")
    known = client.get("/api/v1/scores/units/U2", headers=headers)
    unknown = client.get("/api/v1/scores/units/NOPE", headers=headers)
    assert known.status_code == unknown.status_code == 403
    assert known.get_json()["type"] == unknown.get_json()["type"]


@pytest.mark.parametrize("caller", ["CB1", "M1", "MP", "M1-session"])
@pytest.mark.parametrize("method,path,body", [
    ("get", "/api/v1/scoring/config", None),
    ("put", "/api/v1/scoring/config", {"citizen_weight": 1, "peer_weight": 0,
                                       "prior_weight": 10, "prior_rate": 0.8,
                                       "min_peer_reviewers": 3}),
    ("get", "/api/v1/scoring/status", None),
    ("put", "/api/v1/scoring/hold", {"seconds": 60}),
    ("delete", "/api/v1/scoring/hold", None),
])
def test_configuration_hold_and_status_stay_admin_only(office, caller, method, path, body):
    client, headers = as_caller(office, caller)
    r = getattr(client, method)(path, json=body, headers=headers)
    assert r.status_code == 403
    assert office.client.get("/api/v1/scoring/config", headers=ADMIN).get_json()["version"] == 0


def test_an_admin_official_changes_the_configuration_with_a_csrf_token(office):
    body = {"citizen_weight": 1, "peer_weight": 0, "prior_weight": 10, "prior_rate": 0.8,
            "min_peer_reviewers": 3}
    client, csrf = as_caller(office, "ADM-session")
    assert client.put("/api/v1/scoring/config", json=body).status_code == 403  # no CSRF
    r = client.put("/api/v1/scoring/config", json=body,
                   headers={**csrf, "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    r = client.put("/api/v1/scoring/config", json=body, headers=csrf)
    assert r.status_code == 200 and r.get_json()["version"] == 1
    # a bearer token carries no ambient credential: no CSRF value needed
    r = client.put("/api/v1/scoring/config", json=body,
                   headers={"Authorization": "Bearer cso_ADM"})
    assert r.status_code == 200 and r.get_json()["version"] == 2


def test_revoked_tokens_and_ended_sessions_read_nothing(office):
    path = "/api/v1/scores/officials/CB1?period=2026"
    session, _ = as_caller(office, "CB1-session")
    assert status(office, "CB1", path) == 200 and session.get(path).status_code == 200
    deliver(office, revoked("CB1", tokens=True))
    assert status(office, "CB1", path) == 401
    assert session.get(path).status_code == 200  # only the tokens were revoked
    deliver(office, revoked("CB1", sessions=True))
    assert session.get(path).status_code == 401


def test_a_deactivated_manager_reads_nothing_and_a_removed_one_loses_the_unit(office):
    path = "/api/v1/scores/units/U1"
    deliver(office, official("M1", "U1", version=2, active=False))
    assert status(office, "M1", path) == 401 and status(office, "M1-session", path) == 401
    assert status(office, "MP", path) == 200
    deliver(office, unit("P", version=2, managers=[]))
    assert status(office, "MP", path) == 403


def test_an_official_who_moves_unit_moves_out_of_the_old_managers_scope(office):
    path = "/api/v1/scores/officials/CB2"
    assert (status(office, "M1", path), status(office, "M2", path)) == (200, 403)
    deliver(office, official("CB2", "U2", version=2))
    assert (status(office, "M1", path), status(office, "M2", path)) == (403, 200)


def test_me_tells_a_manager_what_they_manage(office):
    client, headers = as_caller(office, "MP")
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["official"] == "MP" and me["manages"] == ["P"] and me["unit"] == "P"
    client, _ = as_caller(office, "ADM-session")
    me = client.get("/api/v1/me").get_json()
    assert me["roles"] == ["admin"] and me["via"] == "session"
    assert office.client.get("/api/v1/me").status_code == 401
