"""The dashboards: rendering a page against the JSON score call it stands beside.

Scoring (in the benchmark process, the service's factory on an embedded store, its
in-process bus) holds a year of n ratings (the previous calendar year, one every few
minutes of office hours, 7:00-17:59 local, every day; 50 officials in 5 units, one in
ten without an official; factors on every third, a comment on every twentieth) written
straight into its buckets, plus the directory (U0 above U1-U4), a review response per
unit and two deadlines. Its refresher derives every score once before the clock starts.

Measured with the Flask test client (in process: no socket on either side), signed in as
an administrator by session cookie, each pair of requests one after the other so both see
the same heap: the unit page of U0 (whose subtree holds every rating) for the year and
for one month, and the home page (the five units) for the year, each against
`GET /api/v1/scores/units/U0` for the same period. Baseline: that JSON call. Goal: the
page within 2x of it (p50).
"""

from __future__ import annotations

import gc
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bench.common import drop_store, percentile, store_url
from shared import events as ev

UNITS = [f"U{i}" for i in range(5)]
OFFICIALS = [f"CB{i:03d}" for i in range(50)]
ADMIN_OFFICIAL = "QT01"
OFFICE_HOURS = range(7, 18)
GOAL = 2.0  # the page within 2x of the JSON call
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class PairFigures:
    """One page against the JSON call for the same unit and period (milliseconds)."""

    page_p50_ms: float
    page_p99_ms: float
    json_p50_ms: float
    json_p99_ms: float
    ratio_p50: float  # page p50 / JSON p50
    met: bool  # ratio_p50 <= GOAL


@dataclass
class DashboardFigures:
    ratings: int
    comments: int
    buckets: int  # official months and unit days written
    year: str
    month: str
    requests: int  # timed requests of each kind (after two untimed)
    load_s: float  # the buckets written
    derive_s: float  # every score derived by the refresher
    pages: dict[str, PairFigures] = field(default_factory=dict)  # unit_year, unit_month, home


def _directory_events() -> list[ev.Event]:
    now = datetime.now(UTC)
    units = [ev.make_event(ev.UNIT_UPSERTED, {
        "code": code, "name": f"Đơn vị {code}", "parent": None if code == "U0" else "U0",
        "version": 1, "managers": [], "updated_at": now}, source="/bench") for code in UNITS]
    people = [(code, UNITS[i % len(UNITS)], []) for i, code in enumerate(OFFICIALS)]
    people.append((ADMIN_OFFICIAL, "U0", ["admin"]))
    officials = [ev.make_event(ev.OFFICIAL_UPSERTED, {
        "code": code, "full_name": f"Cán bộ {code}", "unit": unit, "version": 1,
        "active": True, "position": None, "roles": roles, "email": f"{code.lower()}@bench.vn",
        "updated_at": now}, source="/bench") for code, unit, roles in people]
    return units + officials


def _dashboard_events(year: int) -> list[ev.Event]:
    """Survey's review response of each unit and two of notify's deadlines."""
    from shared import dashboard_events

    now = datetime.now(UTC)
    responses = [ev.make_event(dashboard_events.REVIEW_RESPONSE, {
        "year": str(year), "unit": code, "invited": 10, "finished": 6, "in_progress": 2,
        "not_started": 2, "at": now}, source="/bench") for code in UNITS]
    deadlines = [ev.make_event(dashboard_events.DEADLINE_STATUS, {
        "id": f"d{q}", "title": f"Báo cáo quý {q}", "units": ["*"], "submitted": UNITS[:q],
        "due_at": datetime(year, 3 * q, 20, 3, tzinfo=UTC), "deleted": False, "version": 1},
        source="/bench") for q in (1, 2)]
    return responses + deadlines


def _deliver(running, events: list[ev.Event]) -> None:
    from shared import topology
    from shared.messages import OutgoingMessage

    publisher = running.bus.publisher()
    for e in events:
        publisher.publish(OutgoingMessage.from_event(e))
    if not running.bus.drain_wait(60, queues=[topology.queue_for("scoring").name]):
        raise RuntimeError("scoring did not take the directory events")


