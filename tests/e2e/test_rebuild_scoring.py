"""Scoring loses its database (killed, in-memory store gone) and is rebuilt from survey,
the year's review window (closed early, its results published) included, and every held
rating and decision as it stands (40 ratings from one address: the burst rule holds all
but ten of each official's, and one held rating is accepted)."""

from __future__ import annotations

import collections
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from devkit import rabbit
from devkit.apps import ADMIN, ADMIN_TOKEN
from devkit.procs import ServiceProcess, free_port
from shared import topology
from tests.conftest import wait_for

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


def score(base, official, period):
    r = requests.get(f"{base}/api/v1/scores/officials/{official}?period={period}",
                     headers=ADMIN, timeout=5)
    return r.json() if r.status_code == 200 else None


def test_killed_scoring_is_rebuilt_exactly_from_survey(fresh_rabbit_url):
    env = {"AMQP_URL": fresh_rabbit_url, "ADMIN_TOKEN": ADMIN_TOKEN}
    survey = ServiceProcess("services.survey", env, free_port())
    scoring = ServiceProcess("services.scoring", env, free_port())
    try:
        survey.wait_ready()
        scoring.wait_ready()
        s = f"{survey.base}/api/v1"
        requests.put(f"{s}/units/U1", json={"name": "Phường"}, headers=ADMIN, timeout=5)
        for code in ("A", "B", "C", "D"):
            requests.put(f"{s}/officials/{code}", json={"full_name": code, "unit": "U1"},
                         headers=ADMIN, timeout=5)
        token = requests.put(f"{s}/counters/Q", json={"unit": "U1", "label": "Q",
                                                      "officials": ["A", "B"]},
                             headers=ADMIN, timeout=5).json()["token"]
        for i in range(40):
            r = requests.post(f"{s}/ratings", timeout=5, json={
                "counter_token": token, "official": "AB"[i % 2], "overall": i % 5 + 1,
                "client_id": str(uuid.uuid4())})
            assert r.status_code == 201
        tokens = {c: requests.post(f"{s}/officials/{c}/tokens", headers=ADMIN,
                                   timeout=5).json()["token"] for c in "BCD"}
        year = str(datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).year)
        now = datetime.now(UTC)
        window = {"opens_at": (now - timedelta(hours=1)).isoformat(),
                  "closes_at": (now + timedelta(days=1)).isoformat()}
        assert requests.put(f"{s}/review-windows/{year}", json=window, headers=ADMIN,
                            timeout=5).status_code == 201
        for reviewer, value in zip("BCD", (5, 4, 3), strict=True):
            r = requests.put(f"{s}/peer-reviews/{year}/A", timeout=5,
                             headers={"Authorization": f"Bearer {tokens[reviewer]}"},
                             json={"scores": dict.fromkeys(
                                 ("discipline", "conduct", "ethics", "dress", "participation"),
                                 value)})
            assert r.status_code == 201, r.text
        wait_for(lambda: (x := score(scoring.base, "A", year)) and x["peer"]["count"] == 3,
                 timeout=30, message="the reviews counted, their results withheld")
        assert score(scoring.base, "A", year)["peer"]["index"] is None  # the window is open
        # the administrator closes the window early: the year's results are published
        window["closes_at"] = now.isoformat()
        assert requests.put(f"{s}/review-windows/{year}", json=window, headers=ADMIN,
                            timeout=5).status_code == 200
        # one address, 20 ratings of each official: ten counted, ten held; one accepted
        held = requests.get(f"{s}/ratings/suspect?unit=U1&period={year}", headers=ADMIN,
                            timeout=5).json()
        assert sorted(collections.Counter(h["official"] for h in held).items()) == [
            ("A", 10), ("B", 10)]
        accepted = next(h["id"] for h in held if h["official"] == "A")
        r = requests.post(f"{s}/ratings/{accepted}/decision", json={"decision": "accept"},
                          headers=ADMIN, timeout=5)
        assert r.status_code == 200, r.text
        before = wait_for(lambda: (x := score(scoring.base, "A", year))
                          and (x["citizen"]["count"], x["citizen"]["suspect"]) == (11, 9)
                          and x["peer"]["index"] == 75.0 and x,
                          timeout=30, message="A's results published at the close")

        scoring.kill()
        scoring = ServiceProcess("services.scoring", env, free_port())
        scoring.wait_ready()
        # its database died with it: at most a delivery it had not acked yet comes back
        lost = score(scoring.base, "A", year)
        assert lost is None or (lost["full_name"] is None and lost != before)

        result = subprocess.run(
            [sys.executable, "-m", "services.scoring", "rebuild", "--survey-url", survey.base,
             "--scoring-url", scoring.base],
            env={**env, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "rebuilt from" in result.stdout
        # caught up when the command returns, the closed window replayed too (without it
        # this year's results would be withheld until the year's end)
        assert score(scoring.base, "A", year) == before
        b = score(scoring.base, "B", year)["citizen"]  # and B came back too, held ones apart
        assert (b["count"], b["suspect"]) == (10, 10)
        # so did its copy of who may read what: an official's token reads their own score,
        # not a colleague's
        as_b = {"Authorization": f"Bearer {tokens['B']}"}
        own = requests.get(f"{scoring.base}/api/v1/scores/officials/B?period={year}",
                           headers=as_b, timeout=5)
        assert own.status_code == 200, own.text
        other = requests.get(f"{scoring.base}/api/v1/scores/officials/A?period={year}",
                             headers=as_b, timeout=5)
        assert other.status_code == 403, other.text
        # the hold was audited, and its records reached survey's log though scores were held
        wait_for(lambda: all(action in requests.get(
            f"{survey.base}/api/v1/audit?action={action}", headers=ADMIN, timeout=5).text
            for action in ("publishing_held", "publishing_resumed")),
            timeout=30, message="the hold's audit records in survey's log")
        # the replay went to scoring only: notify got each rating and directory change once
        # (the rebuilt scoring does send score.updated for the scores it derived anew)
        types = collections.Counter(
            props.type for props, _ in rabbit.get_all(fresh_rabbit_url,
                                                      topology.queue_for("notify").name))
        assert types["rating.submitted"] == 40 and types["rating.status_changed"] == 1
        assert types["directory.unit.upserted"] + types["directory.official.upserted"] == 5
    finally:
        for p in (survey, scoring):
            p.stop()
