"""The demo's year: a ward office seeded through survey's store and outbox into the
all-in-one app, and scored by scoring as in production."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta

import pytest

from devkit.apps import ADMIN, make_settings, start
from services import demo
from services.bootstrap import create_app
from services.survey.documents import PeerReview, Rating
from shared.db import forget_mock_store
from shared.memory_bus import MemoryBus
from tests.conftest import wait_for

TODAY = date(2026, 12, 4)


# First in the module: it connects survey's store to databases of its own, which must
# happen before the module's seeded app is made (mongoengine's connections are global).
def test_the_same_day_seeds_the_same_ratings(mongo_url):
    def ratings_of(url: str) -> list:
        running = start(create_app, make_settings("survey", url), MemoryBus())
        try:
            demo.seed_directory(running.app)
            demo.seed_ratings(running.app, random.Random(7), TODAY, weeks=3)
            return sorted((d["_id"], d["submitted_at"], d["overall"], d.get("comment"))
                          for d in Rating._get_collection().find())
        finally:
            running.stop()

    first = ratings_of(mongo_url)
    assert first and first == ratings_of(mongo_url + "_again")


@pytest.fixture(scope="module")
def seeded():
    """The demo as `make run` has it: all three services on the embedded store, seeded
    once for this module's tests (they only read it)."""
    url = f"mongomock://localhost/congso_test_demo_{uuid.uuid4().hex[:12]}"
    running = start(create_app, make_settings("all", url), MemoryBus())
    try:
        assert running.runtime.get("survey.db").wait(10)
        counter = demo.seed_directory(running.app)
        history = demo.seed_history(running.app, today=TODAY)
        running.runtime.get("survey.relay").flush(30)
        assert running.bus.drain_wait(timeout=60)  # scoring and notify took every event
        yield running, counter, history
    finally:
        running.stop()
        forget_mock_store(url)


def score(client, code: str, period: str = "2026") -> dict:
    r = client.get(f"/api/v1/scores/officials/{code}?period={period}", headers=ADMIN)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_the_demo_office_has_a_year_of_ratings_in_office_hours(seeded):
    running, counter, history = seeded
    client = running.client
    assert counter["code"] == "HC-Q1" and client.get(f"/k/{counter['token']}").status_code == 200
    assert "CB001" in counter["officials"]
    officials = client.get("/api/v1/officials?unit=UBND-HC", headers=ADMIN).get_json()
    assert len(officials) == 11  # ten who serve, the chairman
    assert next(o for o in officials if o["code"] == "CB001")["full_name"] == "Nguyễn Thị Lan"
    assert len(client.get("/api/v1/counters?unit=UBND-HC", headers=ADMIN).get_json()) == 4

    docs = list(Rating._get_collection().find())
    assert 2500 <= len(docs) == history.ratings <= 4000
    assert 0.05 < sum(1 for d in docs if "official" not in d) / len(docs) < 0.3
    tz = running.settings.tz
    for d in docs:
        local = d["submitted_at"].astimezone(tz)
        assert local.weekday() < 5 and local.year == 2026, local
        assert (time(7, 30) <= local.time() <= time(11, 30)
                or time(13, 30) <= local.time() <= time(17, 0)), local
        # older than a day: notify alerts on none of them
        assert local.date() <= TODAY - timedelta(days=2)
    months = {d["submitted_at"].astimezone(tz).month for d in docs}
    assert months == set(range(1, 13))
    comments = [d for d in docs if d.get("comment")]
    assert {d["overall"] for d in comments} >= {1, 2, 4, 5}
    # a few bad days: some days have many more low ratings than the year's usual
    low_by_day: dict[date, int] = {}
    for d in docs:
        if d["overall"] <= 2:
            day = d["submitted_at"].astimezone(tz).date()
            low_by_day[day] = low_by_day.get(day, 0) + 1
    assert sum(1 for n in low_by_day.values() if n >= 4) >= 3


