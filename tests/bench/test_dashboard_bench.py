"""The dashboard bench still runs: at a tiny size every rating is counted, each page and
JSON call timed, and the report gives its table with the goal's verdict."""

from __future__ import annotations

import pytest

from bench import dashboard, report
from bench.__main__ import command, parse_args

pytestmark = pytest.mark.slow


def test_dashboard_times_each_page_against_the_json_call():
    figures = dashboard.run(ratings=300, requests=2)

    assert figures.ratings == 300 and figures.comments == 15  # one in twenty
    assert set(figures.pages) == {"unit_year", "unit_month", "home"}
    for pair in figures.pages.values():
        assert 0 < pair.page_p50_ms <= pair.page_p99_ms
        assert 0 < pair.json_p50_ms <= pair.json_p99_ms
        assert pair.met == (pair.ratio_p50 <= dashboard.GOAL)

    args = parse_args(["--quick", "--only", "dashboard"])
    text = report.render(command=command(args), when="2026-01-01 00:00 UTC", runs=1,
                         machine={"cpu": "Test CPU", "cores": 2, "memory_gib": 4,
                                  "python": "3.11", "rabbitmq": "3", "wrk": "4", "flask": "3",
                                  "gunicorn": "23", "pika": "1", "mongomock": "4",
                                  "store": "mongomock"},
                         options={"duration": 2, "connections": 8, "scoring_events": 300},
                         figures={"dashboard": figures}, quick=True, full=False)
    assert "## Dashboards: a page against the JSON score call" in text
    assert f"| unit page of U0, month {figures.month} |" in text
    assert "## Rebuilding" not in text
