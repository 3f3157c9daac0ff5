"""The managers' side of the review cycle: each unit's response (counts only, the same in
the API and on the page) and the extra reminder, once a day per unit, audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from devkit.apps import ADMIN
from devkit.auth import signed_in
from services.survey import review_cycle
from shared import sessions
from tests.survey.cycle import SCORES, YEAR, bearer, open_window, review_links, ward

API = f"/api/v1/review-cycles/{YEAR}/response"
COUNTS = {"invited", "finished", "in_progress", "not_started"}


@pytest.fixture
def manager(client, ctx):
    """M manages department D (with U1 and U2 below); the window open; M signed in."""
    ward(client)
    open_window(client)
    return signed_in(client, "M", ctx.signer)


def rows(client, query: str = "", **kwargs) -> dict:
    r = client.get(API + query, **kwargs)
    assert r.status_code == 200, r.get_json()
    return {row["unit"]: row for row in r.get_json()}


def test_a_manager_reads_the_units_in_scope_as_counts_only(client, manager):
    before = rows(client)
    assert set(before) == {"D", "U1", "U2"}
    assert before["U1"] == {"unit": "U1", "name": "Phường Một", "invited": 3, "finished": 0,
                            "in_progress": 0, "not_started": 3}
    assert (before["U2"]["invited"], before["D"]["invited"]) == (0, 0)  # nobody to review
    assert rows(client, "?unit=U1") == {"U1": before["U1"]}
    # an administrator reads every unit
    assert set(rows(client, headers=ADMIN)) == {"D", "U1", "U2"}


def test_one_review_moves_one_count_and_nothing_else(client, manager):
    a = bearer(client, "A")
    before = rows(client)
    client.put(f"/api/v1/peer-reviews/{YEAR}/B", json={"scores": SCORES}, headers=a)
    after = rows(client)
    assert after["U1"] == {**before["U1"], "in_progress": 1, "not_started": 2}
    client.put(f"/api/v1/peer-reviews/{YEAR}/C", json={"scores": SCORES}, headers=a)
    done = rows(client)["U1"]
    assert (done["finished"], done["in_progress"], done["not_started"]) == (1, 0, 2)
    assert {row["unit"]: set(row) - {"unit", "name"} for row in rows(client).values()} == \
        dict.fromkeys(("D", "U1", "U2"), COUNTS)


def test_a_draft_is_in_progress_but_never_finished(client, ctx, manager):
    csrf = signed_in(client, "B", ctx.signer)[sessions.CSRF_HEADER]
    client.post(f"/reviews/{YEAR}/A", data={"conduct": "4", "action": "save",
                                             sessions.CSRF_FIELD: csrf})
    signed_in(client, "M", ctx.signer)
    assert rows(client)["U1"]["in_progress"] == 1


@pytest.mark.parametrize("who, query, status", [
    ("A", "", 403),           # an official who manages nothing
    ("M", "?unit=ELSE", 403),  # out of scope: unknown and known alike
    ("X", "?unit=U1", 403),
])
def test_who_may_not_read_the_response(client, ctx, manager, who, query, status):
    signed_in(client, who, ctx.signer)
    assert client.get(API + query).status_code == status


def test_an_unknown_unit_is_404_to_an_administrator(client, manager):
    assert client.get(API + "?unit=ELSE", headers=ADMIN).status_code == 404


def test_a_manager_reminds_a_unit_once_a_day_and_it_is_audited(survey, client, ctx,
                                                                 manager):
    a = bearer(client, "A")
    for reviewee in ("B", "C"):
        client.put(f"/api/v1/peer-reviews/{YEAR}/{reviewee}", json={"scores": SCORES},
                   headers=a)
    path = f"/api/v1/review-cycles/{YEAR}/units/U1/reminders"
    r = client.post(path, headers=manager)
    assert r.status_code == 202 and r.get_json() == {"year": YEAR, "unit": "U1",
                                                     "reminded": 1}
    [reminder] = review_links(survey)  # B (A finished; C has no address)
    assert reminder.data["official"] == "B" and reminder.data["context"]["extra"] is True
    again = client.post(path, headers=manager)
    assert again.status_code == 429
    assert 86000 < int(again.headers["Retry-After"]) <= 86400
    [entry] = client.get("/api/v1/audit?action=review_reminders_sent",
                         headers=ADMIN).get_json()
    assert (entry["actor"], entry["target"], entry["details"]) == (
        "M (session)", "U1", {"year": YEAR, "sent": 1})
    # a day later: once more
    tomorrow = datetime.now(UTC) + timedelta(days=1, minutes=1)
    assert review_cycle.remind_unit(ctx, YEAR, "U1", now=tomorrow) == 1


@pytest.mark.parametrize("who, unit, status", [("A", "U1", 403), ("X", "U1", 403),
                                               ("M", "ELSE", 403)])
def test_who_may_not_remind(client, ctx, manager, who, unit, status):
    headers = signed_in(client, who, ctx.signer)
    r = client.post(f"/api/v1/review-cycles/{YEAR}/units/{unit}/reminders", headers=headers)
    assert r.status_code == status


def test_no_reminder_outside_the_window(client, manager):
    now = datetime.now(UTC)
    client.put(f"/api/v1/review-windows/{YEAR}", headers=ADMIN, json={
        "opens_at": (now - timedelta(days=9)).isoformat(),
        "closes_at": (now - timedelta(days=1)).isoformat()})
    r = client.post(f"/api/v1/review-cycles/{YEAR}/units/U1/reminders", headers=manager)
    assert r.status_code == 409


def page_counts(page: str) -> list[str]:
    return re.findall(r'<td class="num" data-label="[^"]*">([^<]*)</td>', page)


def test_the_page_shows_the_same_counts_and_reminds_by_form(survey, client, ctx, manager):
    csrf = manager[sessions.CSRF_HEADER]
    page = client.get(f"/reviews/response/{YEAR}").get_data(as_text=True)
    assert f"Tiến độ đánh giá đồng nghiệp năm {YEAR}" in page
    assert page_counts(page) == ["0", "0", "0", "0", "–",   # D
                                 "3", "0", "0", "3", "0%",  # U1
                                 "0", "0", "0", "0", "–"]   # U2
    assert 'aria-current="page">Tiến độ đánh giá</a>' in page
    assert page.count('name="unit" value=') == 1  # U1 only has anyone to remind
    r = client.post(f"/reviews/response/{YEAR}", data={"unit": "U1",
                                                       sessions.CSRF_FIELD: csrf})
    assert r.status_code == 303
    done = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Đã gửi thư nhắc tới 2 cán bộ chưa đánh giá xong của Phường Một" in done  # A and B
    assert "Đã nhắc lúc" in done and 'name="unit" value=' not in done
    again = client.post(f"/reviews/response/{YEAR}", data={"unit": "U1",
                                                           sessions.CSRF_FIELD: csrf})
    assert again.status_code == 429 and "đã được nhắc trong 24 giờ qua" in \
        again.get_data(as_text=True)
    assert len(review_links(survey)) == 2


def test_the_page_is_for_managers_and_administrators(client, ctx, manager):
    signed_in(client, "A", ctx.signer)
    r = client.get(f"/reviews/response/{YEAR}")
    assert r.status_code == 403 and "dành cho lãnh đạo" in r.get_data(as_text=True)
    assert "Tiến độ đánh giá" not in client.get("/").get_data(as_text=True)
    signed_in(client, "M", ctx.signer)
    assert 'href="/reviews/response"' in client.get("/").get_data(as_text=True)


def test_the_page_moves_by_counts_only(client, ctx, manager):
    before = client.get(f"/reviews/response/{YEAR}").get_data(as_text=True)
    a = bearer(client, "A")
    client.put(f"/api/v1/peer-reviews/{YEAR}/B", json={"scores": SCORES}, headers=a)
    after = client.get(f"/reviews/response/{YEAR}").get_data(as_text=True)
    # the only difference is in the figures
    assert page_counts(before) != page_counts(after)
    numbers = re.compile(r'(<td class="num" data-label="[^"]*">)[^<]*(</td>)')
    assert numbers.sub(r"\1\2", before) == numbers.sub(r"\1\2", after)
