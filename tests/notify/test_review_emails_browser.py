"""The review cycle's emails as an official opens them, in Chromium on a phone (390 px)
and an office PC (1280 px): the button to the review list and the whole link fit the
width, the words are there. Screenshots in CONGSO_SCREENSHOTS, else the test's
temporary directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.notify.helpers import deliver, official, review_link, settled, unit
from tests.notify.test_people import EMAIL
from tests.notify.test_review_emails import CLOSES, DAY
from tests.survey import conftest as survey_fixtures

WIDTHS = (390, 1280)
chromium = survey_fixtures.browser  # Debian's Chromium, one per module (a fixture)


@pytest.mark.parametrize("kind,extra", [("review.invitation", False),
                                        ("review.reminder", True)])
def test_a_review_email_reads_on_a_phone_and_a_desktop(notify, smtp, chromium, tmp_path,
                                                       kind, extra):
    deliver(notify, unit("U1"), official("CB1", "U1", "Trần Thị Bình", email=EMAIL),
            review_link("CB1", EMAIL, kind, assigned=7, done=3 if extra else 0,
                        closes_at=CLOSES, extra=extra))
    settled()
    [mail] = smtp.messages
    html = mail.get_body(("html",)).get_content()
    shots = Path(os.environ.get("CONGSO_SCREENSHOTS") or tmp_path)
    page = chromium.new_page()
    try:
        page.set_content(html)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            button = page.get_by_role("link", name="Đánh giá đồng nghiệp / Review your "
                                                    "colleagues")
            assert button.is_visible()
            box = button.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width
            # nothing wider than the screen: no sideways scrolling on a phone
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=str(shots / f"email-{kind}-{width}.png"), full_page=True)
        text = page.inner_text("body")
        assert f"17:00 ngày {DAY} (GMT+7)" in text
        assert ("Bạn được mời đánh giá 7 đồng nghiệp" if kind == "review.invitation"
                else "Bạn còn 4 đồng nghiệp chưa đánh giá") in text
    finally:
        page.close()
