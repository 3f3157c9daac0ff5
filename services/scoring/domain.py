"""The conduct score: pure calculations on values (no Flask, pika or database).

Arithmetic is exact (fractions) until the response, where numbers are rounded to two
decimals, half away from zero, so the same inputs always give the same printed figures.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from shared.events import CRITERIA, FACTORS
from shared.integrity_events import COUNTED, HELD, counts
from shared.periods import Period
from shared.web import messages

BANDS = ((90, "xuat_sac"), (70, "tot"), (50, "hoan_thanh"))
LOWEST_BAND = "khong_hoan_thanh"
BAND_LABELS = {band: label for band, label in messages.BANDS["vi"].items() if band is not None}
GENERAL_POINTS_SHARE = Fraction(30, 100)  # the 30-point general criteria of Decree 335/2025
SATISFIED = 4  # overall >= 4 counts as satisfied


# Fewer reviewers would let one review be read off the results (a privacy rule of the
# contract): the configuration refuses less, and a lower value stored by an earlier
# release is read as this.
MIN_PEER_REVIEWERS = 3


@dataclass(frozen=True)
class ScoringConfig:
    """The parameters of the score (their limits are checked where they come in:
    `schemas.ConfigIn`)."""

    citizen_weight: float = 0.5
    peer_weight: float = 0.5
    prior_weight: float = 10
    prior_rate: float = 0.8
    min_peer_reviewers: int = MIN_PEER_REVIEWERS

    @classmethod
    def stored(cls, values: Mapping) -> ScoringConfig:
        """The configuration as stored, the reviewer threshold raised to its floor."""
        threshold = max(values.get("min_peer_reviewers", MIN_PEER_REVIEWERS),
                        MIN_PEER_REVIEWERS)
        return cls(**{**values, "min_peer_reviewers": threshold})

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CitizenInput:
    overall: int
    factors: Mapping[str, int]
    status: str = COUNTED  # the rating's state (`shared.integrity_events`)


# A stored row: [overall, the five factors, the local hour, the state, its version]; rows
# stored before the hour or the state was kept are shorter (their state: counted).
HOUR, STATUS, VERSION = 6, 7, 8


def row_status(row: list) -> str:
    """The state of a stored row (counted for a row stored before ratings had one)."""
    return row[STATUS] if len(row) > STATUS and row[STATUS] else COUNTED


def counted_rows(rows: Iterable[list]) -> list[list]:
    """The rows that count in scores (counted or accepted): not held, not rejected."""
    return [row for row in rows if counts(row_status(row))]


def inputs_of(rows: Iterable[list]) -> list[CitizenInput]:
    """Ratings as stored in a bucket (rows as above) as inputs, each with its state."""
    return [CitizenInput(row[0], {k: v for k, v in zip(FACTORS, row[1:6], strict=False)
                                  if v is not None}, row_status(row)) for row in rows]


def _f(x: float | int) -> Fraction:
    return Fraction(x) if isinstance(x, int) else Fraction(str(x))


def _mean(values: list[int]) -> Fraction | None:
    return Fraction(sum(values), len(values)) if values else None


def citizen_part(ratings: Iterable[CitizenInput], cfg: ScoringConfig) -> dict:
    """Count, mean, satisfaction rate, factor means and the smoothed index of the ratings
    that count (counted or accepted); `suspect`, how many are held (awaiting a decision).
    A rejected rating is in neither."""
    given = list(ratings)
    ratings = [r for r in given if counts(r.status)]
    suspect = sum(1 for r in given if r.status == HELD)
    n = len(ratings)
    satisfied = sum(1 for r in ratings if r.overall >= SATISFIED)
    factors = {}
    for key in FACTORS:
        given = [r.factors[key] for r in ratings if r.factors.get(key) is not None]
        factors[key] = _mean(given)
    index = None
    if n:
        prior_w = _f(cfg.prior_weight)
        index = 100 * (satisfied + prior_w * _f(cfg.prior_rate)) / (n + prior_w)
    return {
        "count": n,
        "suspect": suspect,
        "mean": _mean([r.overall for r in ratings]),
        "satisfaction_rate": Fraction(100 * satisfied, n) if n else None,
        "factors": factors,
        "index": index,
    }


def peer_results_at(year: int | str, closes_at: datetime | None, tz: ZoneInfo) -> datetime:
    """When a year's peer results are published: as its review window closes, or, for a
    year without a window, at the year's end (local time in `tz`)."""
    if closes_at is not None:
        return closes_at
    return Period(int(year)).bounds(tz)[1]


