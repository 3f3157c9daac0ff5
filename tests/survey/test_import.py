"""POST /api/v1/directory/import: CSV or XLSX, all rows valid or nothing written."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from devkit.apps import ADMIN, queued_events
from services.survey.documents import Official, Unit
from shared import events as ev
from shared import topology

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

GOOD_CSV = """kind,code,name,unit,parent,position,emails,webhook_url
official,CB10,Nguyễn Văn Mười,P1,,Công chức Tư pháp,,
unit,P1,UBND phường Một,,Q,,motcua@p1.vn;ThuKy@P1.vn,https://hooks.p1.vn/congso
unit,Q,UBND quận,,,,,
official,CB11,Trần Thị Mười Một,Q,,,,
"""


def post(client, data: bytes | str, content_type="text/csv", headers=ADMIN):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return client.post("/api/v1/directory/import", data=data, content_type=content_type,
                       headers=headers)


def counts():
    return (Unit._get_collection().count_documents({}),
            Official._get_collection().count_documents({}))


def directory_events(survey):
    survey.runtime.get("survey.relay").flush()
    return queued_events(survey, topology.queue_for("notify").name,
                         ev.UNIT_UPSERTED, ev.OFFICIAL_UPSERTED)


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_csv_creates_units_parents_first_and_officials(survey, client):
    r = post(client, GOOD_CSV)
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"created": 4, "updated": 0}
    unit = client.get("/api/v1/units/P1", headers=ADMIN).get_json()
    assert unit["parent"] == "Q"
    assert unit["emails"] == ["motcua@p1.vn", "thuky@p1.vn"]
    assert unit["webhook_url"] == "https://hooks.p1.vn/congso"
    official = client.get("/api/v1/officials/CB10", headers=ADMIN).get_json()
    assert official["full_name"] == "Nguyễn Văn Mười"
    assert official["position"] == "Công chức Tư pháp"
    kinds = [(e.type, e.data["code"]) for e in directory_events(survey)]
    assert kinds.index((ev.UNIT_UPSERTED, "Q")) < kinds.index((ev.UNIT_UPSERTED, "P1"))
    assert len(kinds) == 4


def test_importing_again_updates(client):
    post(client, GOOD_CSV)
    r = post(client, GOOD_CSV.replace("UBND quận", "UBND quận Một"))
    assert r.get_json() == {"created": 0, "updated": 4}
    assert client.get("/api/v1/units/Q", headers=ADMIN).get_json()["name"] == "UBND quận Một"


def test_csv_as_excel_writes_it_with_vietnamese_regional_settings(client):
    """Semicolons (the comma is the decimal mark there), a byte-order mark, CRLF."""
    import csv

    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(
        csv.reader(io.StringIO(GOOD_CSV)))
    assert '"motcua@p1.vn;ThuKy@P1.vn"' in out.getvalue()  # a list quoted, as Excel does
    r = post(client, "\ufeff" + out.getvalue())
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"created": 4, "updated": 0}
    unit = client.get("/api/v1/units/P1", headers=ADMIN).get_json()
    assert unit["emails"] == ["motcua@p1.vn", "thuky@p1.vn"] and unit["parent"] == "Q"
    assert client.get("/api/v1/officials/CB10", headers=ADMIN).get_json()[
        "position"] == "Công chức Tư pháp"


def test_xlsx_import(client):
    data = xlsx([["code", "kind", "name", "unit", "parent"],
                 ["U9", "unit", "Sở Nội vụ", None, None],
                 ["CB9", "official", "Phạm Chín", "U9", None]])
    r = post(client, data, XLSX)
    assert r.status_code == 200 and r.get_json() == {"created": 2, "updated": 0}


def test_every_bad_row_is_listed_and_nothing_is_written(survey, client):
    client.put("/api/v1/units/EXIST", json={"name": "Có sẵn"}, headers=ADMIN)
    events_before = len(directory_events(survey))
    before = counts()
    bad = """kind,code,name,unit,parent,emails,webhook_url
