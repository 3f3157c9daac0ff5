"""The kiosk page in headless Chromium: rate an official; queue offline, send when back."""

from __future__ import annotations

import pytest

from services.survey.documents import Rating
from services.survey.kiosk import KIOSK_RESET_SECONDS
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
