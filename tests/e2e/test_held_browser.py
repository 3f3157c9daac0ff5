"""The held ratings page in Chromium, on a phone (360 × 740) and a desktop (1280 × 900),
against survey on a real port: a stuffed burst of an official's ratings and one rating
held alone. The department's manager reads the groups, accepts one rating with a note
(JavaScript off: plain forms), rejects the rest of the burst, sees each confirmation and
the empty state; every control is labelled, nothing scrolls sideways on the phone.
Screenshots in CONGSO_SCREENSHOTS, else the test's temporary directory."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devkit.apps import ADMIN, rating_body
from devkit.auth import session_cookie
from services.survey.documents import Rating
from shared import sessions
from shared.web import messages
from tests.survey import conftest as survey_fixtures

# survey on a real port with its directory seeded, and Debian's Chromium (fixtures)
survey, token, served = survey_fixtures.survey, survey_fixtures.token, survey_fixtures.served
client, browser = survey_fixtures.client, survey_fixtures.browser

pytestmark = pytest.mark.slow

PHONE, DESKTOP = {"width": 360, "height": 740}, {"width": 1280, "height": 900}
VI, EN = messages.TEXT["vi"], messages.TEXT["en"]
UNLABELLED_JS = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden')
  .filter(el => el.tagName === 'BUTTON' ? !el.textContent.trim()
                                        : !(el.labels && el.labels.length))
  .map(el => el.outerHTML.slice(0, 120))"""


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("CONGSO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def ward(served):
    """Department D (managed by M) above the seeded U1 (counter Q1, CB1, CB2); 12 five-star
    ratings of CB1 from one address (two held in a burst) and one rating of the counter
    whose clock was ten minutes ahead (held alone)."""
    api = served.running.client
    for path, body in (
            ("units/D", {"name": "Sở Nội vụ"}),
            ("officials/M", {"full_name": "Lê Văn Hùng", "unit": "D"}),
            ("units/D", {"name": "Sở Nội vụ", "managers": ["M"]}),
            ("units/U1", {"name": "UBND phường Hải Châu", "parent": "D"}),
            ("officials/CB1", {"full_name": "Nguyễn Thị Hồng Nhung", "unit": "U1"})):
        assert api.put(f"/api/v1/{path}", json=body, headers=ADMIN).status_code in (200, 201)
    for i in range(12):  # each with a word of its own: no identical run
        body = rating_body(served.token, comment=f"Tốt {i}")
        assert api.post("/api/v1/ratings", json=body).status_code == 201
    ahead = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    assert api.post("/api/v1/ratings", json=rating_body(
        served.token, official=None, overall=1, given_at=ahead)).status_code == 201
    return served


def signed_in(browser, served, viewport: dict, **options):
    """A browser context with M's session cookie, and its page."""
    context = browser.new_context(viewport=viewport, **options)
    token, _ = session_cookie("M", served.running.app.extensions["survey"].signer)
    context.add_cookies([{"name": sessions.COOKIE, "value": token, "url": served.base,
                          "httpOnly": True, "sameSite": "Lax"}])
    return context, context.new_page()


def held_ids() -> list[str]:
    return [d["_id"] for d in Rating._get_collection().find({"status": "held"})]


def fits_a_phone(page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a phone"


def test_manager_reviews_on_a_phone_and_a_desktop(ward, browser, shots):
    base = ward.base
    context, page = signed_in(browser, ward, PHONE)
    assert page.goto(f"{base}/ratings/held").status == 200
    page.get_by_role("heading", name=VI["held_title"], level=1).wait_for()
    assert page.get_by_text(VI["held_count"].format(n=3, groups=2)).is_visible()
    burst = page.get_by_role("region", name=f"{VI['held_group_burst']}: Nguyễn Thị Hồng Nhung")
    alone = page.get_by_role("region",
                             name=f"{VI['held_group_single']}: {VI['held_no_official']}")
    assert burst.get_by_role("row").count() == 1 + 2  # the heading row and two ratings
    assert VI["held_reason_clock_future"] in alone.inner_text()
    assert page.evaluate(UNLABELLED_JS) == []
    fits_a_phone(page)
    page.screenshot(path=str(shots / "held-360.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(shots / "held-1280.png"), full_page=True)
    page.goto(f"{base}/ratings/held?lang=en")
    assert page.get_by_role("heading", name=EN["held_title"], level=1).is_visible()
    page.screenshot(path=str(shots / "held-1280-en.png"), full_page=True)

    # the rating held alone, accepted with a note (back in Vietnamese: English was kept)
    page.goto(f"{base}/ratings/held?lang=vi")
    alone.get_by_label(VI["held_note"]).fill("Đồng hồ máy tính bảng chạy nhanh")
    alone.get_by_role("button", name=VI["held_accept"]).click()
    confirmed = page.get_by_role("status")
    assert VI["held_done_accept"].format(n=1) in confirmed.inner_text()
    assert alone.count() == 0
    # one rating of the burst rejected by itself (its own form opens under it)
    first = burst.get_by_role("row").nth(1)
    first.get_by_text(VI["held_decide_one"]).click()
    first.get_by_role("button", name=VI["held_reject"]).click()
    assert VI["held_done_reject"].format(n=1) in page.get_by_role("status").inner_text()
    assert burst.get_by_role("row").count() == 1 + 1
    assert len(held_ids()) == 1
    context.close()


def test_a_whole_burst_decided_without_javascript_on_a_phone(ward, browser, shots):
    context, page = signed_in(browser, ward, PHONE, java_script_enabled=False)
    page.goto(f"{ward.base}/ratings/held")
    burst = page.get_by_role("region", name=f"{VI['held_group_burst']}: Nguyễn Thị Hồng Nhung")
    members = held_ids()
    burst.get_by_label(VI["held_note"]).first.fill("Cán bộ tự đánh giá")
    burst.get_by_role("button", name=VI["held_reject_burst"].format(n=2)).click()
    assert VI["held_done_reject"].format(n=2) in page.get_by_role("status").inner_text()
    assert len(held_ids()) == len(members) - 2
    page.get_by_role("button", name=VI["held_accept"]).click()  # the one left
    assert held_ids() == []
    empty = page.get_by_text(VI["held_empty"].split("{")[0])
    assert empty.is_visible()
    fits_a_phone(page)
    # a whole-page shot needs script: the phone's width, a screen tall enough instead
    page.set_viewport_size({"width": PHONE["width"], "height": 1100})
    page.screenshot(path=str(shots / "held-360-empty.png"))
    context.close()
