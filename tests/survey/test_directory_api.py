"""Directory endpoints and the events they publish."""

from devkit.apps import ADMIN, queued_events
from shared import events as ev
from shared import topology


def put(client, path, body, headers=ADMIN):
    return client.put(f"/api/v1/{path}", json=body, headers=headers)


def published(survey, type_):
    survey.runtime.get("survey.relay").flush()
    return queued_events(survey, topology.queue_for("scoring").name, type_)


def test_unit_created_then_updated_publishes_each_version(survey, client):
    r = put(client, "units/SNV", {"name": "Sở Nội vụ", "emails": ["A@x.vn", "a@x.vn"]})
    assert r.status_code == 201
    assert r.get_json()["emails"] == ["a@x.vn"]
    r = put(client, "units/SNV", {"name": "Sở Nội vụ TP", "webhook_url": "http://hook.local/x"})
    assert r.status_code == 200 and r.get_json()["version"] == 2
    events = published(survey, ev.UNIT_UPSERTED)
    # the relay may have sent version 1 before version 2 replaced it in the outbox
    assert events[-1].data["version"] == 2 and events[-1].data["name"] == "Sở Nội vụ TP"
    assert events[-1].data["webhook_url"] == "http://hook.local/x"
    # what the write answered is what a read gives back, to the millisecond of updated_at
    assert client.get("/api/v1/units/SNV", headers=ADMIN).get_json() == r.get_json()
    assert r.get_json()["name"] == "Sở Nội vụ TP"


def test_unknown_parent_is_422_and_loops_are_refused(survey, client):
    r = put(client, "units/U2", {"name": "x", "parent": "NOPE"})
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["parent"]
    assert put(client, "units/A", {"name": "A"}).status_code == 201
    assert put(client, "units/B", {"name": "B", "parent": "A"}).status_code == 201
    r = put(client, "units/A", {"name": "A", "parent": "B"})
    assert r.status_code == 422 and "loop" in r.get_json()["errors"]["parent"][0]
    assert put(client, "units/A", {"name": "A", "parent": "A"}).status_code == 422
    assert client.get("/api/v1/units/A", headers=ADMIN).get_json()["parent"] is None


def test_official_needs_a_known_unit(survey, client):
    r = put(client, "officials/CB1", {"full_name": "A", "unit": "NOPE"})
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["unit"]
    put(client, "units/U1", {"name": "U"})
    r = put(client, "officials/CB1", {"full_name": "Lê Văn A", "unit": "U1"})
    assert r.status_code == 201 and r.get_json()["active"] is True
    events = published(survey, ev.OFFICIAL_UPSERTED)
    assert [e.data["full_name"] for e in events] == ["Lê Văn A"]


def test_counter_has_a_kiosk_url_and_keeps_its_token(survey, client):
    put(client, "units/U1", {"name": "U"})
    put(client, "officials/CB1", {"full_name": "A", "unit": "U1"})
    r = put(client, "counters/Q1", {"unit": "U1", "label": "Quầy 1", "officials": ["CB1"]})
    assert r.status_code == 201
    body = r.get_json()
    assert body["kiosk_url"] == f"http://kiosk.test/k/{body['token']}"
    assert len(body["token"]) >= 20
    again = put(client, "counters/Q1", {"unit": "U1", "label": "Quầy một", "officials": []})
    assert again.status_code == 200 and again.get_json()["token"] == body["token"]
    r = put(client, "counters/Q2", {"unit": "U1", "label": "x", "officials": ["CB1", "GHOST"]})
    assert r.status_code == 422 and "GHOST" in r.get_json()["errors"]["officials"][0]


def test_directory_is_for_the_admin_only(survey, client):
    assert put(client, "units/U1", {"name": "U"}, headers={}).status_code == 401
    r = put(client, "units/U1", {"name": "U"}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert client.get("/api/v1/units/U1", headers=ADMIN).status_code == 404


def test_bad_code_in_path_is_422(survey, client):
    r = put(client, "units/bad%20code", {"name": "U"})
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["code"]


def test_lists_of_units_officials_and_counters(survey, client):
    put(client, "units/U1", {"name": "Một"})
    put(client, "units/U2", {"name": "Hai"})
    put(client, "officials/B", {"full_name": "B", "unit": "U1"})
    put(client, "officials/A", {"full_name": "A", "unit": "U2"})
    put(client, "counters/Q1", {"unit": "U1", "label": "Quầy 1", "officials": ["B"]})
    assert [u["code"] for u in client.get("/api/v1/units", headers=ADMIN).get_json()] == \
        ["U1", "U2"]
    assert [o["code"] for o in client.get("/api/v1/officials", headers=ADMIN).get_json()] == \
        ["A", "B"]
    assert [o["code"] for o in client.get("/api/v1/officials?unit=U1",
                                          headers=ADMIN).get_json()] == ["B"]
    counters = client.get("/api/v1/counters?unit=U1", headers=ADMIN).get_json()
    assert [c["code"] for c in counters] == ["Q1"] and counters[0]["kiosk_url"]
    assert client.get("/api/v1/officials?unit=bad code", headers=ADMIN).status_code == 422
