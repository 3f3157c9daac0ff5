"""The import's `email` and `managers` columns: the API's rules, all or nothing, duplicates
listed as row errors, roles and unlisted columns kept."""

from __future__ import annotations

from devkit.apps import ADMIN, queued_events
from services.survey.documents import Official
from shared import auth_events as auth
from shared import topology
from tests.survey.test_import import counts, post

HEADER = "kind,code,name,unit,parent,managers,email\n"


def officials():
    return {d["_id"]: d for d in Official._get_collection().find()}


def test_emails_and_managers_are_imported(survey, client):
    r = post(client, HEADER + "unit,P1,Phường Một,,,CB1;CB2,\n"
                              "official,CB1,Lê Văn Hùng,P1,,,ChuTich@P1.example.vn\n"
                              "official,CB2,Phan Thị Ánh,P1,,,\n")
    assert r.status_code == 200, r.get_json()
    assert officials()["CB1"]["email"] == "chutich@p1.example.vn"
    assert officials()["CB2"]["email"] is None
    assert client.get("/api/v1/units/P1", headers=ADMIN).get_json()["managers"] == \
        ["CB1", "CB2"]
    assert survey.app.extensions["survey"].access.manages("CB1") == ["P1"]


def test_bad_rows_are_listed_and_nothing_is_written(survey, client):
    client.put("/api/v1/units/U1", json={"name": "Một"}, headers=ADMIN)
    client.put("/api/v1/officials/OLD", json={"full_name": "Cũ", "unit": "U1",
                                              "email": "cu@example.vn"}, headers=ADMIN)
    before = counts()
    r = post(client, HEADER +
             "unit,P1,Phường Một,,,CB1;NOBODY,\n"            # 2: an unknown manager
             "official,CB1,A,P1,,,a@example.vn\n"             # 3
             "official,CB2,B,P1,,,A@EXAMPLE.VN\n"             # 4: CB1's, on row 3
             "official,CB3,C,P1,,,cu@example.vn\n"            # 5: OLD's, in the directory
             "official,CB4,D,P1,,,lan@exаmple.vn\n"           # 6: a Cyrillic 'а'
             "official,CB5,E,P1,,,x@example.vn\r\n"           # 7: fine (the CSV line ends)
             "unit,P2,Phường Hai,,,,p2@example.vn\n"          # 8: a unit's go in 'emails'
             "official,CB6,F,P1,,CB1,\n")                     # 9: officials manage nothing
    assert r.status_code == 422
    errors = {(e["row"], e["field"]) for e in r.get_json()["errors"]}
    assert errors == {(2, "managers"), (4, "email"), (5, "email"), (6, "email"),
                      (8, "email"), (9, "managers")}, r.get_json()["errors"]
    messages = {(e["row"], e["field"]): e["message"] for e in r.get_json()["errors"]}
    assert "NOBODY" in messages[(2, "managers")]
    assert "CB1 on row 3" in messages[(4, "email")]
    assert "OLD in the directory" in messages[(5, "email")]
    assert counts() == before


def test_a_file_without_the_columns_keeps_email_managers_and_roles(survey, client):
    client.put("/api/v1/units/U1", json={"name": "Một"}, headers=ADMIN)
    client.put("/api/v1/officials/CB1", json={"full_name": "A", "unit": "U1", "roles": ["admin"],
                                              "email": "a@example.vn"}, headers=ADMIN)
    client.put("/api/v1/units/U1", json={"name": "Một", "managers": ["CB1"]}, headers=ADMIN)
    r = post(client, "kind,code,name,unit\nunit,U1,Phường Một,\nofficial,CB1,Tên mới,U1\n")
    assert r.status_code == 200, r.get_json()
    cb1 = officials()["CB1"]
    assert (cb1["full_name"], cb1["email"], cb1["roles"]) == ("Tên mới", "a@example.vn",
                                                               ["admin"])
    assert client.get("/api/v1/units/U1", headers=ADMIN).get_json()["managers"] == ["CB1"]
    # with the column, the file decides: an empty cell removes the address
    assert post(client, HEADER + "official,CB1,Tên mới,U1,,,\n").status_code == 200
    assert officials()["CB1"]["email"] is None and officials()["CB1"]["roles"] == ["admin"]


def test_an_address_handed_on_within_the_file(survey, client):
    client.put("/api/v1/units/U1", json={"name": "Một"}, headers=ADMIN)
    for code, email in (("CB1", "x@example.vn"), ("CB2", "y@example.vn")):
        client.put(f"/api/v1/officials/{code}", json={"full_name": code, "unit": "U1",
                                                      "email": email}, headers=ADMIN)
    # CB3 takes CB2's address, which CB2 gives up in the same file (listed after it)
    r = post(client, HEADER + "official,CB3,C,U1,,,y@example.vn\n"
                              "official,CB2,B,U1,,,z@example.vn\n")
    assert r.status_code == 200, r.get_json()
    assert {c: d["email"] for c, d in officials().items()} == {
        "CB1": "x@example.vn", "CB2": "z@example.vn", "CB3": "y@example.vn"}
    # a swap cannot be written one official at a time: refused, nothing written
    r = post(client, HEADER + "official,CB1,A,U1,,,z@example.vn\n"
                              "official,CB2,B,U1,,,x@example.vn\n")
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "email"
    assert officials()["CB1"]["email"] == "x@example.vn"


def test_an_email_changed_by_the_import_is_told_to_both_addresses(survey, client):
    client.put("/api/v1/units/U1", json={"name": "Một"}, headers=ADMIN)
    client.put("/api/v1/officials/CB1", json={"full_name": "A", "unit": "U1",
                                              "email": "old@example.vn"}, headers=ADMIN)
    assert post(client, HEADER + "official,CB1,A,U1,,,new@example.vn\n").status_code == 200
    survey.runtime.get("survey.relay").flush()
    notices = queued_events(survey, topology.queue_for("notify").name, auth.ACCOUNT_NOTICE)
    assert [(n.data["notice"], n.data["emails"]) for n in notices] == \
        [("email_changed", ["new@example.vn", "old@example.vn"])]
    audit = client.get("/api/v1/audit", headers=ADMIN).get_json()
    assert [e["action"] for e in audit][:2] == ["directory_imported", "email_changed"]
