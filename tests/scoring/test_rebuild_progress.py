"""The rebuild command's progress line: events applied, a second lately, time left."""

from __future__ import annotations

from services.scoring import rebuild


def test_progress_says_applied_rate_and_time_left(monkeypatch):
    clock = iter([100.0, 102.0, 104.0])
    monkeypatch.setattr(rebuild.time, "monotonic", lambda: next(clock))
    progress = rebuild.Progress()
    first = progress.line({"published": 1000, "status": "running"}, depth=900, inflight=100)
    assert "applied 0 (0/s)" in first and "about ? left" in first
    assert "survey still publishing" in first
    second = progress.line({"published": 5000, "status": "running"}, depth=2800, inflight=200)
    assert "applied 2000 (1000/s)" in second and "about 3 s left" in second  # 3000 behind
    third = progress.line({"published": 5000, "status": "done"}, depth=0, inflight=0)
    # 3000 more in 2 s: 1500/s lately, smoothed with the 1000/s before
    assert "applied 5000 (1250/s)" in third and "about 0 s left" in third
    assert "still publishing" not in third


def test_progress_counts_the_events_of_packed_messages(monkeypatch):
    """Queue and consumer count messages; a replay's carry events_per_message events."""
    clock = iter([100.0, 102.0])
    monkeypatch.setattr(rebuild.time, "monotonic", lambda: next(clock))
    progress = rebuild.Progress()
    job = {"published": 10_000, "status": "running", "events_per_message": 50}
    first = progress.line(job, depth=150, inflight=20)  # 170 messages: 8,500 events
    assert "applied 1500 (0/s)" in first and "messages of up to 50 events" in first
    second = progress.line({**job, "status": "done"}, depth=50, inflight=10)
    assert "applied 7000 (2750/s)" in second and "about 1 s left" in second  # 3,000 behind
