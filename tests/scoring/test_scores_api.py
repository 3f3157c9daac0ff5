"""Scoring consumes ratings and directory events and serves official scores."""

from __future__ import annotations

import pytest

from devkit.apps import ADMIN
from devkit.auth import grant
from tests.scoring.helpers import deliver, rating
from tests.scoring.helpers import official as official_record


def official_event(version, name="Nguyễn Văn A", unit="U1"):
    return official_record("CB1", unit=unit, version=version, name=name)


def score(scoring, official="CB1", period="2026"):
    return scoring.client.get(f"/api/v1/scores/officials/{official}?period={period}",
                              headers=ADMIN)


def test_rating_counts_in_year_quarter_and_month(scoring):
    deliver(scoring, official_event(1), rating(overall=5, factors={"access": 4}),
            rating(overall=2))
    for period in ("2026", "2026-Q2", "2026-05"):
        body = score(scoring, period=period).get_json()
        assert body["citizen"]["count"] == 2, period
        assert body["citizen"]["mean"] == 3.5
        assert body["citizen"]["satisfaction_rate"] == 50.0
        assert body["citizen"]["factors"]["access"] == 4.0
        assert body["citizen"]["index"] == 75.0  # 100 × (1 + 8) / 12
        assert body["full_name"] == "Nguyễn Văn A"
    assert score(scoring, period="2026-06").get_json()["citizen"]["count"] == 0


def test_duplicate_delivery_counts_once(scoring):
    event = rating()
    deliver(scoring, official_event(1), event, event, event)
    same_rating_other_envelope = rating(rid=event.data["id"])
    deliver(scoring, same_rating_other_envelope)
    assert score(scoring).get_json()["citizen"]["count"] == 1


def test_older_directory_version_never_overwrites_a_newer_one(scoring):
    deliver(scoring, official_event(2, name="Tên mới"), official_event(1, name="Tên cũ"))
    assert score(scoring).get_json()["full_name"] == "Tên mới"
    deliver(scoring, official_event(3, name="Tên mới nhất"))
    assert score(scoring).get_json()["full_name"] == "Tên mới nhất"


def test_rating_before_the_directory_event_is_kept(scoring):
    deliver(scoring, rating(official="CB1"))
    assert score(scoring).get_json()["citizen"]["count"] == 1
    deliver(scoring, official_event(1))
    body = score(scoring).get_json()
    assert body["citizen"]["count"] == 1 and body["unit"] == "U1"


def test_unknown_official_is_404(scoring):
    r = score(scoring, official="NOBODY")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


@pytest.mark.parametrize("period", ["2026-13", "26", "2026-Q0", "last-year"])
def test_bad_period_is_422(scoring, period):
    deliver(scoring, official_event(1))
    r = score(scoring, period=period)
    assert r.status_code == 422
    assert list(r.get_json()["errors"]) == ["period"]


def test_scores_need_a_caller_who_may_read_them(scoring):
    deliver(scoring, official_event(1))
    assert scoring.client.get("/api/v1/scores/officials/CB1").status_code == 401
    bad = {"Authorization": "Bearer wrong-token-wrong-token"}
    r = scoring.client.get("/api/v1/scores/officials/CB1", headers=bad)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    grant(scoring.app, officials={"CB2": {"unit": "U1"}}, tokens={"cso_colleague": "CB2"})
    r = scoring.client.get("/api/v1/scores/officials/CB1",
                           headers={"Authorization": "Bearer cso_colleague"})
    assert r.status_code == 403 and r.mimetype == "application/problem+json"