def peer_part(reviews: Iterable[Mapping[str, int]], cfg: ScoringConfig,
              shown: bool = True) -> dict:
    """Reviewer count; criteria means and index only once the year's results are `shown`
    (its window closed) and from `min_peer_reviewers` reviewers on. Until the close the
    count alone moves, so no single review (nor an edit) can be read off a change."""
    reviews = list(reviews)
    count = len(reviews)
    if not shown or count < cfg.min_peer_reviewers or count == 0:
        return {"count": count, "criteria": None, "index": None}
    criteria = {key: _mean([r[key] for r in reviews]) for key in CRITERIA}
    all_scores = [r[key] for r in reviews for key in CRITERIA]
    index = 100 * (_mean(all_scores) - 1) / 4
    return {"count": count, "criteria": criteria, "index": index}


def comment_order(comments: Iterable[str], key: str) -> list[str]:
    """The comments in an order of their own: by a hash of each keyed with `key` (the
    reviewee and year), so it follows neither who wrote them nor when, and is the same
    at every visit."""
    def rank(comment: str) -> str:
        return hmac.new(key.encode(), comment.encode(), hashlib.sha256).hexdigest()
    return sorted(comments, key=lambda c: (rank(c), c))


def conduct_index(citizen_index, peer_index, cfg: ScoringConfig) -> Fraction | None:
    """Weighted mean of the indexes that exist, weights renormalised over them."""
    parts = [(citizen_index, _f(cfg.citizen_weight)), (peer_index, _f(cfg.peer_weight))]
    parts = [(v, w) for v, w in parts if v is not None and w > 0]
    total = sum(w for _, w in parts)
    if not parts or total == 0:
        return None
    return sum(v * w for v, w in parts) / total


def band(index) -> str | None:
    """The reference band of Decree 335/2025 for a conduct index (None for None).

    Judged on the index as shown (two decimals), so a printed 90.00 is never "tot".
    """
    if index is None:
        return None
    index = rounded(index)
    for floor, name in BANDS:
        if index >= floor:
            return name
    return LOWEST_BAND


def official_score(
    ratings: Iterable[CitizenInput], reviews: Iterable[Mapping[str, int]], cfg: ScoringConfig,
    peer_shown: bool = True,
) -> dict:
    """The full, unrounded score of one official for one period (the peer part as
    `peer_part` gives it: with `peer_shown` False, the conduct index is the citizens')."""
    citizen = citizen_part(ratings, cfg)
    peer = peer_part(reviews, cfg, peer_shown)
    conduct = conduct_index(citizen["index"], peer["index"], cfg)
    the_band = band(conduct)
    return {
        "citizen": citizen,
        "peer": peer,
        "conduct_index": conduct,
        "general_points": None if conduct is None else conduct * GENERAL_POINTS_SHARE,
        "band": the_band,
        "band_label": BAND_LABELS.get(the_band) if the_band else None,
    }


def rounded(value):
    """Round every number in a (nested) result to two decimals, half away from zero."""
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, Fraction | float):
        d = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(
            value, Fraction) else Decimal(str(value))
        return float(d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return value


def subtree_of(unit: str, parents: Mapping[str, str | None]) -> list[str]:
    """`unit` and every unit below it, given each unit's parent (a loop ends the walk)."""
    children: dict[str, list[str]] = {}
    for code, parent in parents.items():
        if parent:
            children.setdefault(parent, []).append(code)
    out, todo, seen = [], [unit], set()
    while todo:
        code = todo.pop()
        if code in seen:
            continue
        seen.add(code)
        out.append(code)
        todo.extend(sorted(children.get(code, []), reverse=True))
    return out


def root_of(unit: str, parents: Mapping[str, str | None]) -> str:
    """The unit at the top of `unit`'s tree (the province's department, say)."""
    seen = {unit}
    while parents.get(unit) and parents[unit] not in seen:
        unit = parents[unit]
        seen.add(unit)
    return unit


XUAT_SAC_CAP = Fraction(20, 100)  # "xuất sắc" at most 20% of those rated "tốt" or better


def rank(officials: list[dict]) -> list[dict]:
    """Officials by conduct_index, highest first, those without one last; ties by code."""
    return sorted(officials, key=lambda o: (o["conduct_index"] is None,
                                            -(o["conduct_index"] or 0), o["official"]))


def band_summary(bands: list[str | None]) -> dict:
    """Count and share of officials per band, and the 20% flag of Decree 335/2025."""
    total = len(bands)
    counts = {name: sum(1 for b in bands if b == name)
              for name in ("xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh")}
    counts["none"] = sum(1 for b in bands if b is None)
    shares = {k: (Fraction(100 * v, total) if total else None) for k, v in counts.items()}
    good = counts["xuat_sac"] + counts["tot"]
    exceeds = good > 0 and Fraction(counts["xuat_sac"], good) > XUAT_SAC_CAP
    return {
        "officials": total,
        "counts": counts,
        "shares": shares,
        "xuat_sac_share_of_good": Fraction(100 * counts["xuat_sac"], good) if good else None,
        "xuat_sac_over_cap": exceeds,
    }
