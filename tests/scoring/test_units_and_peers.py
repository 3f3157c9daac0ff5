"""Units rolled up and ranked; peer reviews hidden below three and replaced by edits."""

from __future__ import annotations

from devkit.apps import ADMIN
from tests.scoring.helpers import (
    CRITERIA5,
    closed_window,
    deliver,
    official,
    rating,
    review,
    unit,
)


def get(scoring, path):
    r = scoring.client.get(path, headers=ADMIN)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_peer_results_appear_from_the_third_reviewer_on(scoring):
    deliver(scoring, official(), closed_window(), review(reviewer="a" * 20),
            review(reviewer="b" * 20))
    peer = get(scoring, "/api/v1/scores/officials/CB1?period=2026")["peer"]
    assert peer == {"count": 2, "criteria": None, "index": None}
    deliver(scoring, review(reviewer="c" * 20, scores={**CRITERIA5, "dress": 2}))
    peer = get(scoring, "/api/v1/scores/officials/CB1?period=2026")["peer"]
    assert peer["count"] == 3 and peer["criteria"]["dress"] == 4.0
    # (15 × 5 − 3) / 15 = 4.8 → 100 × 3.8 / 4 = 95
    assert peer["index"] == 95.0
    # peer reviews of a year count in every period of that year
    assert get(scoring, "/api/v1/scores/officials/CB1?period=2026-Q3")["peer"]["count"] == 3
    assert get(scoring, "/api/v1/scores/officials/CB1?period=2027")["peer"]["count"] == 0


def test_an_edit_replaces_the_review_even_when_it_arrives_first(scoring):
    first = review(reviewer="a" * 20, revision=1, scores={**CRITERIA5, "ethics": 1})
    edit = review(reviewer="a" * 20, revision=2, scores=CRITERIA5)
    others = [review(reviewer=r * 20) for r in "bc"]
    deliver(scoring, official(), closed_window(), edit, *others, first, first)
    peer = get(scoring, "/api/v1/scores/officials/CB1?period=2026")["peer"]
    assert peer["count"] == 3 and peer["index"] == 100.0


def test_unit_totals_roll_up_and_officials_are_ranked(scoring):
    deliver(scoring, unit("SNV"), unit("P1", parent="SNV"), unit("P2", parent="SNV"),
            official("A", "SNV"), official("B", "SNV"), official("C", "SNV"),
            official("D", "SNV"), official("E", "P1"))
    deliver(scoring,
            *[rating("A", 5, unit="SNV") for _ in range(30)],
            *[rating("B", 5, unit="SNV") for _ in range(30)],
            *[rating("C", 1, unit="SNV") for _ in range(3)],
            *[rating("E", 4, unit="P1") for _ in range(4)],
            rating(None, 2, unit="P2"))
    view = get(scoring, "/api/v1/scores/units/SNV?period=2026")
    assert view["children"] == ["P1", "P2"]
    assert view["citizen_own"]["count"] == 63
    assert view["citizen"]["count"] == 68  # with P1 and P2
    ranked = [o["official"] for o in view["officials"]]
    assert ranked == ["A", "B", "C", "D"]  # A and B tie: by code; D has no data: last
    assert view["officials"][-1]["conduct_index"] is None
    # A, B: 100 × (30 + 8) / 40 = 95 → xuat_sac; C: 100 × 8 / 13 = 61.54 → hoan_thanh
    assert [o["band"] for o in view["officials"]] == ["xuat_sac", "xuat_sac", "hoan_thanh",
                                                      None]
    bands = view["bands"]
    assert bands["counts"]["xuat_sac"] == 2 and bands["counts"]["none"] == 1
    assert bands["shares"]["xuat_sac"] == 50.0
    assert bands["xuat_sac_share_of_good"] == 100.0 and bands["xuat_sac_over_cap"] is True
    p1 = get(scoring, "/api/v1/scores/units/P1?period=2026-05")
    assert p1["citizen"]["count"] == 4 and p1["officials"][0]["official"] == "E"


def test_rating_without_official_counts_for_the_unit_only(scoring):
    deliver(scoring, unit("U1"), official("CB1"), rating(None, 5), rating("CB1", 5))
    assert get(scoring, "/api/v1/scores/units/U1?period=2026")["citizen"]["count"] == 2
    assert get(scoring, "/api/v1/scores/officials/CB1?period=2026")["citizen"]["count"] == 1


def test_unknown_unit_is_404_and_bad_period_422(scoring):
    assert scoring.client.get("/api/v1/scores/units/NOPE", headers=ADMIN).status_code == 404
    deliver(scoring, unit("U1"))
    r = scoring.client.get("/api/v1/scores/units/U1?period=2026-Q9", headers=ADMIN)
    assert r.status_code == 422
