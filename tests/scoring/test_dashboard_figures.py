"""The dashboards' figures as pure functions: values in, values out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.scoring import figures
from services.scoring.domain import CitizenInput, ScoringConfig

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 5, 20, 5, tzinfo=UTC)


def row(overall: int, hour: int | None = None, *factors) -> list:
    """A bucket row as stored: [overall, the five factors, the local hour]."""
    return [overall, *(list(factors) + [None] * 5)[:5], hour]


# --- distribution --------------------------------------------------------------------

def test_distribution_counts_each_value_and_its_share_of_all():
    table = figures.distribution([row(5), row(5), row(4), row(1)])
    assert table.rows == [[1, 1, 25.0], [2, 0, 0.0], [3, 0, 0.0], [4, 1, 25.0],
                          [5, 2, 50.0]]
    assert table.columns == ("col_rating", "col_count", "col_share")


def test_distribution_shares_are_rounded_half_away_from_zero():
    # 1/3 = 33.333…, 2/3 = 66.666…; 1/8 = 12.5 exactly
    assert [r[2] for r in figures.distribution([row(3), row(4), row(4)]).rows] == [
        0.0, 0.0, 33.33, 66.67, 0.0]
    eighths = figures.distribution([row(1)] + [row(5)] * 7)
    assert eighths.rows[0] == [1, 1, 12.5] and eighths.rows[4] == [5, 7, 87.5]
    # 1/800 = 0.125 → 0.13 (half away from zero, not the banker's 0.12)
    assert figures.distribution([row(2)] + [row(5)] * 799).rows[1] == [2, 1, 0.13]


def test_distribution_of_no_rating_has_zero_counts_and_no_share():
    assert figures.distribution([]).rows == [[v, 0, None] for v in (1, 2, 3, 4, 5)]


# --- weekday × hour grid -----------------------------------------------------------------

def test_grid_counts_office_hours_by_weekday_and_notes_the_others():
    # 2026-05-11 is a Monday, 2026-05-10 a Sunday
    table = figures.weekday_hour_grid({
        "2026-05-11": [row(5, 7), row(4, 7), row(3, 17), row(2, 6), row(1, 18), row(5, 0)],
        "2026-05-10": [row(5, 12), row(4, 23)],
        "2026-05-12": [[5, None, None, None, None, None],  # stored before the hour was kept
                       row(3, None)],
    })
    assert table.columns == ("col_weekday", *(f"{h}h" for h in range(7, 18)))
    assert [r[0] for r in table.rows] == list(range(7))  # Monday first
    monday, tuesday, sunday = table.rows[0], table.rows[1], table.rows[6]
    assert monday[1] == 2 and monday[-1] == 1 and sum(monday[1:]) == 3
    assert sunday[1 + 12 - 7] == 1 and sum(sunday[1:]) == 1
    assert sum(tuesday[1:]) == 0
    assert table.notes == {"outside_hours": 4, "no_hour": 2}
    in_grid = sum(sum(r[1:]) for r in table.rows)
    assert in_grid + table.notes["outside_hours"] + table.notes["no_hour"] == 10


def test_grid_adds_up_the_days_of_one_weekday():
    table = figures.weekday_hour_grid({"2026-05-11": [row(5, 9)], "2026-05-18": [row(1, 9)],
                                       "2026-05-25": [row(3, 9), row(3, 10)]})
    assert table.rows[0][1 + 9 - 7] == 3 and table.rows[0][1 + 10 - 7] == 1
    assert table.notes == {"outside_hours": 0, "no_hour": 0}


# --- trend -----------------------------------------------------------------------------

def test_trend_has_every_month_asked_and_none_where_no_rating():
    cfg = ScoringConfig()
    inputs = {"2026-02": [CitizenInput(5, {}), CitizenInput(4, {}), CitizenInput(1, {})]}
    table = figures.trend(inputs, ["2026-01", "2026-02"], cfg)
    # 2 of 3 satisfied: 66.67; index 100 × (2 + 10 × 0.8) / (3 + 10) = 76.92
    assert table.rows == [["2026-01", 0, None, None], ["2026-02", 3, 66.67, 76.92]]


def test_by_month_gathers_day_buckets_and_month_buckets():
    assert figures.by_month({"2026-05-01": [1], "2026-05-31": [2, 3], "2026-06-01": [4],
                             "2026-07": [5]}) == {"2026-05": [1, 2, 3], "2026-06": [4],
                                                  "2026-07": [5]}


# --- units compared ------------------------------------------------------------------

def test_units_ranked_by_satisfaction_ties_by_code_and_without_ratings_last():
    rows = [["Z9", "Z", 0, None, None], ["B", "B", 30, 80.0, 80.5],
            ["C", "C", 5, 95.0, 83.0], ["A", "A", 40, 80.0, 80.1],
            ["D", "D", 10, 0.0, 40.0], ["A0", "A0", 0, None, None]]
    table = figures.units("units", rows)
    assert [r[0] for r in table.rows] == ["C", "A", "B", "D", "A0", "Z9"]
    assert table.link == ("unit", 0, 1)


def test_unit_row_of_a_unit_without_figures():
    assert figures.unit_row("U9", None, None) == ["U9", "U9", 0, None, None]
    assert figures.unit_row("U9", "Phường 9", {"count": 3, "satisfaction_rate": 100.0,
                                               "index": 86.15}) == [
        "U9", "Phường 9", 3, 100.0, 86.15]


# --- peer-review response ----------------------------------------------------------------

def test_response_rate_is_finished_over_invited_in_the_order_of_the_units():
    counts = {"U2": {"invited": 7, "finished": 3, "in_progress": 2, "not_started": 2},
              "U1": {"invited": 0, "finished": 0, "in_progress": 0, "not_started": 0},
              "U3": {"invited": 4, "finished": 4, "in_progress": 0, "not_started": 0}}
    table = figures.response([("U1", "Một"), ("U2", "Hai"), ("U4", "Bốn"), ("U3", "Ba")],
                             counts)
    assert table.rows == [["U1", "Một", 0, 0, 0, 0, None],  # nobody invited: no rate
                          ["U2", "Hai", 7, 3, 2, 2, 42.86],
                          ["U3", "Ba", 4, 4, 0, 0, 100.0]]  # U4: survey said nothing


# --- deadlines -----------------------------------------------------------------------

def deadline(due: datetime, units=("U1",), submitted=(), title="Báo cáo"):
    return {"title": title, "due_at": due, "units": list(units), "submitted": list(submitted)}


def test_deadlines_soon_are_due_within_30_days_either_side_and_not_submitted():
    day = timedelta(days=30)
    second = timedelta(seconds=1)
    assert figures.deadlines_soon([deadline(NOW)], "U1", NOW) == 1
    assert figures.deadlines_soon([deadline(NOW + day - second)], "U1", NOW) == 1
    assert figures.deadlines_soon([deadline(NOW + day)], "U1", NOW) == 0
    assert figures.deadlines_soon([deadline(NOW - day)], "U1", NOW) == 1  # overdue
    assert figures.deadlines_soon([deadline(NOW - day - second)], "U1", NOW) == 0
    assert figures.deadlines_soon([deadline(NOW, submitted=["U1"])], "U1", NOW) == 0
    assert figures.deadlines_soon([deadline(NOW, units=["U2"])], "U1", NOW) == 0
    assert figures.deadlines_soon([deadline(NOW, units=["*"], submitted=["U2"])],
                                  "U1", NOW) == 1


def test_deadlines_soon_reads_a_naive_due_time_as_utc_and_counts_each():
    naive = (NOW + timedelta(days=30)).replace(tzinfo=None)
    assert figures.deadlines_soon([deadline(naive)], "U1", NOW) == 0
    assert figures.deadlines_soon([deadline(naive - timedelta(seconds=1))], "U1", NOW) == 1
    many = [deadline(NOW + timedelta(days=d)) for d in (1, 2, 29, 31)]
    assert figures.deadlines_soon(many, "U1", NOW) == 3


def test_deadlines_table_names_the_unit_s_own_with_local_due_time_and_submitted():
    def local(moment):
        return moment.astimezone(TZ).strftime("%H:%M %d/%m/%Y")

    items = [deadline(datetime(2026, 5, 31, 17, tzinfo=UTC), title="Quý",
                      submitted=["U1"]),
             deadline(datetime(2026, 5, 1, tzinfo=UTC), units=["U2"], title="Khác"),
             deadline(datetime(2026, 6, 1, 1), units=["*"], title="Mọi đơn vị")]
    table = figures.deadlines(items, "U1", local)
    assert table.rows == [["Quý", "00:00 01/06/2026", True],
                          ["Mọi đơn vị", "08:00 01/06/2026", False]]


# --- mean index and alerts ----------------------------------------------------------------

def test_mean_index_of_the_indexes_given():
    assert figures.mean_index([None, 90.0, 75.5]) == 82.75
    assert figures.mean_index([1.0, 2.0, 2.0]) == 1.67
    assert figures.mean_index([0.1, 0.2]) == 0.15  # exact, not 0.15000000000000002
    # 0.025 exactly, rounded up; the binary floats' mean is just below it (0.02)
    assert figures.mean_index([0.02, 0.03]) == 0.03
    assert figures.mean_index([0.005]) == 0.01  # half away from zero
    assert figures.mean_index([]) is None
    assert figures.mean_index([None, None]) is None
    assert figures.mean_index(iter([50.0])) == 50.0


def test_open_alerts_count_the_unit_once_and_each_official_once():
    low = {"count": 20, "satisfaction_rate": 79.99}
    assert figures.open_alerts([low, low, None], {}) == 1
    assert figures.open_alerts([{"count": 19, "satisfaction_rate": 10.0}], {}) == 0
    assert figures.open_alerts([{"count": 20, "satisfaction_rate": 80.0}], {}) == 0
    assert figures.open_alerts([None], {"A": [49.99, 40.0], "B": [None, 50.0],
                                        "C": [None, 10.0]}) == 2
    assert figures.open_alerts([low], {"A": [49.0]}) == 2
