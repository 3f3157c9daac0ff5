"""The README's flows across the three services as OS processes on the real broker, with a
real SMTP server and webhook receiver: the administrator builds the directory and a
deadline, citizens rate, colleagues review, and scores and notifications come out, each
notification once, each one received exactly as often as the log says it was sent."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from devkit.apps import ADMIN, ADMIN_TOKEN
from devkit.procs import start_ready
from devkit.receivers import SmtpServer, WebhookReceiver
from tests.conftest import wait_for

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]
SECRET = "whole-system-webhook-secret"
COLLEAGUES = ["CB2", "CB3", "CB4"]


def notifications(base: str, **query) -> list[dict]:
    r = requests.get(f"{base}/api/v1/notifications", params={"per_page": 500, **query},
                     headers=ADMIN, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


def test_directory_ratings_reviews_scores_and_alerts(fresh_rabbit_url):
    smtp, hook = SmtpServer().start(), WebhookReceiver(SECRET).start()
    env = {"AMQP_URL": fresh_rabbit_url, "ADMIN_TOKEN": ADMIN_TOKEN, "SMTP_URL": smtp.url,
           "WEBHOOK_SECRET": SECRET, "LOG_LEVEL": "WARNING"}
    procs = []
    try:
        procs = start_ready(env, "services.survey", "services.scoring", "services.notify")
        survey, scoring, notify = procs
        s, n = f"{survey.base}/api/v1", f"{notify.base}/api/v1"
        year = str(datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).year)

        # the administrator: directory, a counter, a review window, a deadline
        assert requests.put(f"{s}/units/U1", headers=ADMIN, timeout=5, json={
            "name": "Phường Bến Nghé", "emails": ["vanthu@example.vn"],
            "webhook_url": hook.url}).status_code == 201
        for code, name in [("CB1", "Phạm Thị B"), ("CB2", "Lê Văn C"), ("CB3", "Trần Thị D"),
                           ("CB4", "Võ Văn E")]:
            assert requests.put(f"{s}/officials/{code}", headers=ADMIN, timeout=5, json={
                "full_name": name, "unit": "U1"}).status_code == 201
        counter = requests.put(f"{s}/counters/Q1", headers=ADMIN, timeout=5, json={
            "unit": "U1", "label": "Quầy 1", "officials": ["CB1"]}).json()
        now = datetime.now(UTC)
        assert requests.put(f"{s}/review-windows/{year}", headers=ADMIN, timeout=5, json={
            "opens_at": (now - timedelta(hours=1)).isoformat(),
            "closes_at": (now + timedelta(days=1)).isoformat()}).status_code == 201
        due = datetime.now(UTC) + timedelta(seconds=12)

        def put_deadline():
            r = requests.put(f"{n}/deadlines/bao-cao", headers=ADMIN, timeout=5, json={
                "title": "Báo cáo kết quả đánh giá", "due_at": due.isoformat(),
                "units": ["U1"], "remind_before": ["PT6S"]})
            # 422 while notify has not yet had U1's directory event: it refuses unknown units
            return None if r.status_code == 422 else r

        r = wait_for(put_deadline, timeout=15, message="notify to know U1 and take the deadline")
        assert r.status_code == 201, r.text

        # citizens: three unhappy ratings of CB1 at the counter
        for overall in (1, 2, 1):
            assert requests.post(f"{s}/ratings", timeout=5, json={
                "counter_token": counter["token"], "official": "CB1", "overall": overall,
                "comment": "Chờ lâu", "client_id": str(uuid.uuid4())}).status_code == 201
        # colleagues: three peer reviews of CB1
        for code in COLLEAGUES:
            token = requests.post(f"{s}/officials/{code}/tokens", headers=ADMIN,
                                  timeout=5).json()["token"]
            r = requests.put(f"{s}/peer-reviews/{year}/CB1", timeout=5,
                             headers={"Authorization": f"Bearer {token}"},
                             json={"scores": dict.fromkeys(
                                 ["discipline", "conduct", "ethics", "dress", "participation"],
                                 2)})
            assert r.status_code == 201, r.text

        # scores
        def score():
            r = requests.get(f"{scoring.base}/api/v1/scores/officials/CB1?period={year}",
                             headers=ADMIN, timeout=5)
            body = r.json() if r.status_code == 200 else None
            if body and body["citizen"]["count"] == 3 and body["peer"]["count"] == 3:
                return body
            return None

        body = wait_for(score, timeout=30, message="CB1's score from ratings and reviews")
        assert body["citizen"]["mean"] == 1.33 and body["citizen"]["satisfaction_rate"] == 0.0
        # while the window is open the peer results are not published, to anyone
        assert body["peer"]["criteria"] is None and body["peer"]["index"] is None
        assert body["conduct_index"] == body["citizen"]["index"]
        # the window closes: all at once
        assert requests.put(f"{s}/review-windows/{year}", headers=ADMIN, timeout=5, json={
            "opens_at": (now - timedelta(hours=1)).isoformat(),
            "closes_at": datetime.now(UTC).isoformat()}).status_code == 200

        def published():
            b = score()
            return b if b and b["peer"]["criteria"] is not None else None

        body = wait_for(published, timeout=30, message="CB1's peer results at the close")
        assert set(body["peer"]["criteria"].values()) == {2.0}
        low, high = sorted([body["citizen"]["index"], body["peer"]["index"]])
        assert low <= body["conduct_index"] <= high
        unit = requests.get(f"{scoring.base}/api/v1/scores/units/U1?period={year}",
                            headers=ADMIN, timeout=5).json()
        assert unit["officials"][0]["official"] == "CB1"

        # notifications: the reminder at its time, one rating alert (the later ratings fold
        # into the next hour's); CB1's conduct under 50 (if the year's reviews are shown) is
        # one alert naming the year, quarter and month, a moment after the crossing
        wait_for(lambda: any(m["Subject"].startswith("[Nhắc hạn]") for m in smtp.messages),
                 timeout=30, message="the deadline reminder")
        official_expected = 2 if body["conduct_index"] < 50 else 0  # email and webhook
        wait_for(lambda: len([i for i in notifications(notify.base)
                              if "|official:CB1|" in i["id"]]) == official_expected,
                 timeout=30, message="CB1's conduct alert")
        time.sleep(3)  # let anything that would come twice arrive
        wait_for(lambda: not notifications(notify.base, status="pending"), timeout=20)
        log = notifications(notify.base)
        by_kind: dict[tuple[str, str], int] = {}
        for item in log:
            by_kind[(item["kind"], item["channel"])] = by_kind.get(
                (item["kind"], item["channel"]), 0) + 1
        assert by_kind[("deadline.reminder", "email")] == 1
        assert by_kind[("deadline.reminder", "webhook")] == 1
        assert by_kind[("rating.alert", "email")] == 1
        assert by_kind[("rating.alert", "webhook")] == 1
        # the unit's satisfaction is 0% but from 3 ratings: a unit's rate alerts from 20
        unit_alerts = [i for i in log if i["kind"] == "score.alert" and "|unit:U1|" in i["id"]]
        assert unit_alerts == []
        official_alerts = [i for i in log if "|official:CB1|" in i["id"]]
        assert len(official_alerts) == official_expected
        assert {i["status"] for i in log} == {"sent"}, [
            (i["id"], i["errors"]) for i in log if i["status"] != "sent"]
        # what the log says was sent is what arrived, exactly
        assert len(smtp.messages) == sum(1 for i in log if i["channel"] == "email")
        assert len(hook.received) == sum(1 for i in log if i["channel"] == "webhook")
        assert hook.bad_signatures == 0
        alert = next(m for m in smtp.messages if m["Subject"].startswith("[Cảnh báo] Người dân"))
        assert "Phạm Thị B" in alert["Subject"] and alert["To"] == "vanthu@example.vn"
    finally:
        codes = [p.stop() for p in procs]
        smtp.stop()
        hook.stop()
    assert codes == [0, 0, 0]
