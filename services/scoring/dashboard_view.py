"""How the dashboards show a chart's `figures.Table`: its words, the cells of its table on
the page, the same rows in its CSV and XLSX download, and its drawing (`shared.web.charts`).

The page and the downloads share `labelled` (the rows with every key turned into words,
numbers untouched): the file holds exactly the numbers the table shows.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

from markupsafe import Markup
from openpyxl import Workbook

from services.scoring.figures import OFFICIAL_FLOOR, TARGET, Table
from shared.spreadsheets import append_row, csv_bytes
from shared.web import charts, words_dashboards
from shared.web.charts import Series

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DISTRIBUTION_COLOURS = [charts.PALETTE[1], charts.PALETTE[3], "#6b7280", charts.PALETTE[5],
                        charts.PALETTE[0]]


def catalogues(cat: Mapping) -> dict[str, Callable]:
    """Each column catalogue of a Table (its `words`) as a lookup in the page's language."""
    lang = cat["lang"]
    return {
        "scale": lambda v: f"{v} · {cat['scale'][v]}",
        "factors": lambda v: cat["factors"][v],
        "criteria": lambda v: cat["criteria"][v],
        "bands": lambda v: cat["bands"].get(v, cat["bands"][None]),
        "weekdays": lambda v: words_dashboards.WEEKDAYS[lang][v],
        "yes_no": lambda v: words_dashboards.YES_NO[lang][bool(v)],
    }


def headings(table: Table, cat: Mapping) -> list[str]:
    t = cat["t"]
    return [t.get(column, column) for column in table.columns]


def _shown(table: Table) -> list[int]:
    """The columns the page shows: not the code behind a linked name (the downloads keep
    it; the link leads to it)."""
    hidden = table.link[1] if table.link else None
    return [i for i in range(len(table.columns)) if i != hidden]


def page_headings(table: Table, cat: Mapping) -> list[str]:
    names = headings(table, cat)
    return [names[i] for i in _shown(table)]


def labelled(table: Table, cat: Mapping) -> list[list]:
    """The rows with word keys in words (numbers, None and text as they are)."""
    lookups = catalogues(cat)
    out = []
    for row in table.rows:
        # a band of None is a word too ("not enough data"); other keys are never None
        out.append([lookups[table.words[i]](v) if i in table.words and
                    (v is not None or table.words[i] == "bands") else v
                    for i, v in enumerate(row)])
    return out


def number(value) -> str:
    """A number as the tables print it (up to two decimals, as the API rounds)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def cells(table: Table, cat: Mapping, href: Callable[[str, str], str | None]) -> list[list]:
    """The table's cells on the page: [{text, num, href}] per row; a row's name links to
    its page when the table says so and `href(kind, code)` gives one."""
    rows = []
    columns = _shown(table)
    numeric_columns = {i for i in columns if i not in table.words and any(
        isinstance(r[i], int | float) and not isinstance(r[i], bool) for r in table.rows)}
    for raw, shown in zip(table.rows, labelled(table, cat), strict=True):
        row = []
        for i in columns:
            value = shown[i]
            numeric = i in numeric_columns and (value is None or isinstance(value, int | float))
            link = None
            if table.link and i == table.link[2]:
                link = href(table.link[0], raw[table.link[1]])
            text = number(value) if numeric or value is None else str(value)
            row.append({"text": text, "num": numeric, "href": link,
                        "nowrap": numeric or (" " not in text and len(text) <= 12)})
        rows.append(row)
    return rows


def csv_file(table: Table, cat: Mapping) -> bytes:
    return csv_bytes([headings(table, cat), *labelled(table, cat)])


def xlsx_file(table: Table, cat: Mapping, title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "".join(c for c in title if c not in "[]:*?/\\")[:31] or "congso"
    append_row(sheet, headings(table, cat))
    for row in labelled(table, cat):
        append_row(sheet, row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _column(table: Table, index: int) -> list:
    return [row[index] for row in table.rows]


def draw(table: Table, cat: Mapping, title: str, summary: str) -> Markup | None:
    """The chart of a table (None: a table with no rows is shown as a sentence)."""
    if not table.rows:
        return None
    t, lang = cat["t"], cat["lang"]
    target = t["dash_target_label"].format(target=TARGET)
    if table.key == "trend":
        labels = [m[5:].lstrip("0") for m in _column(table, 0)]
        shown = [v for v in _column(table, 2) + _column(table, 3) if v is not None]
        # from a round value under the lowest (and the target), so that changes show and
        # the axis reads in tens or twenties
        low = min([*shown, TARGET]) - 5
        start = max(c for c in (0, 20, 40, 50, 60, 70) if c <= max(low, 0))
        return charts.line_chart(labels, [
            Series(t["dash_series_satisfaction"], _column(table, 2)),
            Series(t["dash_series_index"], _column(table, 3))],
            title=title, summary=summary, target=TARGET, target_label=target,
            y_min=start)
    if table.key == "distribution":
        return charts.bar_chart([str(v) for v in _column(table, 0)], _column(table, 1),
                                title=title, summary=summary, colours=DISTRIBUTION_COLOURS)
    if table.key == "factors":
        names = [t[c] for c in table.columns[1:]]
        return charts.grouped_bars(
            [cat["factors"][k] for k in _column(table, 0)],
            [Series(name, _column(table, i + 1)) for i, name in enumerate(names)],
            title=title, summary=summary, x_min=1)
    if table.key == "grid":
        return charts.grid_chart(list(words_dashboards.WEEKDAYS_SHORT[lang]),
                                 [c.removesuffix("h") for c in table.columns[1:]],
                                 [row[1:] for row in table.rows], title=title, summary=summary)
    if table.key == "officials":
        return charts.ranking_chart([(row[2], row[7]) for row in table.rows], title=title,
                                    summary=summary, target=OFFICIAL_FLOOR,
                                    target_label=str(OFFICIAL_FLOOR))
    if table.key in ("units", "children"):
        return charts.ranking_chart([(row[1], row[3]) for row in table.rows], title=title,
                                    summary=summary, target=TARGET, target_label=target,
                                    suffix="%")
    if table.key == "response":
        return charts.ranking_chart([(row[1], row[6]) for row in table.rows], title=title,
                                    summary=summary, suffix="%")
    if table.key == "bands":
        counts = _column(table, 1)
        return charts.ranking_chart([(cat["bands"].get(k, cat["bands"][None]), n) for k, n
                                     in zip(_column(table, 0), counts, strict=True)],
                                    title=title, summary=summary, x_max=max(counts) or 1)
    if table.key == "peer":
        return charts.ranking_chart([(cat["criteria"][k], v) for k, v in table.rows],
                                    title=title, summary=summary, x_max=5)
    return None