unit,OK1,Đơn vị tốt,,EXIST,,
unit,B1,,,NOPE,not-an-email,ftp://x
person,B2,Ai đó,,,,
official,B3,Cán bộ,MISSING,,,
official,bad code,Cán bộ,OK1,,,
unit,OK1,Trùng mã,,,,
official,B4,Cán bộ,OK1,OK1,,
"""
    r = post(client, bad)
    assert r.status_code == 422
    errors = r.get_json()["errors"]
    found = {(e["row"], e["field"]) for e in errors}
    assert found == {(3, "name"), (3, "parent"), (3, "emails"), (3, "webhook_url"),
                     (4, "kind"), (5, "unit"), (6, "code"), (7, "code"), (8, "parent")}
    assert all(e["message"] for e in errors)
    assert counts() == before
    assert len(directory_events(survey)) == events_before


def test_a_loop_of_parents_in_the_file_is_refused(client):
    r = post(client, "kind,code,name,parent\nunit,A,A,B\nunit,B,B,A\n")
    assert r.status_code == 422
    assert {e["field"] for e in r.get_json()["errors"]} == {"parent"}
    assert counts() == (0, 0)


def test_unknown_and_missing_columns(client):
    r = post(client, "kind,code,nmae\nunit,A,A\n")
    assert r.status_code == 422
    assert {(e["row"], e["field"]) for e in r.get_json()["errors"]} == {(1, "nmae"), (1, "name")}


@pytest.mark.parametrize("data, content_type", [
    (b"\xff\xfe\x00k\x00i", "text/csv"),
    (b"not a zip at all", XLSX),
    (b"", "text/csv"),
])
def test_unreadable_files_are_400(client, data, content_type):
    r = post(client, data, content_type)
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert counts() == (0, 0)


def test_a_csv_that_is_not_utf8_says_how_to_save_it(client):
    r = post(client, GOOD_CSV.encode("utf-16"))  # Excel's "Unicode Text"
    assert r.status_code == 400 and "CSV UTF-8" in r.get_json()["detail"]


def test_wrong_content_type_and_auth(client):
    assert post(client, GOOD_CSV, "application/json").status_code == 400
    assert post(client, GOOD_CSV, headers={}).status_code == 401


def test_larger_files_than_64_kib_are_accepted_for_import(client):
    rows = "".join(f"official,CB{i},Cán bộ số {i},Q,,,,\n" for i in range(3000))
    data = "kind,code,name,unit,parent,position,emails,webhook_url\nunit,Q,Quận,,,,,\n" + rows
    assert len(data.encode()) > 64 * 1024
    r = post(client, data)
    assert r.status_code == 200 and r.get_json()["created"] == 3001


def csv_of(rows: list[list[str]]) -> str:
    import csv

    out = io.StringIO()
    csv.writer(out).writerows([["kind", "code", "name", "unit", "parent", "position",
                                "emails", "webhook_url"], *rows])
    return out.getvalue()


MANY_EMAILS = ";".join(f"motcua{i}@p1.vn" for i in range(21))
# (import row, the same as an API call, the column the import names)
REFUSED_BY_BOTH = [
    (["unit", "U1", "UBND\nphường Một", "", "", "", "", ""],
     ("units/U1", {"name": "UBND\nphường Một"}), "name"),
    (["unit", "U1", "UBND phường\x07 Một", "", "", "", "", ""],
     ("units/U1", {"name": "UBND phường\x07 Một"}), "name"),
    (["unit", "U1", "x" * 301, "", "", "", "", ""], ("units/U1", {"name": "x" * 301}), "name"),
    (["unit", "U1", "\u00a0 ", "", "", "", "", ""], ("units/U1", {"name": "\u00a0 "}), "name"),
    (["unit", "U1", "Phường Một", "", "", "", MANY_EMAILS, ""],
     ("units/U1", {"name": "Phường Một", "emails": MANY_EMAILS.split(";")}), "emails"),
    (["unit", "U1", "Phường Một", "", "", "", "a@b.vn;not-an-email", ""],
     ("units/U1", {"name": "Phường Một", "emails": ["a@b.vn", "not-an-email"]}), "emails"),
    (["unit", "U1", "Phường Một", "", "", "", "", "ftp://hook.vn"],
     ("units/U1", {"name": "Phường Một", "webhook_url": "ftp://hook.vn"}), "webhook_url"),
    (["unit", "U1", "Phường Một", "", "bad parent!", "", "", ""],
     ("units/U1", {"name": "Phường Một", "parent": "bad parent!"}), "parent"),
    (["official", "CB1", "Nguyễn Văn\r\nMột", "Q", "", "", "", ""],
     ("officials/CB1", {"full_name": "Nguyễn Văn\r\nMột", "unit": "Q"}), "name"),
    (["official", "CB1", "Nguyễn Văn Một", "Q", "", "Công chức\u2028Tư pháp", "", ""],
     ("officials/CB1", {"full_name": "Nguyễn Văn Một", "unit": "Q",
                        "position": "Công chức\u2028Tư pháp"}), "position"),
    (["official", "CB1", "Nguyễn Văn Một", "Q", "", "y" * 301, "", ""],
     ("officials/CB1", {"full_name": "Nguyễn Văn Một", "unit": "Q", "position": "y" * 301}),
     "position"),
]


@pytest.mark.parametrize("row, api_call, column", REFUSED_BY_BOTH)
def test_the_import_refuses_what_the_api_refuses(client, row, api_call, column):
    """One set of field rules: control characters and line breaks (they reach email
    subjects), more than 20 emails, blank or long names are refused by both."""
    assert client.put("/api/v1/units/Q", json={"name": "Quận"}, headers=ADMIN).status_code == 201
    path, body = api_call
    api = client.put(f"/api/v1/{path}", json=body, headers=ADMIN)
    assert api.status_code == 422, api.get_json()
    r = post(client, csv_of([row]))
    assert r.status_code == 422, r.get_json()
    assert {(e["row"], e["field"]) for e in r.get_json()["errors"]} == {(2, column)}
    assert counts() == (1, 0)


def test_all_problems_of_a_row_and_of_every_row_are_listed(client):
    r = post(client, csv_of([
        ["unit", "U1", "Một\ndòng", "", "NOPE", "", "not-an-email", ""],
        ["official", "CB1", "", "MISSING", "", "", "", ""],
        ["official", "CB2", "Hai", "U1", "", "Công chức\tTư pháp", "", ""],
    ]))
    assert r.status_code == 422
    found = {(e["row"], e["field"]) for e in r.get_json()["errors"]}
    assert found == {(2, "name"), (2, "parent"), (2, "emails"), (3, "name"), (3, "unit"),
                     (4, "position")}
    assert any("not-an-email" in e["message"] for e in r.get_json()["errors"])


def test_a_column_given_twice_is_refused(client):
    r = post(client, "kind,code,name,name\nunit,A,Một,Hai\n")
    assert r.status_code == 422
    assert {(e["row"], e["field"]) for e in r.get_json()["errors"]} == {(1, "name")}
    assert counts() == (0, 0)


def test_accepted_values_are_stored_as_the_api_stores_them(client):
    r = post(client, csv_of([["unit", "U1", "  Phường Một ", "", "", "", " A@B.vn ;a@b.vn", ""],
                             ["official", "CB1", "Nguyễn Văn Một", "U1", "", " ", "", ""]]))
    assert r.status_code == 200, r.get_json()
    unit = client.get("/api/v1/units/U1", headers=ADMIN).get_json()
    assert (unit["name"], unit["emails"]) == ("Phường Một", ["a@b.vn"])
    assert client.get("/api/v1/officials/CB1", headers=ADMIN).get_json()["position"] is None