def load_ratings(n: int, year: int) -> tuple[int, int]:
    """Write `n` ratings of `year` straight into scoring's buckets (marked changed, as the
    rating handler marks them) and every twentieth one's comment; return (buckets,
    comments).

    The one place the bench uses scoring's bucket and comment documents: sending n
    rating events through the handler would take minutes on the embedded store (each
    write copies its bucket). If scoring's storage changes, this function is what follows
    it (the dashboards' own tests check the handler writes the same rows).
    """
    from services.scoring.documents import CitizenMonth, RatingComment
    from shared.events import FACTORS

    rng = random.Random(year)
    start = datetime(year, 1, 1, tzinfo=TZ)
    days = (datetime(year + 1, 1, 1, tzinfo=TZ) - start).days
    minutes = days * len(OFFICE_HOURS) * 60
    buckets: dict[str, dict] = {}
    comments = []
    now = datetime.now(UTC)
    for i in range(n):
        offset = i * minutes // n
        day, minute = divmod(offset, len(OFFICE_HOURS) * 60)
        local = start + timedelta(days=day, hours=OFFICE_HOURS[0], minutes=minute)
        unit = UNITS[i % len(UNITS)]
        official = OFFICIALS[i % len(OFFICIALS)] if i % 10 else None
        overall = rng.choices((1, 2, 3, 4, 5), weights=(4, 6, 10, 40, 40))[0]
        factors = ({k: max(1, min(5, overall + rng.choice((-1, 0, 0, 1)))) for k in FACTORS}
                   if i % 3 == 0 else {})
        row = [overall, *(factors.get(k) for k in FACTORS), local.hour]
        rid = f"b{i:07d}"
        month = local.strftime("%Y-%m")
        for bucket, kind, subject in ((f"o:{official}:{month}", "o", official),
                                      (f"u:{unit}:{local.date().isoformat()}", "u", unit)):
            if subject is not None:
                buckets.setdefault(bucket, {
                    "_id": bucket, "kind": kind, "subject": subject, "month": month, "r": {},
                    "changes": 1, "dirty_since": now})["r"][rid] = row
        if i % 20 == 0:
            comments.append({
                "_id": rid, "unit": unit, "counter": f"Q{unit}", "counter_label": "Quầy 1",
                "official": official, "overall": overall, "at": local.astimezone(UTC),
                "local": local.strftime("%Y-%m-%d %H:%M"),
                "text": "Chờ lâu quá." if overall <= 2 else "Cán bộ hướng dẫn tận tình."})
    docs = list(buckets.values())
    for i in range(0, len(docs), 1000):
        CitizenMonth._get_collection().insert_many(docs[i:i + 1000])
    if comments:
        RatingComment._get_collection().insert_many(comments)
    return len(docs), len(comments)


def _pair(client, page: str, api: str, n: int) -> PairFigures:
    """`n` timed requests of each path, alternated (after two untimed of each)."""
    page_s: list[float] = []
    api_s: list[float] = []

    def once(path: str, into: list[float] | None) -> None:
        started = time.perf_counter()
        r = client.get(path)
        elapsed = time.perf_counter() - started
        if r.status_code != 200:
            raise RuntimeError(f"{path}: {r.status_code}")
        if into is not None:
            into.append(elapsed)

    for i in range(n + 2):
        once(page, page_s if i >= 2 else None)
        once(api, api_s if i >= 2 else None)
    page_s.sort()
    api_s.sort()
    page_p50, api_p50 = percentile(page_s, 0.5) * 1000, percentile(api_s, 0.5) * 1000
    return PairFigures(page_p50_ms=page_p50, page_p99_ms=percentile(page_s, 0.99) * 1000,
                       json_p50_ms=api_p50, json_p99_ms=percentile(api_s, 0.99) * 1000,
                       ratio_p50=page_p50 / api_p50, met=page_p50 <= GOAL * api_p50)


def run(*, ratings: int, requests: int) -> DashboardFigures:
    """A year of `ratings` ratings in scoring; `requests` timed requests of each kind."""
    from devkit.apps import make_settings, start
    from devkit.auth import pinned_settings, signed_in
    from services.scoring.app import create_app
    from shared.memory_bus import MemoryBus

    year = datetime.now(TZ).year - 1
    month = f"{year}-06"
    url = store_url("dashboard")
    running = start(create_app, make_settings("scoring", url, **pinned_settings()),
                    MemoryBus())
    try:
        _deliver(running, _directory_events() + _dashboard_events(year))
        started = time.perf_counter()
        buckets, comments = load_ratings(ratings, year)
        loaded = time.perf_counter()
        ctx = running.app.extensions["scoring"]
        ctx.refresher.scan_soon()
        while ctx.store.dirty_count():
            time.sleep(0.2)
        derived = time.perf_counter()
        gc.collect()
        client = running.app.test_client()
        signed_in(client, ADMIN_OFFICIAL)
        api = "/api/v1/scores/units/U0?period={}"
        pages = {
            "unit_year": _pair(client, f"/dashboard/units/U0?period={year}",
                               api.format(year), requests),
            "unit_month": _pair(client, f"/dashboard/units/U0?period={month}",
                                api.format(month), requests),
            "home": _pair(client, f"/dashboard?period={year}", api.format(year), requests),
        }
        check = client.get(api.format(year)).get_json()["citizen"]["count"]
        if check != ratings:
            raise RuntimeError(f"U0 counts {check} ratings of {ratings}")
    finally:
        running.stop()
        drop_store(url)
    return DashboardFigures(ratings=ratings, comments=comments, buckets=buckets,
                            year=str(year), month=month, requests=requests,
                            load_s=loaded - started, derive_s=derived - loaded, pages=pages)
