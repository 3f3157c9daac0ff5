"""The held ratings page (`/ratings/held`), as a browser without JavaScript gets it: the
held ratings of a unit and those below it, grouped by burst, the same as the API lists;
accept or reject one or a whole burst with a note (CSRF forms, POST-redirect-GET, a
confirmation after, errors announced); scope; Vietnamese first, English."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from devkit.apps import ADMIN, rating_body
from devkit.auth import signed_in
from services.survey.documents import Rating
from shared import sessions
from shared.web import messages

VI, EN = messages.TEXT["vi"], messages.TEXT["en"]
STUFFED = 13  # from one address for one official: the 11th and later are held (limit 10)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def ward(client, token):
    """Department D (managed by M) above U1 (counter Q1, officials CB1 and CB2, seeded);
    U2 elsewhere, managed by N."""
    for code, body in (("D", {"name": "Sở D"}), ("U2", {"name": "Phường Hai"}),
                       ("U1", {"name": "Phường Một", "parent": "D"})):
        assert client.put(f"/api/v1/units/{code}", json=body,
                          headers=ADMIN).status_code in (200, 201)
    for code, unit in (("M", "D"), ("N", "U2")):
        assert client.put(f"/api/v1/officials/{code}", json={
            "full_name": f"Quản lý {code}", "unit": unit}, headers=ADMIN).status_code == 201
    for code, body in (("D", {"name": "Sở D", "managers": ["M"]}),
                       ("U2", {"name": "Phường Hai", "managers": ["N"]})):
        assert client.put(f"/api/v1/units/{code}", json=body,
                          headers=ADMIN).status_code == 200
    return token


@pytest.fixture
def held(client, ward):
    """A burst of 3 held ratings of CB1, and one rating of the counter alone whose clock
    said ten minutes ahead (held on its own)."""
    for i in range(STUFFED):  # each with a word of its own: no identical run
        body = rating_body(ward, comment=f"Tốt {i}")
        assert client.post("/api/v1/ratings", json=body).status_code == 201
    ahead = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    r = client.post("/api/v1/ratings", json=rating_body(ward, official=None, overall=2,
                                                        given_at=ahead))
    assert r.status_code == 201
    return ward


def manager(client, ctx, code: str = "M") -> str:
    """Sign `code` in; return the CSRF value its forms carry."""
    return signed_in(client, code, ctx.signer)[sessions.CSRF_HEADER]


def suspect(client, unit: str = "D") -> list[dict]:
    r = client.get(f"/api/v1/ratings/suspect?unit={unit}&period={datetime.now(UTC).year}",
                   headers=ADMIN)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def states() -> dict[str, str]:
    return {d["_id"]: d.get("status", "counted") for d in Rating._get_collection().find()}


def forms(page: str) -> list[str]:
    return re.findall(r'<form method="post" action="(/ratings/held/[^"]+)"', page)


def decide(client, csrf: str, action: str, decision: str, note: str = "", **extra):
    return client.post(action, data={"decision": decision, "note": note, "unit": "D",
                                     "period": str(datetime.now(UTC).year),
                                     sessions.CSRF_FIELD: csrf, **extra})


def test_a_manager_sees_the_held_ratings_grouped_by_burst(client, ctx, held):
    manager(client, ctx)
    r = client.get("/ratings/held?unit=D")
    page = text(r)
    assert r.status_code == 200 and '<html lang="vi">' in page
    listed = suspect(client)
    assert len(listed) == STUFFED - 10 + 1
    [burst] = {i["burst"] for i in listed if i["burst"]}
    alone = next(i for i in listed if not i["burst"])
    assert VI["held_count"].format(n=4, groups=2) in page
    # the burst: its counter, official, size and reasons; one form for the whole burst
    # and one per rating; the rating alone: its own form
    assert f'action="/ratings/held/bursts/{burst}"' in page
    assert sorted(forms(page)) == sorted([f"/ratings/held/bursts/{burst}"] + [
        f"/ratings/held/{i['id']}" for i in listed])
    assert "Quầy 1" in page and "Cán bộ CB1" in page
    assert VI["held_reason_burst"] in page and VI["held_reason_clock_future"] in page
    assert VI["held_accept_burst"].format(n=3) in page
    assert VI["held_no_official"] in page and alone["overall"] == 2
    assert f"2 · {messages.SCALE['vi'][2]}" in page
    # every form carries the session's CSRF value; the header links the page
    assert page.count(f'name="{sessions.CSRF_FIELD}"') == len(forms(page)) + 1  # + sign out
    assert 'href="/ratings/held" aria-current="page"' in page


def test_the_page_defaults_to_the_managed_unit_and_this_year(client, ctx, held):
    manager(client, ctx)
    page = text(client.get("/ratings/held"))
    assert '<option value="D" selected>' in page
    assert f'<option value="{datetime.now(UTC).year}" selected>' in page
    assert VI["held_count"].format(n=4, groups=2) in page


def test_english_with_lang_en(client, ctx, held):
    manager(client, ctx)
    page = text(client.get("/ratings/held?unit=D&lang=en"))
    assert '<html lang="en">' in page and EN["held_title"] in page
    assert EN["held_reason_burst"] in page and VI["held_reason_burst"] not in page


def test_accepting_one_rating_counts_it_and_says_so(client, ctx, held):
    csrf = manager(client, ctx)
    one = suspect(client)[0]
    r = decide(client, csrf, f"/ratings/held/{one['id']}", "accept", "Đã xem camera")
    assert r.status_code == 303
    assert r.headers["Location"].startswith("/ratings/held?unit=D&")
    after = client.get(r.headers["Location"])
    page = text(after)
    assert 'role="status"' in page and VI["held_done_accept"].format(n=1) in page
    assert f"/ratings/held/{one['id']}\"" not in page
    doc = Rating._get_collection().find_one({"_id": one["id"]})
    assert doc["status"] == "accepted" and doc["decision"]["note"] == "Đã xem camera"
    assert doc["decision"]["by"].startswith("M")
    # a second decision on it is refused on the page, announced, and changes nothing
    again = decide(client, csrf, f"/ratings/held/{one['id']}", "reject")
    assert again.status_code == 409
    assert 'role="alert"' in text(again) and VI["held_error_decided"] in text(again)
    assert states()[one["id"]] == "accepted"


def test_rejecting_a_whole_burst_decides_each_of_its_ratings(client, ctx, held):
    csrf = manager(client, ctx)
    listed = suspect(client)
    [burst] = {i["burst"] for i in listed if i["burst"]}
    members = [i["id"] for i in listed if i["burst"] == burst]
    r = decide(client, csrf, f"/ratings/held/bursts/{burst}", "reject")
    assert r.status_code == 303 and "done=reject" in r.headers["Location"]
    assert VI["held_done_reject"].format(n=3) in text(client.get(r.headers["Location"]))
    assert {states()[i] for i in members} == {"rejected"}
    assert [i["burst"] for i in suspect(client)] == [None]
    page = text(client.get("/ratings/held?unit=D"))
    assert VI["held_count"].format(n=1, groups=1) in page


def test_the_last_decision_leaves_the_empty_state(client, ctx, held):
    csrf = manager(client, ctx)
    for item in suspect(client):
        assert decide(client, csrf, f"/ratings/held/{item['id']}", "accept").status_code == 303
    page = text(client.get("/ratings/held?unit=D"))
    assert VI["held_empty"].format(unit="Sở D", period=VI["dash_period_year"].format(
        year=datetime.now(UTC).year)) in page
    assert forms(page) == []


@pytest.mark.parametrize(("form", "status", "words"), [
    ({"decision": "maybe"}, 422, "held_error_decision"),
    ({"decision": "accept", "note": "x" * 501}, 422, "held_error_note"),
])
def test_a_bad_form_is_refused_on_the_page(client, ctx, held, form, status, words):
    csrf = manager(client, ctx)
    one = suspect(client)[0]
    r = client.post(f"/ratings/held/{one['id']}", data={
        "unit": "D", sessions.CSRF_FIELD: csrf, **form})
    assert r.status_code == status
    assert 'role="alert"' in text(r) and VI[words].format(n=500) in text(r)
    assert states()[one["id"]] == "held"


def test_a_decision_without_the_csrf_value_is_refused(client, ctx, held):
    manager(client, ctx)
    one = suspect(client)[0]
    r = client.post(f"/ratings/held/{one['id']}", data={"decision": "accept", "unit": "D"})
    assert r.status_code == 403 and states()[one["id"]] == "held"


def test_an_unknown_rating_or_burst_is_said_on_the_page(client, ctx, held):
    csrf = manager(client, ctx)
    for action in ("/ratings/held/" + "0" * 32, "/ratings/held/bursts/nope"):
        r = decide(client, csrf, action, "accept")
        assert r.status_code in (403, 404), action
        assert VI["held_error_gone"] in text(r)


def test_another_unit_s_manager_neither_sees_nor_decides(client, ctx, held):
    csrf = manager(client, ctx, "N")
    assert client.get("/ratings/held?unit=U1").status_code == 403
    assert client.get("/ratings/held?unit=NOPE").status_code == 403
    own = text(client.get("/ratings/held"))
    assert '<option value="U2" selected>' in own and '<option value="U1"' not in own
    assert VI["held_empty"].split("{")[0] in own
    one = suspect(client)[0]
    r = decide(client, csrf, f"/ratings/held/{one['id']}", "accept", unit="U2")
    assert r.status_code in (403, 404) and states()[one["id"]] == "held"


def test_an_official_who_manages_nothing_is_refused_and_not_linked(client, ctx, held):
    signed_in(client, "CB1", ctx.signer)
    assert client.get("/ratings/held").status_code == 403
    assert 'href="/ratings/held"' not in text(client.get("/"))


def test_without_a_session_the_browser_is_sent_to_sign_in(client, held):
    r = client.get("/ratings/held?unit=D")
    assert r.status_code == 303 and r.headers["Location"].startswith("/login?next=")


def test_a_bad_period_is_a_400_page(client, ctx, held):
    manager(client, ctx)
    r = client.get("/ratings/held?unit=D&period=2026-13")
    assert r.status_code == 400 and "2026-13" in text(r)


def test_the_unit_chooser_lists_the_units_in_scope(client, ctx, held):
    manager(client, ctx)
    page = text(client.get("/ratings/held?unit=U1"))
    assert '<option value="U1" selected>' in page and '<option value="D"' in page
    assert '<option value="U2"' not in page
    assert VI["held_count"].format(n=4, groups=2) in page  # U1 holds them all
