"""The reviewee's results page, as a browser without JavaScript gets it: nothing that moves
while the window is open, how many reviewed below the threshold, and from it the means,
the index and the comments without names, dates or order."""

from __future__ import annotations

import re

import pytest

from devkit.apps import make_settings, seed_directory, start
from devkit.auth import pinned_settings, signed_in
from services.bootstrap import create_app as create_any_app
from services.scoring.domain import comment_order
from shared.memory_bus import MemoryBus
from shared.web import messages
from tests.scoring.helpers import (
    CRITERIA5,
    closed_window,
    deliver,
    open_window,
    review,
)

PAGE = "/reviews/2026/results"


def main_of(response) -> str:
    """The page's own content (the layout around it carries the session's CSRF value)."""
    text = response.get_data(as_text=True)
    return text[text.index("<main"):text.index("</main>")]


def page_of(scoring, official: str = "CB1", path: str = PAGE):
    client = scoring.client
    signed_in(client, official)
    return client.get(path)


def test_the_page_needs_a_session(office):
    r = office.client.get(PAGE)
    assert r.status_code == 303 and r.headers["Location"] == "/login?next=/reviews/2026/results"
    bearer = office.client.get(PAGE, headers={"Authorization": "Bearer cso_CB1"})
    assert bearer.status_code == 303  # a token is for programs: pages ask for a session


@pytest.mark.parametrize("path", ["/reviews/2026-Q1/results", "/reviews/26/results",
                                  "/reviews/1800/results"])
def test_a_period_that_is_no_year_is_not_found(office, path):
    assert page_of(office, path=path).status_code == 404


def test_while_the_window_is_open_the_page_shows_its_close_only(office):
    deliver(office, open_window())
    first = page_of(office)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    content = main_of(first)
    closes_at = open_window().loaded_data()["closes_at"].astimezone(office.settings.tz)
    assert closes_at.strftime("%H:%M, %d/%m/%Y") in content
    assert "Kết quả chưa được công bố" in content
    reviews = [review("CB1", reviewer=r * 20, scores={**CRITERIA5, "dress": n},
                      comment=f"Nhận xét {r}") for n, r in enumerate("abcd", start=1)]
    for step in [*reviews, review("CB1", reviewer="a" * 20, revision=2, comment="Sửa")]:
        deliver(office, step)
        assert main_of(page_of(office)) == content  # no count, no figure, nothing moves


def test_below_the_threshold_only_how_many_reviewed(office):
    deliver(office, closed_window(), *[review("CB1", reviewer=r * 20, comment=f"Ý kiến {r}",
                                              scores={**CRITERIA5, "ethics": 2})
                                       for r in "ab"])
    content = main_of(page_of(office))
    assert "Số đồng nghiệp đã đánh giá bạn: 2." in content
    assert "ít nhất 3 người" in content
    assert "Ý kiến" not in content and "<table" not in content
    assert not re.search(r"\d\.\d\d", content)  # no mean, no index


def test_from_the_threshold_the_means_index_and_comments(office):
    deliver(office, closed_window(),
            review("CB1", reviewer="a" * 20, scores={**CRITERIA5, "dress": 2},
                   comment="Trang phục cần gọn gàng hơn\nnhất là ngày tiếp dân"),
            review("CB1", reviewer="b" * 20, comment="Rất tận tụy <b>với</b> người dân"),
            review("CB1", reviewer="c" * 20, comment="Cũ"),
            review("CB1", reviewer="c" * 20, revision=2, comment="  "),  # taken out by an edit
            review("CB2", reviewer="d" * 20, comment="Của người khác"))
    content = main_of(page_of(office))
    for label in messages.CRITERIA["vi"].values():
        assert label in content
    assert "4.00 / 5" in content and "5.00 / 5" in content  # dress (2 + 5 + 5) / 3
    assert "95.00" in content  # 100 × ((15 × 5 − 3) / 15 − 1) / 4
    assert "<p>Trang phục cần gọn gàng hơn</p><p>nhất là ngày tiếp dân</p>" in content
    assert "Rất tận tụy &lt;b&gt;với&lt;/b&gt; người dân" in content
    assert "Cũ" not in content and "Của người khác" not in content
    assert content.count('role="listitem"') == 2
    assert not re.search(r"\d\d/\d\d/\d{4}", content.replace(
        closed_window().loaded_data()["closes_at"].astimezone(office.settings.tz).strftime(
            "%d/%m/%Y"), ""))  # no date but the close
    english = main_of(page_of(office, path=f"{PAGE}?lang=en"))
    assert messages.CRITERIA["en"]["dress"] in english and "Peer index" in english


def test_each_official_sees_their_own_results(office):
    deliver(office, closed_window(), *[review("CB2", reviewer=r * 20, comment="Cho CB2")
                                       for r in "abc"])
    assert "Cho CB2" in main_of(page_of(office, "CB2"))
    assert "Cho CB2" not in main_of(page_of(office, "CB1"))


def test_the_threshold_follows_the_configuration(office):
    from devkit.apps import ADMIN

    deliver(office, closed_window(), *[review("CB1", reviewer=r * 20) for r in "abc"])
    assert "100.00" in main_of(page_of(office))
    office.client.put("/api/v1/scoring/config", headers=ADMIN, json={
        "citizen_weight": 0.5, "peer_weight": 0.5, "prior_weight": 10, "prior_rate": 0.8,
        "min_peer_reviewers": 4})
    assert "Số đồng nghiệp đã đánh giá bạn: 3." in main_of(page_of(office))


def test_comments_come_in_an_order_that_does_not_follow_submission():
    comments = [f"nhận xét {n}" for n in range(12)]
    ordered = comment_order(comments, "CB1:2026")
    assert ordered == comment_order(list(reversed(comments)), "CB1:2026")
    assert ordered != comments and sorted(ordered) == sorted(comments)


def test_the_page_is_scorings_in_the_all_in_one_app_too(mongo_url):
    """Survey serves /reviews/{YYYY}/{reviewee}: the results page is not taken for one."""
    running = start(create_any_app, make_settings("all", mongo_url, **pinned_settings()),
                    MemoryBus())
    try:
        seed_directory(running.client)  # survey's directory: who may sign in
        deliver(running, open_window())
        r = page_of(running)
        assert r.status_code == 200 and "Kết quả chưa được công bố" in main_of(r)
    finally:
        running.stop()
