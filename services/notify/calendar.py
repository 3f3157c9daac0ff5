"""The built-in calendar: national dates every unit reports to (province dates are
ordinary deadlines, set with PUT /api/v1/deadlines/{id})."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

YEARLY_REMINDERS = ["P30D", "P14D", "P7D", "P3D", "P1D"]


def deadlines(year: int, tz: ZoneInfo) -> list[tuple[str, dict]]:
    """(id, deadline) of the year's national dates."""
    return [(
        f"danh-gia-xep-loai-{year}",
        {
            # Decree 335/2025: the yearly evaluation is done before 15 December
            "title": f"Đánh giá, xếp loại chất lượng cán bộ, công chức, viên chức năm {year}",
            "due_at": datetime(year, 12, 15, tzinfo=tz),
            "units": ["*"],
            "remind_before": list(YEARLY_REMINDERS),
            "escalate_to": None,
        },
    )]