def test_scoring_scores_the_demo_year_and_notify_stays_quiet(seeded):
    running, _, history = seeded
    client = running.client
    counts = {code: n for code, n in history.by_official.items() if code != "-"}
    wait_for(lambda: all(score(client, code)["citizen"]["count"] == n
                         for code, n in counts.items()), timeout=30,
             message="scoring applied every seeded rating")
    lan, huy = score(client, "CB001"), score(client, "CB004")
    assert lan["conduct_index"] is not None and lan["band"] is not None
    assert lan["conduct_index"] > huy["conduct_index"]
    unit = client.get("/api/v1/scores/units/UBND-HC?period=2026", headers=ADMIN).get_json()
    assert unit["citizen"]["count"] == history.ratings
    # last year's reviews, window closed: enough reviewers for peer results
    assert score(client, "CB001", "2025")["peer"]["count"] >= 3
    # old low ratings make no email storm: notify alerts only on ratings of the last day
    alerts = client.get("/api/v1/notifications?kind=rating.alert", headers=ADMIN).get_json()
    assert alerts == []


def test_peer_reviews_last_year_closed_this_year_open(seeded):
    running, _, history = seeded
    periods = [d["period"] for d in PeerReview._get_collection().find()]
    assert len(periods) == history.reviews
    assert periods.count("2025") > periods.count("2026") > 0
    client = running.client
    token = client.post("/api/v1/officials/CB002/tokens", headers=ADMIN).get_json()["token"]
    # (a token and, below, a sign-in link: the only writes of these tests, which share one
    # seeded app)
    mine = client.get("/api/v1/peer-reviews/2026/assignments",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    assert {a["status"] for a in mine} <= {"pending", "done"} and len(mine) == 10
    from services.survey.store import reviews

    now = datetime.combine(TODAY, time(9), running.settings.tz)
    assert reviews.window("2025")["closes_at"] < now < reviews.window("2026")["closes_at"]
    assert reviews.window("2026")["opens_at"] < now
    assert reviews.window("2026")["remind_before"] == ["P7D", "P3D", "P1D"]


def test_this_years_reviews_are_under_way_with_drafts_and_no_invitation_sent_again(seeded):
    """The open window's invitations went out when it opened (the history): notify plans
    them again on hearing of the window, and survey sends none twice."""
    running, _, _ = seeded
    from services.survey import review_cycle, review_rules
    from services.survey.documents import ReviewDraft, ReviewNotice
    from services.survey.store import review_cycle as cycle_store

    assert ReviewDraft._get_collection().count_documents({}) > 0
    ward = dict(cycle_store.active_by_unit())["UBND-HC"]
    progress = review_cycle.progress_of(
        "2026", ward, running.app.extensions["survey"].key("reviewer-pseudonym"))
    assert any(p.saved for p in progress.values())
    # the head's response page has someone in each state
    assert review_rules.response_counts(progress.values()) == {
        "invited": 11, "finished": 2, "in_progress": 7, "not_started": 2}
    invited = {d["official"] for d in ReviewNotice._get_collection().find({"year": "2026"})}
    assert invited == {m["code"] for m in ward} | {"SNV01", "SNV02"}
    assert running.bus.drain_wait(timeout=30)
    log = running.client.get("/api/v1/notifications?kind=review.invitation",
                             headers=ADMIN).get_json()
    assert log == []


def test_the_demo_has_a_unit_head_and_an_administrator_who_sign_in(seeded):
    running, counter, _ = seeded
    client = running.client
    access = running.app.extensions["survey"].access
    assert access.manages("CB011") == ["UBND-HC"] and access.manages("SNV01") == ["SNV"]
    assert access.scope("SNV01") == {"SNV", "UBND-HC"}
    admin = client.get("/api/v1/officials/SNV02", headers=ADMIN).get_json()
    assert (admin["roles"], admin["email"]) == (["admin"], demo.ADMIN_EMAIL)
    emails = [o["email"] for o in client.get("/api/v1/officials", headers=ADMIN).get_json()]
    assert all(emails) and len(set(emails)) == len(emails) == 13
    assert client.post("/api/v1/auth/links", json={"email": demo.HEAD_EMAIL}).status_code == 202
    banner = demo.banner(running.settings, counter)
    assert f"{running.settings.public_base_url}/login" in banner
    assert demo.HEAD_EMAIL in banner and demo.ADMIN_EMAIL in banner
    assert "lannt@haichau.example.vn" in banner and "/reviews/response" in banner
