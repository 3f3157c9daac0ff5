"""The review pages in Chromium, on a phone (360 and 390 px) and a desktop (1280 px): an
official reviews colleagues with plain form posts (errors, a draft, a finished review), a
manager reads the response and sends a reminder, the form after the close. Screenshots of
each page at 390 and 1280 px (in CONGSO_SCREENSHOTS, else the test's temporary folder)."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from devkit.apps import ADMIN
from shared import sessions
from tests.e2e.test_signin_browser import shoot
from tests.survey.cycle import YEAR, open_window, ward

pytestmark = pytest.mark.slow


@pytest.fixture
def site(survey):
    """Survey on a real port, the ward seeded and its window open."""
    client = survey.client
    ward(client)
    for code in ("D1", "D2", "D3"):  # more colleagues: a list as long as a real one
        client.put(f"/api/v1/officials/{code}", headers=ADMIN, json={
            "full_name": f"Nguyễn Thị Thu Hương {code}", "unit": "U1",
            "position": "Công chức Văn phòng - Thống kê"})
    open_window(client, days_left=12)
    server = make_server("127.0.0.1", 0, survey.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", survey
    server.shutdown()


def signed_in_page(browser, base: str, survey, official: str, width: int = 390):
    signer = survey.app.config["CONGSO_SESSION_SIGNER"]
    token, _ = signer.issue(official)
    context = browser.new_context(viewport={"width": width, "height": 844},
                                  java_script_enabled=False)
    context.add_cookies([{"name": sessions.COOKIE, "value": token, "url": base}])
    return context, context.new_page()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("CONGSO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_an_official_reviews_colleagues_in_the_browser(browser, site, shots):
    base, survey = site
    context, page = signed_in_page(browser, base, survey, "A")
    page.goto(f"{base}/reviews")
    page.get_by_role("heading", name=f"Đánh giá đồng nghiệp năm {YEAR}").wait_for()
    assert page.get_by_text("Đã hoàn thành 0 trên 5 đồng nghiệp").is_visible()
    shoot(page, "reviews-list", shots)

    page.get_by_role("link", name="Đánh giá Cán bộ B").click()
    page.get_by_role("heading", name="Đánh giá: Cán bộ B").wait_for()
    shoot(page, "review-form", shots)
    group = page.get_by_role("group", name="1. Tinh thần, thái độ làm việc")
    group.get_by_label("Rất hài lòng", exact=False).first.check()
    page.get_by_role("button", name="Hoàn thành đánh giá").click()
    alert = page.get_by_role("alert")
    assert "Vui lòng sửa các mục sau" in alert.inner_text()
    assert page.get_by_role("group", name="2. Chuẩn mực trong giao tiếp, ứng xử") \
        .get_by_text("Vui lòng chọn một mức cho tiêu chí này.").is_visible()
    assert group.get_by_label("5 · Rất hài lòng").is_checked()  # kept
    shoot(page, "review-form-errors", shots)

    page.get_by_label("Nhận xét cho đồng nghiệp").fill("Luôn đúng giờ, nhiệt tình.")
    page.get_by_role("button", name="Lưu nháp").click()
    page.get_by_role("status").filter(has_text="Đã lưu nháp đánh giá Cán bộ B").wait_for()
    assert page.get_by_role("row", name="Cán bộ B").get_by_text("Đã lưu nháp").is_visible()
    shoot(page, "reviews-list-saved", shots)
    page.get_by_role("link", name="Tiếp tục Cán bộ B").click()
    for legend, label in (("2. Chuẩn mực trong giao tiếp", "4 · Hài lòng"),
                          ("3. Chuẩn mực về đạo đức", "5 · Rất hài lòng"),
                          ("4. Trang phục", "3 · Bình thường"),
                          ("5. Tích cực tham gia", "4 · Hài lòng")):
        page.get_by_role("group", name=legend).get_by_label(label).check()
    assert page.get_by_label("Nhận xét cho đồng nghiệp").input_value() == \
        "Luôn đúng giờ, nhiệt tình."
    page.get_by_role("button", name="Hoàn thành đánh giá").click()
    page.get_by_role("status").filter(has_text="Đã ghi nhận đánh giá Cán bộ B").wait_for()
    assert page.get_by_text("Đã hoàn thành 1 trên 5 đồng nghiệp").is_visible()
    shoot(page, "reviews-list-progress", shots)
    assert _no_sideways_scroll(browser, base, survey, [
        f"/reviews/{YEAR}", f"/reviews/{YEAR}/B", f"/reviews/{YEAR}/C"])
    page.goto(f"{base}/reviews/{YEAR}?lang=en")
    page.get_by_role("heading", name=f"Peer reviews {YEAR}").wait_for()
    shoot(page, "reviews-list-en", shots)
    context.close()


def _no_sideways_scroll(browser, base: str, survey, paths: list[str]) -> bool:
    """Every page as wide as a 360 px phone at most (measured with JavaScript on)."""
    signer = survey.app.config["CONGSO_SESSION_SIGNER"]
    token, _ = signer.issue("M")
    context = browser.new_context(viewport={"width": 360, "height": 800})
    context.add_cookies([{"name": sessions.COOKIE, "value": token, "url": base}])
    page = context.new_page()
    try:
        for path in paths:
            page.goto(base + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, (path, width)
    finally:
        context.close()
    return True


def test_a_manager_reads_the_response_and_reminds_a_unit(browser, site, shots):
    base, survey = site
    context, page = signed_in_page(browser, base, survey, "M", width=1280)
    page.goto(f"{base}/")
    page.get_by_role("navigation").get_by_role("link", name="Tiến độ đánh giá").click()
    page.get_by_role("heading", name=f"Tiến độ đánh giá đồng nghiệp năm {YEAR}").wait_for()
    row = page.get_by_role("row", name="Phường Một")
    assert "0%" in row.inner_text()
    shoot(page, "review-response", shots)
    row.get_by_role("button", name="Gửi nhắc nhở ngay Phường Một").click()
    page.get_by_role("status").filter(has_text="Đã gửi thư nhắc tới 2 cán bộ").wait_for()
    assert "Đã nhắc lúc" in page.get_by_role("row", name="Phường Một").inner_text()
    shoot(page, "review-response-reminded", shots)
    assert _no_sideways_scroll(browser, base, survey, [f"/reviews/response/{YEAR}"])
    context.close()


def test_after_the_close_the_form_reads_as_a_record(browser, site, shots):
    base, survey = site
    context, page = signed_in_page(browser, base, survey, "A")
    page.goto(f"{base}/reviews/{YEAR}/B")
    page.get_by_role("group", name="1. Tinh thần").get_by_label("4 · Hài lòng").check()
    page.get_by_role("button", name="Lưu nháp").click()
    page.get_by_role("status").wait_for()
    now = datetime.now(UTC)
    assert survey.client.put(f"/api/v1/review-windows/{YEAR}", headers=ADMIN, json={
        "opens_at": (now - timedelta(days=20)).isoformat(),
        "closes_at": (now - timedelta(minutes=5)).isoformat()}).status_code == 200
    page.goto(f"{base}/reviews/{YEAR}")
    assert page.get_by_role("link", name="Xem kết quả đồng nghiệp đánh giá bạn").is_visible()
    shoot(page, "reviews-list-closed", shots)
    page.get_by_role("link", name="Xem Cán bộ B").click()
    assert page.get_by_text("chỉ để xem, không sửa được").is_visible()
    assert page.get_by_role("radio").count() == 0
    assert page.get_by_text("bản nháp chưa hoàn thành").is_visible()
    assert page.get_by_role("row", name="1. Tinh thần").get_by_text("4 · Hài lòng").is_visible()
    shoot(page, "review-form-closed", shots)
    context.close()
