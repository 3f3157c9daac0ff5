"""The demo office's deadlines (`make run`), so the dashboards show deadlines and who has
submitted: last quarter's report, handed in by the ward; this month's report, due in a
few days and not yet in; a registration for every unit, due in a month, in from the
department only; and the built-in calendar's yearly evaluation."""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from services.notify import calendar
from services.notify.deadline_status import announce
from services.notify.deadlines import save_deadline

logger = logging.getLogger(__name__)


def demo_deadlines(today: date, tz, ward: str, department: str
                   ) -> list[tuple[str, dict, list[str]]]:
    """(id, deadline, units that have submitted) of the demo, around `today`."""
    def at_five(day: date) -> datetime:  # the office's end of day
        return datetime.combine(day, clock(17), tzinfo=tz)

    quarter = (today.month - 1) // 3 + 1
    last_q, last_y = (quarter - 1, today.year) if quarter > 1 else (4, today.year - 1)
    spec = [
        (f"cai-cach-hanh-chinh-{last_y}-q{last_q}", {
            "title": f"Báo cáo kết quả cải cách hành chính quý {last_q} năm {last_y}",
            "due_at": at_five(today - timedelta(days=18)), "units": [ward],
            "remind_before": ["P7D", "P1D"]}, [ward]),
        (f"tiep-cong-dan-{today:%Y-%m}", {
            "title": f"Báo cáo công tác tiếp công dân tháng {today.month}/{today.year}",
            "due_at": at_five(today + timedelta(days=4)), "units": [ward],
            "remind_before": ["P3D", "P1D"]}, []),
        (f"dang-ky-thi-dua-{today:%Y-%m}", {
            "title": "Đăng ký danh hiệu thi đua và hình thức khen thưởng",
            "due_at": at_five(today + timedelta(days=30)), "units": ["*"],
            "remind_before": ["P7D", "P1D"]}, [department]),
    ]
    year = today.year if today < date(today.year, 12, 15) else today.year + 1
    spec += [(i, d, []) for i, d in calendar.deadlines(year, tz)]
    return [(i, {"escalate_to": None, **d}, done) for i, d, done in spec]


def seed_deadlines(app, *, ward: str, department: str, today: date | None = None,
                   wait: float = 30.0) -> list[str]:
    """Save the demo's deadlines and submissions once notify knows both units (they
    come from survey's directory over the bus); return their ids."""
    ctx = app.extensions["notify"]
    today = today or datetime.now(ctx.settings.tz).date()
    until = time.monotonic() + wait
    while not {ward, department} <= set(ctx.store.unit_codes()):
        if time.monotonic() > until:
            logger.warning("demo deadlines not seeded: notify does not know %s and %s",
                           ward, department)
            return []
        time.sleep(0.1)
    saved = []
    for deadline_id, spec, submitted in demo_deadlines(today, ctx.settings.tz, ward,
                                                       department):
        save_deadline(deadline_id, spec, store=ctx.store, scheduler=ctx.scheduler,
                      relay=ctx.relay)
        for unit in submitted:  # handed in two days before it was due
            ctx.store.submit(deadline_id, unit,
                             min(spec["due_at"] - timedelta(days=2), datetime.now(UTC)))
        announce(ctx.relay, deadline_id)
        saved.append(deadline_id)
    return saved
