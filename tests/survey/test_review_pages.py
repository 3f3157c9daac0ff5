"""The official's review pages as a browser without JavaScript gets them: the list of
colleagues, the form (save a draft, finish, edit), errors next to their fields, the
refusals, and read-only outside the window."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from devkit.apps import ADMIN
from devkit.auth import signed_in
from services.survey.documents import ReviewDraft
from shared import sessions
from tests.survey.cycle import SCORES, YEAR, open_window, ward
from tests.survey.test_peer_reviews import review_events

FORM = f"/reviews/{YEAR}/B"


def html(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def as_a(client, ctx):
    """Official A of unit U1 (colleagues B and C), signed in; the window open."""
    ward(client)
    open_window(client)
    csrf = signed_in(client, "A", ctx.signer)[sessions.CSRF_HEADER]
    return csrf


def post(client, csrf, path=FORM, **fields):
    return client.post(path, data={sessions.CSRF_FIELD: csrf, **fields})


def test_the_list_shows_each_colleague_with_status_progress_and_the_close(client, as_a):
    page = html(client.get(f"/reviews/{YEAR}"))
    assert f"Đánh giá đồng nghiệp năm {YEAR}" in page
    assert "Cán bộ B" in page and "Chức vụ B" in page and "Cán bộ C" in page
    assert "Cán bộ OFF" not in page and "Cán bộ X" not in page
    assert "<strong>Cán bộ A</strong>" not in page
    assert page.count("Chưa đánh giá") == 2 and "Đã hoàn thành 0 trên 2 đồng nghiệp" in page
    assert re.search(r"Hạn chót: \d\d:\d\d, \d\d/\d\d/\d{4}", page) and "còn 10 ngày" in page
    assert f'href="/reviews/{YEAR}/B">Đánh giá<span class="sr-only"> Cán bộ B' in page
    assert 'aria-current="page">Đánh giá đồng nghiệp</a>' in page  # the header's link
    english = html(client.get(f"/reviews/{YEAR}?lang=en"))
    assert "0 of 2 colleagues done" in english and "Not started" in english


def test_pages_need_a_session(client):
    r = client.get(f"/reviews/{YEAR}")
    assert r.status_code == 303 and r.headers["Location"] == f"/login?next=/reviews/{YEAR}"
    assert client.get("/reviews", headers=ADMIN).status_code == 303  # a token is no session


def test_the_form_has_five_labelled_criteria_and_a_comment_shown_without_a_name(
        client, as_a):
    page = html(client.get(FORM))
    legends = re.findall(r"<legend>(.*?)</legend>", page)
    assert legends[1] == "2. Chuẩn mực trong giao tiếp, ứng xử" and len(legends) == 5
    assert page.count('type="radio"') == 25
    assert '<label class="choice" for="conduct-5">' in page
    assert "<strong>5</strong> · Rất hài lòng" in page
    assert "<strong>1</strong> · Rất không hài lòng" in page
    assert '<label for="comment">Nhận xét cho đồng nghiệp (không bắt buộc)</label>' in page
    assert "không kèm tên bạn" in page and 'aria-describedby="comment-hint"' in page
    assert 'value="finish">Hoàn thành đánh giá' in page and 'value="save">Lưu nháp' in page


def test_a_draft_is_kept_and_counts_nowhere(survey, client, as_a):
    r = post(client, as_a, conduct="4", comment="Còn phải nghĩ thêm", action="save")
    assert r.status_code == 303 and r.headers["Location"] == f"/reviews/{YEAR}?saved=B"
    listing = html(client.get(r.headers["Location"]))
    assert "Đã lưu nháp đánh giá Cán bộ B" in listing and "Đã lưu nháp</span>" in listing
    assert f'href="/reviews/{YEAR}/B">Tiếp tục' in listing
    form = html(client.get(FORM))
    assert 'value="4" checked' in form and "Còn phải nghĩ thêm</textarea>" in form
    assert review_events(survey) == []
    assigned = client.get(f"/api/v1/peer-reviews/{YEAR}/assignments").get_json()
    assert {a["status"] for a in assigned} == {"pending"}
    # the draft names nobody: its key, the criteria given, the comment
    [draft] = ReviewDraft._get_collection().find()
    assert set(draft) == {"_id", "scores", "comment"} and "A" not in draft["_id"]


def test_finishing_needs_every_criterion_and_keeps_what_was_typed(survey, client, as_a):
    r = post(client, as_a, discipline="5", ethics="9", comment="Tận tụy", action="finish")
    page = html(r)
    assert r.status_code == 422 and 'role="alert"' in page
    start = page.index('id="error-summary"')
    summary = page[start:page.index("</ul>", start)]
    assert re.findall(r'href="#(\w+)-5"', summary) == ["conduct", "ethics", "dress",
                                                       "participation"]
    assert page.count('<p class="field-error"') == 4
    assert "5. Tích cực tham gia các phong trào thi đua: chưa chọn mức" in summary
    assert "3. Chuẩn mực về đạo đức, lối sống: mức không hợp lệ" in summary
    assert page.count("Vui lòng chọn một mức cho tiêu chí này.") == 3
    assert 'aria-describedby="conduct-error"' in page and 'href="#conduct-5"' in page
    assert 'id="discipline-5" name="discipline" value="5" checked' in page
    assert "Tận tụy</textarea>" in page
    assert review_events(survey) == []
    long = post(client, as_a, **{k: str(v) for k, v in SCORES.items()}, comment="x" * 1001)
    assert long.status_code == 422 and "Nhận xét dài hơn 1.000 ký tự." in html(long)


def test_finishing_publishes_the_review_with_its_comment_and_it_can_be_edited(
        survey, client, as_a):
    post(client, as_a, conduct="3", action="save")
    r = post(client, as_a, **{k: str(v) for k, v in SCORES.items()}, comment="Rất chu đáo",
             action="finish")
    assert r.status_code == 303 and r.headers["Location"] == f"/reviews/{YEAR}?done=B"
    [event] = review_events(survey)
    assert event.data["scores"] == SCORES and event.data["comment"] == "Rất chu đáo"
    assert ReviewDraft._get_collection().count_documents({}) == 0
    listing = html(client.get(r.headers["Location"]))
    assert "Đã ghi nhận đánh giá Cán bộ B" in listing and "Đã hoàn thành 1 trên 2" in listing
    form = html(client.get(FORM))
    assert 'value="finish">Lưu thay đổi' in form and 'value="save"' not in form
    # a finished review is changed by finishing it again, never turned back into a draft
    assert post(client, as_a, conduct="1", action="save").status_code == 409
    post(client, as_a, **{**{k: str(v) for k, v in SCORES.items()}, "dress": "5"},
         action="finish")
    assert [e.data["revision"] for e in review_events(survey)] == [1, 2]


def test_a_form_without_the_csrf_value_is_refused(survey, client, as_a):
    r = client.post(FORM, data={k: str(v) for k, v in SCORES.items()})
    assert r.status_code == 403 and review_events(survey) == []


@pytest.mark.parametrize("reviewee, status, text", [
    ("A", 403, "Bạn không tự đánh giá chính mình."),
    ("X", 403, "Bạn chỉ đánh giá được đồng nghiệp cùng đơn vị."),
    ("OFF", 403, "Cán bộ này không còn công tác tại đơn vị."),
    ("NOBODY", 404, "Không có cán bộ này trong danh bạ."),
    ("bad code", 404, "Không có cán bộ này trong danh bạ."),
])
def test_who_cannot_be_reviewed_is_said_on_a_page(client, as_a, reviewee, status, text):
    for r in (client.get(f"/reviews/{YEAR}/{reviewee}"),
              post(client, as_a, f"/reviews/{YEAR}/{reviewee}", **{
                  k: str(v) for k, v in SCORES.items()})):
        assert r.status_code == status and text in html(r)


@pytest.mark.parametrize("path", ["/reviews/20x6", "/reviews/9999", "/reviews/2026-Q1/B",
                                  "/reviews/1800/B"])
def test_a_path_that_is_no_year_is_not_found(client, as_a, path):
    assert client.get(path).status_code == 404


def test_after_the_close_the_form_is_read_only_and_the_results_are_linked(
        survey, client, as_a):
    post(client, as_a, **{k: str(v) for k, v in SCORES.items()}, comment="Tốt")
    now = datetime.now(UTC)
    client.put(f"/api/v1/review-windows/{YEAR}", headers=ADMIN, json={
        "opens_at": (now - timedelta(days=9)).isoformat(),
        "closes_at": (now - timedelta(minutes=1)).isoformat()})
    listing = html(client.get(f"/reviews/{YEAR}"))
    assert "đã kết thúc" in listing and f'href="/reviews/{YEAR}/results"' in listing
    assert f'href="/reviews/{YEAR}/B">Xem' in listing
    form = html(client.get(FORM))
    assert "<form method=\"post\" action=\"/reviews" not in form and "chỉ để xem" in form
    assert "<strong>4</strong> · Hài lòng" in form and "Tốt" in form
    r = post(client, as_a, **{k: "1" for k in SCORES})
    assert r.status_code == 409 and "Chưa lưu được" in html(r)
    assert [e.data["revision"] for e in review_events(survey)] == [1]


def test_before_the_window_opens_nothing_can_be_given(client, as_a):
    now = datetime.now(UTC)
    client.put(f"/api/v1/review-windows/{YEAR}", headers=ADMIN, json={
        "opens_at": (now + timedelta(days=2)).isoformat(),
        "closes_at": (now + timedelta(days=9)).isoformat()})
    assert "Đợt đánh giá năm" in html(client.get(f"/reviews/{YEAR}"))
    form = html(client.get(FORM))
    assert "chưa mở" in form and 'type="radio"' not in form
    assert post(client, as_a, conduct="4", action="save").status_code == 409


def test_a_colleague_list_does_not_move_when_someone_reviews_them(client, ctx, as_a):
    """B's own page is B's reviews only: A's review of B changes nothing B can see."""
    signed_in(client, "B", ctx.signer)
    before = html(client.get(f"/reviews/{YEAR}"))
    csrf_a = signed_in(client, "A", ctx.signer)[sessions.CSRF_HEADER]
    assert post(client, csrf_a, **{k: str(v) for k, v in SCORES.items()}).status_code == 303
    signed_in(client, "B", ctx.signer)
    after = html(client.get(f"/reviews/{YEAR}"))
    strip = re.compile(r'name="csrf_token" value="[^"]*"')
    assert strip.sub("", before) == strip.sub("", after)
