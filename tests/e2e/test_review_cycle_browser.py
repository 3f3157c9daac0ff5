"""A year's peer review, whole, in Chromium against the three services as OS processes on
the real broker with a real SMTP server.

The window opens a moment after it is set: every official with colleagues is emailed an
invitation; one follows its link and lands signed in on the review list, reviews three
colleagues (one saved as a draft and finished later, one edited), two colleagues review
by token; the window is moved so that a reminder falls due, and it reaches only those
with reviews pending; the unit's head reads the response and sends an extra reminder; the
window is closed early and the reviewee reads their results on scoring's page.
Screenshots of the list, the form, the response page and the results at 390 and 1280 px
(in CONGSO_SCREENSHOTS, else the test's temporary directory)."""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from devkit.apps import ADMIN
from tests.conftest import wait_for
from tests.e2e import test_signin_browser as signin
from tests.survey import conftest as survey_fixtures

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]
chromium = survey_fixtures.browser  # Debian's Chromium, one per module (a fixture)
system = signin.system  # the three services as processes, a real SMTP server (a fixture)
shoot = signin.shoot
YEAR = str(datetime.now(UTC).year)
# the ward: R follows the invitation in the browser; P1 is the reviewee who reads the
# results; P2 and P3 review P1 by token; H heads the ward from the department above
WARD = [("R", "Nguyễn Thị Lan", "lannt@haichau.example.vn"),
        ("P1", "Trần Văn Minh", "minhtv@haichau.example.vn"),
        ("P2", "Lê Thị Hoa", "hoalt@haichau.example.vn"),
        ("P3", "Phạm Quốc Huy", "huypq@haichau.example.vn")]
HEAD = ("H", "Lê Văn Hùng", "chutich.haichau@example.vn")
EMAILS = {code: email for code, _, email in WARD}
SCORES = {"discipline": 4, "conduct": 4, "ethics": 5, "dress": 4, "participation": 3}
LINK = re.compile(r"http://127\.0\.0\.1:\d+/login/\S+")
INVITATION, REMINDER = "Mời đánh giá đồng nghiệp", "Đánh giá đồng nghiệp năm"


def mails(smtp, subject: str) -> dict[str, list]:
    """The emails whose subject starts with `subject`, by recipient."""
    found: dict[str, list] = {}
    for message in smtp.messages:
        if message["Subject"].startswith(subject):
            found.setdefault(str(message["To"]), []).append(message)
    return found


def link_in(message) -> str:
    return LINK.search(message.get_body(preferencelist=("plain",)).get_content()).group(0)


def put_window(api: str, opens_at: datetime, closes_at: datetime, remind_before: list[str]):
    r = requests.put(f"{api}/review-windows/{YEAR}", headers=ADMIN, timeout=5, json={
        "opens_at": opens_at.isoformat(), "closes_at": closes_at.isoformat(),
        "remind_before": remind_before})
    assert r.status_code in (200, 201), r.text
    return r.json()


