"""The period chooser of the pages (dashboards, held ratings): a year, a quarter or a
month, offered as groups of options, Vietnamese first."""

from __future__ import annotations

from datetime import datetime

from shared.periods import Period


def period_choices(chosen: Period, now: datetime, t: dict, *, years: int = 3
                   ) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(group word, [(value, label)])]: this year and the `years - 1` before it, the
    quarters and months of this year and the last up to `now` (local time), and the
    chosen period wherever it is."""
    listed_years = [now.year - i for i in range(years)]
    quarters = [(f"{y}-Q{q}", t["dash_period_quarter"].format(q=q, year=y))
                for y in listed_years[:2] for q in range(4, 0, -1)
                if (y, q) <= (now.year, (now.month - 1) // 3 + 1)]
    months = [(f"{y}-{m:02d}", t["dash_period_month"].format(m=m, year=y))
              for y in listed_years[:2] for m in range(12, 0, -1)
              if (y, m) <= (now.year, now.month)]
    listed = {str(y) for y in listed_years} | {v for v, _ in quarters + months}
    extra = [] if str(chosen) in listed else [(str(chosen), str(chosen))]
    return [("dash_group_years", [(str(y), t["dash_period_year"].format(year=y))
                                  for y in listed_years] + extra),
            ("dash_group_quarters", quarters), ("dash_group_months", months)]


def period_label(period: Period, t: dict) -> str:
    """2026 → "Năm 2026", 2026-Q2 → "Quý 2/2026", 2026-05 → "Tháng 5/2026"."""
    if period.month:
        return t["dash_period_month"].format(m=period.month, year=period.year)
    if period.quarter:
        return t["dash_period_quarter"].format(q=period.quarter, year=period.year)
    return t["dash_period_year"].format(year=period.year)
