"""The results page in Chromium, at phone and desktop sizes: its three states (the window
open, too few reviewers, the results), read as a user and a screen reader would (headings,
the table and its caption, the list of comments), no sideways scrolling at 360 px, focus
visible. Screenshots at 390 and 1280 px (in CONGSO_SCREENSHOTS, else the test's temporary
directory)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from devkit.auth import session_cookie
from shared import sessions
from tests.e2e.test_signin_browser import shoot
from tests.scoring.helpers import CRITERIA5, closed_window, deliver, open_window, review
from tests.survey import conftest as survey_fixtures

chromium = survey_fixtures.browser  # Debian's Chromium, one per module (a fixture)
COMMENTS = (
    "Chị luôn đến sớm và hướng dẫn người dân rất tận tình, kể cả những hồ sơ phức tạp.",
    "Nên mặc đồng phục đầy đủ vào các ngày tiếp công dân.",
    "Tích cực tham gia phong trào thi đua của phường.",
)


@pytest.fixture
def served(office):
    """Scoring on a real port with three years of CB1's reviews: 2026 open, 2025 closed
    with two reviewers, 2024 closed with five."""
    deliver(office, open_window("2026"), closed_window("2025"), closed_window("2024"),
            *[review("CB1", reviewer=r * 20, period="2025") for r in "ab"],
            *[review("CB1", reviewer=r * 20, period="2024",
                     scores={**CRITERIA5, "dress": 3 + n % 3, "participation": 4},
                     comment=COMMENTS[n] if n < len(COMMENTS) else None)
              for n, r in enumerate("abcde")])
    server = make_server("127.0.0.1", 0, office.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def signed_in_page(chromium, base: str, width: int = 390):
    context = chromium.new_context(viewport={"width": width, "height": 844})
    token, _ = session_cookie("CB1")
    context.add_cookies([{"name": sessions.COOKIE, "value": token, "url": base,
                          "httpOnly": True, "sameSite": "Lax"}])
    return context, context.new_page()


def fits(page, width: int = 360) -> bool:
    """Nothing wider than a `width`-pixel phone: no sideways scrolling."""
    page.set_viewport_size({"width": width, "height": 800})
    return page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_results_page_in_its_three_states(served, chromium, tmp_path):
    shots = Path(os.environ.get("CONGSO_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    context, page = signed_in_page(chromium, served)

    page.goto(f"{served}/reviews/2026/results")
    page.get_by_role("heading", level=1,
                     name="Kết quả đồng nghiệp đánh giá bạn năm 2026").wait_for()
    assert page.get_by_role("heading", name="Kết quả chưa được công bố").is_visible()
    assert page.get_by_role("table").count() == 0
    assert fits(page)
    shoot(page, "results-open", shots)

    page.goto(f"{served}/reviews/2025/results")
    assert page.get_by_role("heading", name="Chưa đủ người đánh giá để công bố kết quả"
                            ).is_visible()
    assert "Số đồng nghiệp đã đánh giá bạn: 2." in page.inner_text("main")
    assert fits(page)
    shoot(page, "results-too-few", shots)

    page.goto(f"{served}/reviews/2024/results")
    table = page.get_by_role("table", name="Điểm trung bình của các đồng nghiệp, thang 1-5 "
                                           "(5 là cao nhất)")
    assert table.get_by_role("row").count() == 6  # the heading and the five criteria
    assert "Trang phục gọn gàng, lịch sự, phù hợp tính chất công việc" in table.inner_text()
    assert "3.80 / 5" in table.inner_text()  # dress: 3, 4, 5, 3, 4
    comments = page.get_by_role("list").filter(has_text=COMMENTS[1]).get_by_role("listitem")
    assert sorted(comments.all_inner_texts()) == sorted(COMMENTS)
    assert fits(page)
    shoot(page, "results", shots)
    # the keyboard reaches the link to the review list, its focus drawn
    page.keyboard.press("Tab")  # the skip link first
    assert page.evaluate("document.activeElement.textContent").strip() == \
        "Bỏ qua, đến nội dung chính"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"

    page.goto(f"{served}/reviews/2024/results?lang=en")
    page.get_by_role("heading", level=1, name="Your colleagues' review of you, 2024").wait_for()
    shoot(page, "results-en", shots)
    context.close()
