"""The score formula of the contract, on hand-computed examples."""

from datetime import UTC, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from services.scoring.domain import (
    CitizenInput,
    ScoringConfig,
    band,
    citizen_part,
    conduct_index,
    official_score,
    peer_part,
    peer_results_at,
    rounded,
)

CFG = ScoringConfig()


def ratings(*overalls, factors=None):
    return [CitizenInput(o, factors or {}) for o in overalls]


def review(**scores):
    base = dict.fromkeys(("discipline", "conduct", "ethics", "dress", "participation"), 5)
    base.update(scores)
    return base


def test_no_ratings_gives_null_index_and_null_verdict():
    score = official_score([], [], CFG)
    assert score["citizen"]["count"] == 0
    assert score["citizen"]["index"] is None and score["citizen"]["mean"] is None
    assert score["conduct_index"] is None and score["band"] is None
    assert score["general_points"] is None


def test_one_perfect_rating_is_pulled_towards_the_prior():
    # 100 × (1 + 10 × 0.8) / (1 + 10) = 81.818…
    part = citizen_part(ratings(5), CFG)
    assert part["index"] == Fraction(900, 11)
    assert rounded(part["index"]) == 81.82
    assert part["satisfaction_rate"] == 100


def test_mixed_ratings_by_hand():
    # overalls 5,4,3,2,1: s = 2, n = 5 → 100 × (2 + 8) / 15 = 66.67; mean 3; rate 40%
    part = citizen_part(ratings(5, 4, 3, 2, 1), CFG)
    assert rounded(part["index"]) == 66.67
    assert part["mean"] == 3
    assert part["satisfaction_rate"] == 40


def test_factor_means_use_only_the_ratings_that_gave_them():
    rs = [CitizenInput(5, {"access": 4}), CitizenInput(3, {"access": 2, "result": 5}),
          CitizenInput(4, {})]
    part = citizen_part(rs, CFG)
    assert part["factors"]["access"] == 3
    assert part["factors"]["result"] == 5
    assert part["factors"]["procedure"] is None


def test_peer_results_are_hidden_below_three_reviewers():
    two = peer_part([review(), review()], CFG)
    assert two == {"count": 2, "criteria": None, "index": None}
    three = peer_part([review(), review(dress=1), review(ethics=3)], CFG)
    assert three["count"] == 3
    # mean of 15 scores: (15 × 5 − 4 − 2) / 15 = 4.6 → 100 × 3.6 / 4 = 90
    assert three["index"] == 90
    assert three["criteria"]["dress"] == Fraction(11, 3)


def test_conduct_renormalises_over_the_indexes_present():
    assert conduct_index(80, None, CFG) == 80
    assert conduct_index(None, 60, CFG) == 60
    assert conduct_index(80, 60, CFG) == 70
    weighted = ScoringConfig(citizen_weight=0.75, peer_weight=0.25)
    assert conduct_index(80, 60, weighted) == 75
    assert conduct_index(None, None, CFG) is None
    assert conduct_index(80, 60, ScoringConfig(citizen_weight=0, peer_weight=1)) == 60


def test_general_points_are_thirty_percent_of_the_conduct_index():
    score = official_score(ratings(5), [review()] * 3, CFG)
    # citizen 900/11, peer 100 → conduct (900/11 + 100)/2 = 1000/11 = 90.909…
    assert rounded(score["conduct_index"]) == 90.91
    assert rounded(score["general_points"]) == 27.27
    assert score["band"] == "xuat_sac"


@pytest.mark.parametrize("index, expected", [
    (100, "xuat_sac"), (90, "xuat_sac"), (Fraction(8999, 100), "tot"), (70, "tot"),
    (Fraction(6999, 100), "hoan_thanh"), (50, "hoan_thanh"),
    (Fraction(4999, 100), "khong_hoan_thanh"), (0, "khong_hoan_thanh"), (None, None),
    # judged as shown: 89.996 is printed 90.00, so it is xuat_sac
    (Fraction(89996, 1000), "xuat_sac"),
])
def test_band_edges(index, expected):
    assert band(index) == expected


def test_a_reviewer_threshold_stored_below_three_is_read_as_three():
    """An earlier release accepted 1 or 2; one review must never be readable off the
    results, whatever was stored."""
    stored = {**ScoringConfig().to_dict(), "min_peer_reviewers": 1}
    cfg = ScoringConfig.stored(stored)
    assert cfg.min_peer_reviewers == 3
    assert peer_part([review(), review()], cfg)["index"] is None
    assert ScoringConfig.stored({**stored, "min_peer_reviewers": 5}).min_peer_reviewers == 5


def test_rounding_is_half_away_from_zero():
    assert rounded(Fraction(12345, 1000)) == 12.35
    assert rounded({"a": [Fraction(1, 3)], "b": None, "c": 2}) == {"a": [0.33], "b": None, "c": 2}


def test_until_the_close_the_peer_part_is_its_count_and_the_conduct_index_the_citizens():
    reviews = [review(), review(dress=1), review(ethics=3)]
    hidden = official_score(ratings(5, 4, 2), reviews, CFG, peer_shown=False)
    assert hidden["peer"] == {"count": 3, "criteria": None, "index": None}
    assert hidden["conduct_index"] == hidden["citizen"]["index"]
    shown = official_score(ratings(5, 4, 2), reviews, CFG)
    assert shown["peer"]["index"] is not None and shown["conduct_index"] != hidden["conduct_index"]


def test_a_year_without_a_window_is_published_at_its_end_in_local_time():
    tz = ZoneInfo("Asia/Ho_Chi_Minh")  # UTC+7: the year ends at 17:00 UTC on 31 December
    assert peer_results_at("2026", None, tz) == datetime(2026, 12, 31, 17, tzinfo=UTC)
    closes = datetime(2027, 1, 15, 10, tzinfo=UTC)  # a window may close after the year
    assert peer_results_at("2026", closes, tz) == closes
