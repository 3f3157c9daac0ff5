"""The kiosk page in headless Chromium: rate an official; queue offline, send when back."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devkit.apps import ADMIN
from services.survey.documents import Rating
from services.survey.kiosk import KIOSK_RESET_SECONDS
from shared.web import messages
from tests.conftest import wait_for

pytestmark = pytest.mark.slow


def ratings():
    return list(Rating._get_collection().find())


def test_citizen_rates_an_official_on_a_phone(served, browser):
    base, token = served.base, served.token
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(f"{base}/k/{token}")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.get_by_role("radio", name="Cán bộ CB1").check()
    page.get_by_role("radio", name="Hài lòng", exact=True).check()
    page.get_by_role("textbox", name="Góp ý của bạn (không bắt buộc)").fill("Nhanh, chu đáo")
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.get_by_role("heading", name="Cảm ơn bạn đã đánh giá!").wait_for()
    docs = wait_for(ratings)
    assert len(docs) == 1
    assert (docs[0]["official"], docs[0]["overall"], docs[0]["comment"]) == \
        ("CB1", 4, "Nhanh, chu đáo")


def test_missing_overall_is_announced_not_sent(served, browser):
    base, token = served.base, served.token
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(f"{base}/k/{token}?lang=en")
    page.get_by_role("button", name="Send rating").click()
    status = page.get_by_role("status").first
    assert "Please choose how satisfied you are." in status.inner_text()
    assert ratings() == []


def test_kiosk_offline_queues_and_sends_once_when_back(served, browser):
    base, token = served.base, served.token
    context = browser.new_context(viewport={"width": 800, "height": 1280})
    page = context.new_page()
    # the page's own clock, moved on by the test: the kiosk's reset after
    # KIOSK_RESET_SECONDS is checked without waiting for it
    page.clock.install()
    page.goto(f"{base}/k/{token}?kiosk=1")
    context.set_offline(True)
    page.get_by_role("radio", name="Rất không hài lòng").check()
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.get_by_role("heading", name="Cảm ơn bạn đã đánh giá!").wait_for()
    assert "sẽ tự động gửi khi có mạng" in page.locator("#thanks-text").inner_text()
    # the page resets itself for the next citizen, the rating still waiting on the device
    page.clock.run_for((KIOSK_RESET_SECONDS - 1) * 1000)
    assert page.locator("#rating-form").is_hidden()
    page.clock.run_for(1000)
    page.locator("#rating-form").wait_for(state="visible")
    assert page.locator("#pending-count").inner_text() == "1"
    assert ratings() == []

    context.set_offline(False)
    docs = wait_for(ratings, timeout=20, message="the queued rating arrives")
    assert [d["overall"] for d in docs] == [1]
    wait_for(lambda: page.locator("#pending").is_hidden(), timeout=10)
    # a reload (which flushes again) does not send it a second time: nothing is queued
    # on the device any more, and loading the page sends nothing
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "/api/v1/ratings" in r.url else None)
    page.reload()
    assert page.evaluate("k => JSON.parse(localStorage.getItem(k) || '[]').length",
                         f"congso.pending.{token}") == 0
    assert sent == [] and len(ratings()) == 1
    context.close()


TABLET = {"width": 1280, "height": 800}


def _shots() -> Path:
    folder = Path(os.environ.get("CONGSO_SCREENSHOTS") or tempfile.gettempdir())
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("staff", [2, 6], ids=["two-officials", "six-officials"])
def test_tablet_mode_fits_a_landscape_tablet_without_scrolling(served, browser, staff, lang):
    """The whole form, its submit button too, on a 1280 × 800 screen in tablet mode, the
    detailed factors closed or open."""
    t, scale = messages.TEXT[lang], messages.SCALE[lang]
    client = served.running.client
    codes = [f"CB{i}" for i in range(1, staff + 1)]
    for code in codes[2:]:
        client.put(f"/api/v1/officials/{code}", json={
            "full_name": f"Nguyễn Thị Hồng Nhung {code}", "unit": "U1",
            "position": "Chuyên viên một cửa"}, headers=ADMIN)
    client.put("/api/v1/counters/Q1", json={"unit": "U1", "label": "Quầy 1",
                                            "officials": codes}, headers=ADMIN)
    page = browser.new_page(viewport=TABLET)
    page.goto(f"{served.base}/k/{served.token}?kiosk=1&lang={lang}")
    page.screenshot(path=str(_shots() / f"kiosk-tablet-1280x800-{staff}-{lang}.png"))

    def fits(*controls):
        assert page.evaluate("document.scrollingElement.scrollHeight") <= TABLET["height"]
        assert page.evaluate("document.scrollingElement.scrollWidth") <= TABLET["width"]
        for control in controls:
            box = control.bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= TABLET["height"], control

    submit = page.get_by_role("button", name=t["submit"])
    fits(submit, page.get_by_role("radio", name=scale[5], exact=True),
         page.get_by_role("radio", name=scale[1]),
         page.get_by_role("radio", name=t["official_unknown"]),
         page.get_by_role("textbox", name=t["comment_label"]),
         page.get_by_role("textbox", name=t["receipt_label"]))
    # the five factors opened: still no scrolling, the button still on the screen
    page.get_by_text(t["factors_summary"]).click()
    last_factor = page.get_by_role("radio", name=scale[5], exact=True).nth(5)
    last_factor.wait_for()
    page.screenshot(path=str(_shots() / f"kiosk-tablet-1280x800-{staff}-{lang}-details.png"))
    fits(submit, last_factor)
    page.close()


def _posted(page) -> list[dict]:
    """The rating bodies the page posts to the API (recorded as they leave)."""
    bodies: list[dict] = []
    page.on("request", lambda r: bodies.append(r.post_data_json)
            if r.method == "POST" and "/api/v1/ratings" in r.url else None)
    return bodies


def test_a_rating_carries_when_it_was_given_and_the_tablet_s_id(served, browser):
    page = browser.new_page(viewport=TABLET)
    bodies = _posted(page)
    page.goto(f"{served.base}/k/{served.token}?kiosk=1&device=TAB-1")
    page.get_by_role("radio", name="Hài lòng", exact=True).check()
    before = datetime.now(UTC)
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.get_by_role("heading", name="Cảm ơn bạn đã đánh giá!").wait_for()
    [body] = bodies
    given = datetime.fromisoformat(body["given_at"])
    assert given.utcoffset() is not None  # ISO 8601 with the device's offset
    assert before - timedelta(seconds=2) <= given <= datetime.now(UTC)
    assert body["device"] == "TAB-1"
    # the tablet keeps its id through the language link (and the page it leads to)
    assert "device=TAB-1" in page.get_by_role("link", name="English").get_attribute("href")
    page.close()


def test_a_phone_sends_no_device_even_if_the_link_names_one(served, browser):
    page = browser.new_page(viewport={"width": 360, "height": 740})
    bodies = _posted(page)
    page.goto(f"{served.base}/k/{served.token}?device=TAB-1")
    page.get_by_role("radio", name="Hài lòng", exact=True).check()
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.get_by_role("heading", name="Cảm ơn bạn đã đánh giá!").wait_for()
    assert "device" not in bodies[0] and "given_at" in bodies[0]
    page.close()


def test_the_offline_queue_sends_the_moment_of_the_press_not_of_the_send(served, browser):
    """A registered tablet offline for 40 minutes: its rating, sent when the network is
    back, says when it was given and which tablet gave it; survey keeps both."""
    served.running.client.put("/api/v1/counters/Q1", json={
        "unit": "U1", "label": "Quầy 1", "officials": ["CB1", "CB2"], "devices": ["TAB-1"]},
        headers=ADMIN)
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    # the tablet's clock, stopped at the press: 40 minutes ago (to the millisecond)
    pressed = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=40)
    page.clock.install(time=pressed - timedelta(seconds=10))  # it runs until paused
    page.clock.pause_at(pressed)
    bodies = _posted(page)
    page.goto(f"{served.base}/k/{served.token}?kiosk=1&device=TAB-1")
    context.set_offline(True)
    page.get_by_role("radio", name="Rất hài lòng", exact=True).check()
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.get_by_role("heading", name="Cảm ơn bạn đã đánh giá!").wait_for()
    page.clock.run_for(40 * 60 * 1000)  # the network is back 40 minutes later
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    [doc] = wait_for(ratings, timeout=20, message="the queued rating arrives")
    assert len({b["client_id"] for b in bodies}) == 1
    assert {datetime.fromisoformat(b["given_at"]) for b in bodies} == {pressed}
    assert {b["device"] for b in bodies} == {"TAB-1"}
    assert doc["given_at"].replace(tzinfo=UTC) == pressed
    assert doc["source"].startswith("d:") and "TAB-1" not in str(doc)
    context.close()