def review_by_token(api: str, code: str, reviewee: str, comment: str) -> None:
    token = requests.post(f"{api}/officials/{code}/tokens", headers=ADMIN,
                          timeout=5).json()["token"]
    r = requests.put(f"{api}/peer-reviews/{YEAR}/{reviewee}", timeout=5, json={
        "scores": SCORES, "comment": comment}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text


def choose(page, scores: dict[int, str]) -> None:
    """Pick a level in each criterion given (by its number in the form)."""
    for number, label in scores.items():
        page.get_by_role("group", name=re.compile(rf"^{number}\. ")).get_by_label(
            label).check()


def sign_in(page, survey, smtp, email: str) -> None:
    """Ask for a link on /login and open it from the email."""
    before = len(mails(smtp, "").get(email, []))
    page.goto(f"{survey.base}/login")
    page.get_by_label("Địa chỉ email").fill(email)
    page.get_by_role("button", name="Gửi liên kết đăng nhập").click()
    page.get_by_role("heading", name="Hãy kiểm tra hộp thư").wait_for()
    message = wait_for(lambda: (m := mails(smtp, "").get(email, []))[before:] and m[-1],
                       timeout=30, message=f"the sign-in email to {email}")
    page.goto(link_in(message))


def test_a_year_of_peer_review_in_the_browser(system, chromium, tmp_path):
    (survey, scoring, notify), smtp = system
    shots = Path(os.environ.get("CONGSO_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    api = f"{survey.base}/api/v1"
    for code, body in (("SNV", {"name": "Sở Nội vụ"}),
                       ("UBND-HC", {"name": "UBND phường Hải Châu", "parent": "SNV"})):
        assert requests.put(f"{api}/units/{code}", json=body, headers=ADMIN,
                            timeout=5).status_code == 201
    for code, name, email in [*WARD, ("OFF", "Võ Văn Tâm", "tamvv@haichau.example.vn")]:
        assert requests.put(f"{api}/officials/{code}", headers=ADMIN, timeout=5, json={
            "full_name": name, "unit": "UBND-HC", "email": email, "active": code != "OFF",
            "position": "Công chức"}).status_code == 201
    code, name, email = HEAD
    requests.put(f"{api}/officials/{code}", headers=ADMIN, timeout=5, json={
        "full_name": name, "unit": "SNV", "email": email, "position": "Chủ tịch UBND"})
    requests.put(f"{api}/units/UBND-HC", headers=ADMIN, timeout=5, json={
        "name": "UBND phường Hải Châu", "parent": "SNV", "managers": ["H"]})

    # the window opens a moment from now: an invitation to each active official with
    # colleagues (not the head, alone in the department; not the inactive one)
    now = datetime.now(UTC)
    window = put_window(api, now + timedelta(seconds=3), now + timedelta(hours=2), ["PT1H"])
    assert window["reminders_at"]
    invitations = wait_for(lambda: (m := mails(smtp, INVITATION)) and len(m) == 4 and m,
                           timeout=60, message="the four invitations")
    assert set(invitations) == set(EMAILS.values())
    assert all(len(sent) == 1 for sent in invitations.values())

    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(link_in(invitations[EMAILS["R"]][0]))
    page.get_by_role("heading", name=f"Đánh giá đồng nghiệp năm {YEAR}").wait_for()
    assert page.url == f"{survey.base}/reviews/{YEAR}"
    assert page.get_by_text("Đã hoàn thành 0 trên 3 đồng nghiệp").is_visible()
    shoot(page, "cycle-list", shots)

    # P1: a draft, finished later; P2 finished then edited; P3 finished
    page.get_by_role("link", name="Đánh giá Trần Văn Minh").click()
    choose(page, {1: "5 · Rất hài lòng", 2: "4 · Hài lòng"})
    shoot(page, "cycle-form", shots)
    page.get_by_role("button", name="Lưu nháp").click()
    page.get_by_role("status").filter(has_text="Đã lưu nháp").wait_for()
    for colleague in ("Lê Thị Hoa", "Phạm Quốc Huy"):
        page.get_by_role("link", name=f"Đánh giá {colleague}").click()
        choose(page, {1: "4 · Hài lòng", 2: "4 · Hài lòng", 3: "5 · Rất hài lòng",
                      4: "3 · Bình thường", 5: "4 · Hài lòng"})
        page.get_by_role("button", name="Hoàn thành đánh giá").click()
        page.get_by_role("status").filter(has_text=f"Đã ghi nhận đánh giá {colleague}") \
            .wait_for()
    page.get_by_role("link", name="Sửa Lê Thị Hoa").click()
    choose(page, {4: "5 · Rất hài lòng"})
    page.get_by_role("button", name="Lưu thay đổi").click()
    page.get_by_role("status").filter(has_text="Đã ghi nhận đánh giá Lê Thị Hoa").wait_for()
    page.get_by_role("link", name="Tiếp tục Trần Văn Minh").click()
    choose(page, {3: "5 · Rất hài lòng", 4: "4 · Hài lòng", 5: "4 · Hài lòng"})
    page.get_by_label("Nhận xét cho đồng nghiệp").fill("Anh luôn hướng dẫn người dân tận tình.")
    page.get_by_role("button", name="Hoàn thành đánh giá").click()
    page.get_by_role("status").filter(has_text="Đã ghi nhận đánh giá Trần Văn Minh").wait_for()
    assert page.get_by_text("Đã hoàn thành 3 trên 3 đồng nghiệp").is_visible()
    shoot(page, "cycle-list-done", shots)
    # two colleagues review P1 by token: three reviewers in all
    review_by_token(api, "P2", "P1", "Đúng giờ, trang phục chỉnh tề.")
    review_by_token(api, "P3", "P1", None)

    # the window moved so that its reminder falls due: those with reviews pending only
    now = datetime.now(UTC)
    put_window(api, now - timedelta(minutes=5), now + timedelta(hours=1, seconds=5),
               ["PT1H"])
    reminders = wait_for(lambda: (m := mails(smtp, f"[Nhắc] {REMINDER}")) and len(m) == 3
                         and m, timeout=60, message="the three reminders")
    assert set(reminders) == {EMAILS["P1"], EMAILS["P2"], EMAILS["P3"]}
    text = reminders[EMAILS["P2"]][0].get_body(preferencelist=("plain",)).get_content()
    assert "Bạn còn 2 đồng nghiệp chưa đánh giá" in text

    # the head reads the response (counts only) and sends one extra reminder
    head = chromium.new_context(viewport={"width": 1280, "height": 900})
    head_page = head.new_page()
    sign_in(head_page, survey, smtp, HEAD[2])
    head_page.get_by_role("navigation").get_by_role("link", name="Tiến độ đánh giá").click()
    row = head_page.get_by_role("row", name=re.compile("UBND phường Hải Châu"))
    assert re.sub(r"\s+", " ", row.inner_text()).startswith(
        "UBND phường Hải Châu (UBND-HC) 4 1 2 1 25%")
    shoot(head_page, "cycle-response", shots)
    row.get_by_role("button", name=re.compile("Gửi nhắc nhở ngay")).click()
    head_page.get_by_role("status").filter(has_text="Đã gửi thư nhắc tới 3 cán bộ").wait_for()
    wait_for(lambda: len(mails(smtp, f"[Nhắc lại] {REMINDER}")) == 3, timeout=60,
             message="the extra reminders")
    assert EMAILS["R"] not in mails(smtp, "[Nhắc")
    head.close()

    # closed early: the reviewee reads the results (scoring's page, the same session)
    now = datetime.now(UTC)
    put_window(api, now - timedelta(minutes=5), now + timedelta(seconds=2), ["PT1M"])
    time.sleep(max(0.0, (now + timedelta(seconds=2) - datetime.now(UTC)).total_seconds()))
    page.goto(f"{survey.base}/reviews/{YEAR}")
    assert page.get_by_role("link", name="Xem kết quả đồng nghiệp đánh giá bạn").is_visible()
    context.close()
    reviewee = chromium.new_context(viewport={"width": 390, "height": 844})
    page = reviewee.new_page()
    sign_in(page, survey, smtp, EMAILS["P1"])
    results = f"{scoring.base}/reviews/{YEAR}/results"

    def published() -> bool:
        page.goto(results)
        return "Anh luôn hướng dẫn người dân tận tình." in page.content()

    wait_for(published, timeout=60, interval=1, message="P1's results after the close")
    assert "Đúng giờ, trang phục chỉnh tề." in page.content()
    shoot(page, "cycle-results", shots)
    reviewee.close()

    # no link's secret in any log
    for message in smtp.messages:
        found = LINK.search(message.get_body(preferencelist=("plain",)).get_content())
        if found:
            secret = found.group(0).rsplit("/", 1)[1]
            for proc in (survey, scoring, notify):
                assert secret not in proc.output(), proc.module
