"""The peer-review cycle's times: a window plans its invitation at the opening and each
reminder at `closes_at − offset`; a changed window moves them, one closed early cancels
what remains; each time publishes one `review.cycle_due` for survey, through the outbox,
across restarts, a lost job and two schedulers. Jobs are driven with an explicit `now`
(one test waits a second in real time)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from mongoengine.connection import get_db

from devkit.apps import queued_events
from services.notify import reviews
from services.notify.documents import ALIAS, CycleDue
from services.notify.review_domain import Plan, plan, reviews_url
from services.notify.reviews import publish_cycle_due
from services.notify.scheduling import Scheduler
from shared import review_events
from tests.conftest import wait_for
from tests.notify.helpers import ctx, deliver, run_job, start_notify, window_set

SURVEY = "congso.survey"
NOW = datetime.now(UTC).replace(microsecond=0)  # as stored: whole milliseconds
YEAR = str(NOW.year)
DAY = timedelta(days=1)


@pytest.fixture
def paused(notify_settings):
    """Notify that keeps its jobs but never runs them: the test runs them itself."""
    running = start_notify(notify_settings, background=False)
    yield running
    running.stop()


def save(running, event, now=NOW) -> bool:
    return reviews.save_window(event.loaded_data(), store=ctx(running).store,
                               scheduler=ctx(running).scheduler, now=now)


def review_jobs(running) -> dict:
    return {j["id"]: j["next_run_time"] for j in ctx(running).scheduler.jobs()
            if j["id"].startswith("review-")}


def published(running) -> list[tuple]:
    """The review.cycle_due events waiting in survey's queue, as (kind, offset, version,
    due_at), once the outbox has nothing left to publish."""
    ctx(running).relay.flush()
    return [(d["kind"], d["offset"], d["window_version"], d["due_at"]) for d in
            (e.loaded_data() for e in queued_events(running, SURVEY,
                                                    review_events.CYCLE_DUE))]


def run(running, kind, offset, version, now):
    return run_job(running, publish_cycle_due, YEAR, kind, offset, version, now=now)


# --- the plan, on values -----------------------------------------------------------------


def test_the_plan_of_a_window_ahead_invites_at_the_opening_and_reminds_before_the_close():
    opens, closes = NOW + 2 * DAY, NOW + 30 * DAY
    got = plan(opens, closes, ["PT12H", "P7D", "P29D"], NOW, invited=False)
    # P29D would remind before the window opens: not planned
    assert got == Plan(opens, (("P7D", closes - 7 * DAY),
                               ("PT12H", closes - timedelta(hours=12))))


def test_an_open_window_invites_at_once_unless_invited_and_sends_nothing_late():
    opens, closes = NOW - 5 * DAY, NOW + 5 * DAY
    assert plan(opens, closes, ["P7D", "P2D"], NOW, invited=False) == Plan(
        NOW, (("P2D", closes - 2 * DAY),))
    assert plan(opens, closes, ["P7D", "P2D"], NOW, invited=True).invitation is None


def test_a_closed_window_plans_nothing():
    assert plan(NOW - 5 * DAY, NOW - DAY, ["PT1H"], NOW, invited=False) == Plan(None, ())
    assert plan(NOW + DAY, NOW + DAY, ["PT1H"], NOW, invited=False) == Plan(None, ())


def test_the_review_list_address_keeps_the_sites_path_and_refuses_another_host():
    assert reviews_url("https://hc.gov.vn/congso/login/", "/reviews/2026") == \
        "https://hc.gov.vn/congso/reviews/2026"
    assert reviews_url("https://hc.gov.vn/login/", "//evil.example/x") is None
    assert reviews_url("https://hc.gov.vn/signin/", "/reviews/2026") is None


# --- scheduling --------------------------------------------------------------------------


def test_a_window_schedules_its_times_and_each_publishes_once(paused):
    opens, closes = NOW + 2 * DAY, NOW + 30 * DAY
    assert save(paused, window_set(YEAR, opens, closes, ["P7D", "PT12H"]))
    assert review_jobs(paused) == {
        f"review-invitation:{YEAR}": opens,
        f"review-reminder:{YEAR}:P7D": closes - 7 * DAY,
        f"review-reminder:{YEAR}:PT12H": closes - timedelta(hours=12)}
    key = run(paused, "invitation", None, 1, now=opens)
    assert key == f"{YEAR}|invitation|-|v1"
    assert run(paused, "invitation", None, 1, now=opens) is None  # run again: claimed
    assert run(paused, "reminder", "P7D", 1, now=closes - 7 * DAY)
    assert published(paused) == [("invitation", None, 1, opens),
                                 ("reminder", "P7D", 1, closes - 7 * DAY)]


def test_a_window_open_when_first_set_invites_at_once_and_skips_past_reminders(paused):
    closes = NOW + 5 * DAY
    save(paused, window_set(YEAR, NOW - 5 * DAY, closes, ["P7D", "P2D"]))
    assert review_jobs(paused) == {f"review-invitation:{YEAR}": NOW,
                                   f"review-reminder:{YEAR}:P2D": closes - 2 * DAY}


def test_a_changed_window_moves_its_times_and_the_old_ones_publish_nothing(paused):
    opens = NOW + 2 * DAY
    save(paused, window_set(YEAR, opens, NOW + 30 * DAY, ["P7D", "P3D"]))
    closes = NOW + 20 * DAY
    assert save(paused, window_set(YEAR, opens, closes, ["P7D", "P1D"], version=2))
    assert review_jobs(paused) == {
        f"review-invitation:{YEAR}": opens,
        f"review-reminder:{YEAR}:P7D": closes - 7 * DAY,
        f"review-reminder:{YEAR}:P1D": closes - DAY}
    # version 1's jobs, had one been left to run: nothing
    assert run(paused, "reminder", "P3D", 1, now=closes - 3 * DAY) is None
    assert run(paused, "reminder", "P7D", 1, now=closes - 7 * DAY) is None
    assert run(paused, "reminder", "P7D", 2, now=closes - 7 * DAY)
    assert published(paused) == [("reminder", "P7D", 2, closes - 7 * DAY)]


def test_an_older_version_changes_nothing_and_a_repeated_one_restores_its_jobs(paused):
    newer = window_set(YEAR, NOW + DAY, NOW + 10 * DAY, ["P1D"], version=3)
    save(paused, newer)
    before = review_jobs(paused)
    sched = ctx(paused).scheduler
    sched.scheduler.remove_job(f"review-reminder:{YEAR}:P1D")  # failed to schedule
    assert not save(paused, window_set(YEAR, NOW + 2 * DAY, NOW + 9 * DAY, ["P2D"],
                                       version=2))
    assert f"review-reminder:{YEAR}:P2D" not in review_jobs(paused)
    # the same version redelivered (its handler failed): the plan of its first arrival
    assert not save(paused, newer, now=NOW + timedelta(hours=1))
    assert review_jobs(paused) == before
    assert ctx(paused).store.review_window(YEAR)["version"] == 3


def test_a_window_changed_after_its_invitation_went_invites_nobody_again(paused):
    save(paused, window_set(YEAR, NOW - DAY, NOW + 10 * DAY, ["P1D"]))
    assert run(paused, "invitation", None, 1, now=NOW)
    later = NOW + timedelta(hours=1)
    save(paused, window_set(YEAR, NOW - DAY, NOW + 12 * DAY, ["P1D"], version=2), later)
    assert review_jobs(paused) == {f"review-reminder:{YEAR}:P1D": NOW + 11 * DAY}
    assert published(paused) == [("invitation", None, 1, NOW)]


def test_a_window_opened_early_before_its_invitation_went_invites_at_once(paused):
    save(paused, window_set(YEAR, NOW + 3 * DAY, NOW + 10 * DAY))
    later = NOW + timedelta(hours=1)
    save(paused, window_set(YEAR, NOW, NOW + 10 * DAY, version=2), later)
    assert review_jobs(paused) == {f"review-invitation:{YEAR}": later}
    assert run(paused, "invitation", None, 2, now=later)
    assert published(paused) == [("invitation", None, 2, later)]


def test_a_window_closed_early_cancels_what_remains(paused):
    save(paused, window_set(YEAR, NOW - DAY, NOW + 10 * DAY, ["P3D", "P1D"]))
    run(paused, "invitation", None, 1, now=NOW)
    later = NOW + 2 * DAY
    save(paused, window_set(YEAR, NOW - DAY, later - timedelta(hours=1), ["P3D", "P1D"],
                            version=2), later)
    assert review_jobs(paused) == {}
    assert ctx(paused).scheduler.reconcile(now=later) == []
    for version in (1, 2):
        assert run(paused, "reminder", "P3D", version, now=NOW + 7 * DAY) is None
    assert published(paused) == [("invitation", None, 1, NOW)]


def test_a_time_run_after_the_close_publishes_nothing(paused):
    closes = NOW + DAY
    save(paused, window_set(YEAR, NOW - DAY, closes, ["PT12H"]))
    # notify was down from before the reminder's time until after the close
    assert run(paused, "reminder", "PT12H", 1, now=closes + timedelta(minutes=1)) is None
    assert published(paused) == []


# --- exactly once ------------------------------------------------------------------------


def test_the_real_scheduler_publishes_a_window_opening_in_a_second(notify):
    opens = datetime.now(UTC) + timedelta(seconds=1)
    deliver(notify, window_set(YEAR, opens, opens + 10 * DAY, ["P1D"]))
    wait_for(lambda: queued_events(notify, SURVEY, review_events.CYCLE_DUE), timeout=15,
             message="the invitation's review.cycle_due")
    [(kind, offset, version, due_at)] = published(notify)
    assert (kind, offset, version) == ("invitation", None, 1)
    assert abs(due_at - opens) < timedelta(milliseconds=2)
    assert f"review-invitation:{YEAR}" not in review_jobs(notify)


def test_a_time_that_came_while_notify_was_down_is_published_once_after_the_restart(
        notify_settings):
    first = start_notify(notify_settings, background=False)  # it never runs its jobs
    opens = NOW + DAY
    save(first, window_set(YEAR, opens, NOW + 10 * DAY, ["P1D"]))
    ctx(first).scheduler.scheduler.modify_job(f"review-invitation:{YEAR}",
                                              next_run_time=datetime.now(UTC) - DAY)
    first.stop()
    again = start_notify(notify_settings)  # same database: jobs kept
    try:
        wait_for(lambda: queued_events(again, SURVEY, review_events.CYCLE_DUE),
                 message="the invitation after the restart")
        assert published(again) == [("invitation", None, 1, opens)]
        assert ctx(again).scheduler.reconcile() == []
        assert CycleDue._get_collection().count_documents({}) == 1
    finally:
        again.stop()


def test_the_reconcile_publishes_a_lost_time_that_came_and_schedules_one_to_come(paused):
    """Killed after APScheduler took a job out of its store, or between saving a window
    and adding its jobs: the reconcile finds each time not published and without its job
    (or with a job of an older version)."""
    opens, closes = NOW + DAY, NOW + 10 * DAY
    save(paused, window_set(YEAR, opens, closes, ["P2D", "P1D"]))
    sched = ctx(paused).scheduler
    sched.scheduler.remove_job(f"review-invitation:{YEAR}")
    sched.scheduler.remove_job(f"review-reminder:{YEAR}:P2D")
    sched.add_review_job(YEAR, "reminder", "P1D", 0, closes - DAY)  # a stale version's
    at = opens + timedelta(minutes=1)
    assert sorted(sched.reconcile(now=at)) == [f"review-invitation:{YEAR}",
                                               f"review-reminder:{YEAR}:P1D",
                                               f"review-reminder:{YEAR}:P2D"]
    assert published(paused) == [("invitation", None, 1, opens)]
    assert sched.job_args(f"review-reminder:{YEAR}:P2D") == [YEAR, "reminder", "P2D", 1]
    assert sched.job_args(f"review-reminder:{YEAR}:P1D") == [YEAR, "reminder", "P1D", 1]
    assert sched.reconcile(now=at) == []


def test_two_schedulers_running_the_same_time_publish_it_once(paused):
    first = ctx(paused).scheduler
    db = get_db(ALIAS)
    second = Scheduler(db.client, db.name, store=first.store,
                       deps={"relay": ctx(paused).relay})
    opens = NOW + DAY
    save(paused, window_set(YEAR, opens, NOW + 10 * DAY))
    runs = [threading.Thread(target=s.run, args=(publish_cycle_due, YEAR, "invitation",
                                                 None, 1), kwargs={"now": opens})
            for s in (first, second, first, second)]
    for t in runs:
        t.start()
    for t in runs:
        t.join(10)
    assert published(paused) == [("invitation", None, 1, opens)]
