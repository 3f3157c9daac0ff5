"""The review cycle's emails: survey names each official to invite or remind (an
`auth.link_requested` with the purpose and the counts) and notify writes to them alone,
in Vietnamese with an English line: the sign-in link to their review list, how many
colleagues are left, the close in local time; logged with `official`, the link withheld."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from devkit.apps import ADMIN, make_settings
from services.notify.reviews import publish_cycle_due, save_window
from shared import signin
from tests.notify.conftest import SECRET
from tests.notify.helpers import (
    LOGIN_URL,
    ctx,
    deliver,
    notifications,
    official,
    review_link,
    run_job,
    settled,
    start_notify,
    unit,
    window_set,
)
from tests.notify.test_people import (
    EMAIL,
    LINK,
    everything_stored,
    key_of,
    our_logs,
    text_of,
)

# 17:00 in Hanoi ten days from now
CLOSES = (datetime.now(UTC) + timedelta(days=10)).replace(hour=10, minute=0, second=0,
                                                          microsecond=0)
DAY = CLOSES.strftime("%d/%m/%Y")


@pytest.fixture
def unit_with_people(notify, smtp):
    deliver(notify, unit("U1", emails=["u1@example.vn"]),
            official("CB1", "U1", "Trần Thị Bình", email=EMAIL),
            official("CB2", "U1", "Lê Văn Cường", email="cuong.lv@example.vn"))
    return notify


def test_the_invitation_links_to_the_review_list_and_says_how_many_and_until_when(
        unit_with_people, smtp):
    event = review_link("CB1", EMAIL, "review.invitation", assigned=7, closes_at=CLOSES)
    deliver(unit_with_people, event)
    settled()
    [mail] = smtp.messages
    text = text_of(mail)
    assert mail["To"] == EMAIL
    assert mail["Subject"] == (f"Mời đánh giá đồng nghiệp năm 2026, hạn {DAY} / "
                               "Peer review 2026: you are invited")
    assert "Kính gửi Trần Thị Bình," in text
    assert "Bạn được mời đánh giá 7 đồng nghiệp cùng đơn vị theo 5 tiêu chí" in text
    assert f"Hạn hoàn thành: 17:00 ngày {DAY} (GMT+7), còn " in text
    secret = LINK.search(text).group(1)
    assert signin.nonce_of(key_of(unit_with_people), secret) == event.data["nonce"]
    expires = datetime.fromisoformat(event.data["expires_at"]).astimezone(
        unit_with_people.settings.tz).strftime("%H:%M ngày %d/%m/%Y")
    assert f"Liên kết chỉ dùng được một lần, đến {expires} (GMT+7)" in text
    assert "hãy mở http://kiosk.test/reviews/2026 và đăng nhập" in text
    assert ("English: the 2026 peer review has begun: you are asked to review 7 colleagues "
            f"of your unit by 17:00 on {DAY} (GMT+7).") in text
    html = mail.get_body(("html",)).get_content()
    assert f'href="{LOGIN_URL}{secret}"' in html and "Review your colleagues" in html


def test_a_reminder_says_how_many_are_left_and_an_extra_one_who_asked(unit_with_people,
                                                                       smtp):
    deliver(unit_with_people,
            review_link("CB1", EMAIL, "review.reminder", assigned=7, done=6,
                        closes_at=CLOSES),
            review_link("CB2", "cuong.lv@example.vn", "review.reminder", assigned=7,
                        done=3, closes_at=CLOSES, extra=True))
    settled()
    mails = {m["To"]: m for m in smtp.messages}
    plain, extra = text_of(mails[EMAIL]), text_of(mails["cuong.lv@example.vn"])
    assert mails[EMAIL]["Subject"].startswith("[Nhắc] Đánh giá đồng nghiệp năm 2026 kết "
                                              f"thúc ngày {DAY}")
    assert "Bạn còn 1 đồng nghiệp chưa đánh giá trong đợt đánh giá đồng nghiệp năm 2026 " \
           "(đã xong 6/7)." in plain
    assert f"Hạn hoàn thành: 17:00 ngày {DAY} (GMT+7), còn " in plain
    assert "you have 1 colleague left to review" in plain
    assert "lãnh đạo" not in plain and "manager" not in plain
    assert mails["cuong.lv@example.vn"]["Subject"].startswith("[Nhắc lại]")
    assert "Bạn còn 4 đồng nghiệp chưa đánh giá" in extra
    assert "Thư nhắc này được gửi theo đề nghị của lãnh đạo đơn vị." in extra
    assert "A manager of your unit asked for this reminder." in extra
    assert LINK.search(extra)


def test_nobody_is_written_to_but_the_officials_survey_names(unit_with_people, smtp):
    """A window and its time coming publish the cycle's event for survey and write to
    nobody; each link request then reaches its one official, once."""
    now = datetime.now(UTC)
    running = unit_with_people
    deliver(running, window_set("2026", now - timedelta(days=1), now + timedelta(days=9),
                                ["P2D"]))
    run_job(running, publish_cycle_due, "2026", "invitation", None, 1, now=now)
    ctx(running).relay.flush()
    settled()
    assert smtp.messages == [] and notifications() == []
    event = review_link("CB1", EMAIL)
    deliver(running, event, event)
    settled()
    assert [m["To"] for m in smtp.messages] == [EMAIL]


def test_the_log_names_the_official_withholds_the_link_and_the_counts(unit_with_people,
                                                                      smtp, caplog):
    caplog.set_level(logging.DEBUG)
    event = review_link("CB1", EMAIL, "review.reminder", assigned=5, done=2,
                        closes_at=CLOSES)
    deliver(unit_with_people, event, review_link(
        "CB2", "cuong.lv@example.vn", "review.reminder", assigned=5, done=4,
        closes_at=CLOSES))
    settled()
    secret = LINK.search(text_of(next(m for m in smtp.messages if m["To"] == EMAIL))
                         ).group(1)
    client = unit_with_people.client
    answer = client.get("/api/v1/notifications?kind=review.reminder", headers=ADMIN)
    items = {n["official"]: n for n in answer.get_json()}
    item = items["CB1"]
    assert (item["kind"], item["official"], item["unit"], item["recipient"],
            item["status"]) == ("review.reminder", "CB1", "U1", EMAIL, "sent")
    # the subject the log shows says nothing of an official's progress
    assert items["CB1"]["subject"] == items["CB2"]["subject"]
    mac = secret.rpartition(".")[2]
    for where, text in {"logs": our_logs(caplog), "database": everything_stored(),
                        "log API": answer.get_data(as_text=True),
                        "metrics": client.get("/metrics", headers=ADMIN).get_data(
                            as_text=True)}.items():
        assert mac not in text, where
    assert event.data["nonce"] not in everything_stored()
    record = notifications(official="CB1")[0]
    assert "đã ẩn" in record["text"] and "link_nonce" not in record
    assert 'kind="review.reminder"' not in client.get("/metrics", headers=ADMIN).get_data(
        as_text=True)


def test_a_request_without_its_counts_or_expired_on_its_way_is_not_sent(unit_with_people,
                                                                        smtp):
    broken = review_link("CB1", EMAIL)
    del broken.data["context"]["pending"]
    expired = review_link("CB2", "cuong.lv@example.vn", expires_in=timedelta(seconds=-1))
    deliver(unit_with_people, broken, expired)
    settled()
    records = {r["official"]: r for r in notifications()}
    assert records["CB1"]["status"] == "skipped" and "pending" in records["CB1"]["errors"][0]
    assert records["CB2"]["status"] == "skipped" and "expired" in records["CB2"]["errors"][0]
    assert smtp.messages == []


def test_the_demo_prints_only_the_links_asked_for_on_its_console(mongo_url, capsys):
    running = start_notify(make_settings("notify", mongo_url, webhook_secret=SECRET,
                                         demo=True))
    try:
        deliver(running, review_link("CB1", EMAIL), review_link("CB2", "c@example.vn",
                                                                "review.reminder"))
        settled()
        assert "[demo]" not in capsys.readouterr().out
        assert {r["status"] for r in notifications()} == {"skipped"}
    finally:
        running.stop()


def test_a_window_set_through_the_queue_is_kept_and_scheduled(unit_with_people):
    opens = datetime.now(UTC) + timedelta(days=3)
    deliver(unit_with_people, window_set("2026", opens, opens + timedelta(days=14),
                                         ["P1D"]))
    jobs = {j["id"] for j in ctx(unit_with_people).scheduler.jobs()}
    assert {"review-invitation:2026", "review-reminder:2026:P1D"} <= jobs
    assert save_window(window_set("2026", opens, opens + timedelta(days=14), ["P1D"])
                       .loaded_data(), store=ctx(unit_with_people).store,
                       scheduler=ctx(unit_with_people).scheduler) is False
