"""A citizen rating travels HTTP → survey → broker → scoring → a score read over HTTP."""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from devkit.apps import ADMIN, ADMIN_TOKEN
from devkit.metrics import sample_total
from devkit.procs import ServiceProcess, free_port, start_ready
from tests.conftest import wait_for


def read_score(base: str, official: str, headers: dict) -> dict | None:
    r = requests.get(f"{base}/api/v1/scores/officials/{official}", headers=headers, timeout=5)
    return r.json() if r.status_code == 200 else None


# The labels of what the demo publishes to scoring's queue: ratings, the directory, the
# session keys, and peer reviews, which are counted under "personal" (with tokens,
# revocations, sign-in links, notices and audit records, none of which the demo makes
# before anyone signs in), so the counter never dates one reviewer's act.
SCORING_GETS = ("rating.submitted", "directory.unit.upserted", "directory.official.upserted",
                "auth.keys_published", "personal")


def scoring_has_everything(base: str, ratings: int, reviews: int, headers: dict) -> bool:
    """Survey has published its `ratings` and `reviews` (and the directory) and scoring
    has settled every one of those events (the demo writes its history in the background).
    `headers`: the admin token's (metrics are for operators)."""
    r = requests.get(f"{base}/metrics", headers=headers, timeout=5)
    assert r.status_code == 200, r.text
    text = r.text
    published = {t: sample_total(text, "congso_events_published_total", type=t)
                 for t in SCORING_GETS}
    acked = sample_total(text, "congso_events_consumed_total", queue="congso.scoring",
                         outcome="ack")
    return (published["rating.submitted"] >= ratings
            and published["personal"] >= reviews
            and acked >= sum(published.values()))


def test_all_in_one_process_on_the_memory_bus():
    """The README's demo: rate CB001 at the demo counter, read the score back."""
    proc = ServiceProcess("services", {}, free_port())
    try:
        proc.wait_ready()
        token = wait_for(lambda: re.search(r"admin token\s+(\S+)", proc.output()), timeout=20,
                         message="the admin token in the banner").group(1)
        headers = {"Authorization": f"Bearer {token}"}
        history = wait_for(lambda: re.search(r"demo history written: (\d+) ratings and "
                                             r"(\d+) peer reviews", proc.output()),
                           timeout=60, message="the demo's history")
        ratings, reviews = (int(n) for n in history.groups())
        assert ratings > 0
        wait_for(lambda: scoring_has_everything(proc.base, ratings, reviews, headers), timeout=60,
                 message="scoring has the demo's history")
        before = read_score(proc.base, "CB001", headers)
        assert before["full_name"] == "Nguyễn Thị Lan"
        n = before["citizen"]["count"]

        r = requests.post(f"{proc.base}/api/v1/ratings", timeout=5, json={
            "counter_token": "demo-quay-1.F0dGla9eZm07Gumn", "official": "CB001", "overall": 5,
            "client_id": str(uuid.uuid4())})
        assert r.status_code == 201, r.text
        score = wait_for(lambda: (s := read_score(proc.base, "CB001", headers))
                         and s["citizen"]["count"] == n + 1 and s, message="score")
        mean = (before["citizen"]["mean"] or 0) * n / (n + 1) + 5 / (n + 1)
        assert score["citizen"]["mean"] == pytest.approx(mean, abs=0.01)
        wait_for(lambda: scoring_has_everything(proc.base, ratings + 1, reviews, headers))
        assert read_score(proc.base, "CB001", headers)["citizen"]["count"] == n + 1  # once
    finally:
        assert proc.stop() == 0, proc.output()


@pytest.mark.rabbitmq
def test_separate_processes_over_the_real_broker(fresh_rabbit_url):
    env = {"AMQP_URL": fresh_rabbit_url, "ADMIN_TOKEN": ADMIN_TOKEN}
    procs = start_ready(env, "services.survey", "services.scoring", "services.notify")
    survey, scoring, _ = procs  # notify runs too: it must start and stop cleanly
    try:
        s = survey.base + "/api/v1"
        assert requests.put(f"{s}/units/U1", json={"name": "Phường 1"}, headers=ADMIN,
                            timeout=5).status_code == 201
        assert requests.put(f"{s}/officials/CB1", json={"full_name": "Phạm Thị B", "unit": "U1"},
                            headers=ADMIN, timeout=5).status_code == 201
        counter = requests.put(f"{s}/counters/Q1", headers=ADMIN, timeout=5, json={
            "unit": "U1", "label": "Quầy 1", "officials": ["CB1"]}).json()
        client_id = str(uuid.uuid4())
        for overall in (5, 4, 1):
            r = requests.post(f"{s}/ratings", timeout=5, json={
                "counter_token": counter["token"], "official": "CB1", "overall": overall,
                "client_id": client_id if overall == 5 else str(uuid.uuid4())})
            assert r.status_code == 201, r.text
        # a kiosk retrying the first rating changes nothing
        again = requests.post(f"{s}/ratings", timeout=5, json={
            "counter_token": counter["token"], "official": "CB1", "overall": 5,
            "client_id": client_id})
        assert again.status_code == 200

        score = wait_for(lambda: (x := read_score(scoring.base, "CB1", ADMIN))
                         and x["citizen"]["count"] == 3 and x["full_name"] and x,
                         timeout=20, message="score over the broker")
        assert score["citizen"]["mean"] == 3.33
        assert score["citizen"]["satisfaction_rate"] == 66.67
        assert score["citizen"]["index"] == 76.92  # 100 × (2 + 8) / 13
        assert score["full_name"] == "Phạm Thị B"
    finally:
        codes = [p.stop() for p in procs]
    assert codes == [0, 0, 0], "\n".join(p.output() for p in procs)
