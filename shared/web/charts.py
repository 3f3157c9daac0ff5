"""Charts drawn on the server as SVG: no script, no network, nothing for the browser to
fetch; they print, they work behind a closed provincial network, and a screen reader
gets a title and a summary while the page prints the same numbers in a table beside.

Why SVG written here rather than a charting library: the pages forbid inline scripts
and styles (Content-Security-Policy), must work without JavaScript and offline, and must
print; browser libraries (ECharts, Chart.js) need script, and server-side ones (pygal)
embed a <style> block and a script for tooltips. Four chart shapes cover every page
(lines over months, bars, a ranking with a target line, a weekday × hour grid), each a
few dozen lines of geometry, drawn with presentation attributes only.

Colours: the Okabe-Ito palette, distinguishable with the common colour-vision
deficiencies; a series is also told apart by its marker shape and named in a legend.
Each function takes plain numbers (None for "no data") and returns `Markup`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

# Okabe & Ito (2008): blue, vermillion, bluish green, orange, reddish purple, sky blue
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9")
MARKERS = ("circle", "square", "diamond", "triangle", "circle", "square")
INK, GRID, TARGET = "#1a1a1a", "#c7ccd1", "#8c1d18"
FONT = 'font-family="system-ui, sans-serif"'
# Drawn for a phone first: 360 units wide at 13 units a letter reads at 11.5 px in the
# 318 pixels a 360-pixel screen leaves a chart; the stylesheet caps a chart's width on a
# desktop (.chart svg).
WIDTH, SIZE = 360, 13


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]


def _fmt(value: float | None, decimals: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:.0f}"
    return text


def _svg(width: int, height: int, title: str, summary: str, body: list[str]) -> Markup:
    ident = "c" + hashlib.sha1(f"{title}|{summary}".encode()).hexdigest()[:10]
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{ident}-t {ident}-d" '
        f'preserveAspectRatio="xMidYMid meet" {FONT} font-size="{SIZE}">'
        f'<title id="{ident}-t">{escape(title)}</title>'
        f'<desc id="{ident}-d">{escape(summary)}</desc>'
        + "".join(body) + "</svg>")


def _marker(shape: str, x: float, y: float, colour: str, label: str) -> str:
    tip = f"<title>{escape(label)}</title>"
    if shape == "square":
        return (f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" '
                f'fill="{colour}">{tip}</rect>')
    if shape == "diamond":
        return (f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y:.1f}L{x:.1f} {y + 5:.1f}'
                f'L{x - 5:.1f} {y:.1f}Z" fill="{colour}">{tip}</path>')
    if shape == "triangle":
        return (f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y + 4:.1f}L{x - 5:.1f} '
                f'{y + 4:.1f}Z" fill="{colour}">{tip}</path>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">{tip}</circle>'


def _legend(names: list[str], x: float, y: float) -> list[str]:
    out, cursor = [], x
    for i, name in enumerate(names):
        colour, shape = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
        out.append(_marker(shape, cursor + 5, y, colour, name))
        out.append(f'<text x="{cursor + 14:.1f}" y="{y + 4:.1f}" fill="{INK}">'
                   f'{escape(name)}</text>')
        cursor += 24 + 7.5 * len(name)
    return out


def line_chart(labels: list[str], series: list[Series], *, title: str, summary: str,
               y_min: float = 0, y_max: float = 100, target: float | None = None,
               target_label: str = "") -> Markup:
    """Lines over `labels` (months); a value None leaves a gap; `target` a dashed line,
    named in the legend. The axis runs from `y_min` (values below sit on it)."""
    width, height, left, right, top, bottom = WIDTH, 250, 36, 14, 44, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(labels) - 1) if len(labels) > 1 else 0

    def x_of(i: int) -> float:
        return left + (i * step if len(labels) > 1 else plot_w / 2)

    span = (y_max - y_min) or 1

    def y_of(v: float) -> float:
        return top + plot_h - plot_h * (max(y_min, min(v, y_max)) - y_min) / span

    body = _y_grid(left, top, plot_w, plot_h, y_max, y_min=y_min)
    for i, label in enumerate(labels):
        body.append(f'<text x="{x_of(i):.1f}" y="{height - bottom + 18}" fill="{INK}" '
                    f'text-anchor="middle">{escape(label)}</text>')
    legend_x, legend_y = left, 14
    if target is not None:
        y = y_of(target)
        body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="{TARGET}" stroke-width="2" stroke-dasharray="6 4"/>')
        body.append(f'<line x1="{left}" x2="{left + 22}" y1="14" y2="14" stroke="{TARGET}" '
                    f'stroke-width="2" stroke-dasharray="6 4"/>')
        body.append(f'<text x="{left + 28}" y="18" fill="{TARGET}">'
                    f'{escape(target_label)}</text>')
        legend_y = 34  # the series on a line of their own: a phone is narrow
    for s_index, s in enumerate(series):
        colour, shape = PALETTE[s_index % len(PALETTE)], MARKERS[s_index % len(MARKERS)]
        runs, run = [], []
        for i, v in enumerate(s.values):
            if v is None:
                if run:
                    runs.append(run)
                run = []
            else:
                run.append((x_of(i), y_of(v), labels[i], v))
        if run:
            runs.append(run)
        for r in runs:
            if len(r) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in r)
                body.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                            f'stroke-width="2.5"/>')
            for x, y, label, v in r:
                body.append(_marker(shape, x, y, colour, f"{s.name}, {label}: {_fmt(v)}"))
    body += _legend([s.name for s in series], legend_x, legend_y)
    return _svg(width, height, title, summary, body)


def _y_grid(left: float, top: float, plot_w: float, plot_h: float, y_max: float,
            steps: int | None = None, y_min: float = 0) -> list[str]:
    out = []
    span = y_max - y_min
    # round steps: 0, 25, 50… for 100; 50, 60… 100 for a span of 50
    steps = steps or next((n for n in (5, 4, 6, 3, 2) if span / n in (1, 2, 2.5, 5, 10, 20, 25)),
                          4)
    for k in range(steps + 1):
        value = y_min + (y_max - y_min) * k / steps
        y = top + plot_h - plot_h * k / steps
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" fill="{INK}" '
                   f'text-anchor="end">{_fmt(value, 0)}</text>')
    return out


def bar_chart(labels: list[str], values: list[float | None], *, title: str, summary: str,
              colours: list[str] | None = None, decimals: int = 0) -> Markup:
    """Vertical bars, one per label, each with its value written above it."""
    width, height, left, right, top, bottom = WIDTH, 230, 40, 10, 18, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([v for v in values if v is not None] or [0]) or 1
    y_max = _nice(peak)
    slot = plot_w / max(1, len(labels))
    bar = slot * 0.6
    body = _y_grid(left, top, plot_w, plot_h, y_max)
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        x = left + i * slot + (slot - bar) / 2
        colour = (colours or PALETTE)[i % len(colours or PALETTE)]
        if v:
            h = plot_h * v / y_max
            body.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                        f'height="{h:.1f}" fill="{colour}"><title>{escape(label)}: '
                        f'{_fmt(v, decimals)}</title></rect>')
        above = top + plot_h - plot_h * (v or 0) / y_max - 4
        body.append(f'<text x="{x + bar / 2:.1f}" y="{above:.1f}" fill="{INK}" '
                    f'text-anchor="middle">{_fmt(v, decimals)}</text>')
        body.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 18}" fill="{INK}" '
                    f'text-anchor="middle">{escape(label)}</text>')
    return _svg(width, height, title, summary, body)


def _lines(label: str, room: int) -> list[str]:
    """A label in lines of at most `room` letters, broken between words (a peer-review
    criterion is a sentence: written in full, never cut)."""
    lines, line = [], ""
    for word in label.split():
        if line and len(line) + 1 + len(word) > room:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines or [""]


def ranking_chart(items: list[tuple[str, float | None]], *, title: str, summary: str,
                  x_max: float = 100, target: float | None = None,
                  target_label: str = "", suffix: str = "") -> Markup:
    """One bar per item (a unit, an official), its name written in full above it (long
    Vietnamese unit names differ at their end; a long one wraps), `target` a dashed line,
    `suffix` after each number ("%")."""
    bar, left, right, top, line_h = 18, 6, 50, 24, 16
    width = WIDTH
    plot_w = width - left - right
    room = int((width - left) / (SIZE * 0.55))
    labelled = [(_lines(label, room), v) for label, v in items]
    heights = [line_h * len(lines) + bar + 12 for lines, _ in labelled]
    height = top + sum(heights) + 4
    body = []
    y = top
    x_target = left + plot_w * target / x_max if target is not None else None
    for (lines, v), row in zip(labelled, heights, strict=True):
        for k, text in enumerate(lines):
            body.append(f'<text x="{left}" y="{y + 13 + k * line_h}" fill="{INK}">'
                        f'{escape(text)}</text>')
        bar_y = y + line_h * len(lines) + 4
        label = " ".join(lines)
        if v is not None:
            w = plot_w * max(0.0, min(v, x_max)) / x_max
            colour = PALETTE[0] if target is None or v >= target else PALETTE[1]
            body.append(f'<rect x="{left}" y="{bar_y}" width="{w:.1f}" height="{bar}" '
                        f'fill="{colour}"><title>{escape(label)}: {_fmt(v)}{suffix}</title>'
                        f'</rect>')
        at = left + plot_w * min(v or 0, x_max) / x_max + 4
        if x_target is not None and at - 6 <= x_target < at + 34:
            at = x_target + 5  # the number clear of the target line
        text = _fmt(v) + (suffix if v is not None else "")
        body.append(f'<text x="{at:.1f}" y="{bar_y + 13}" fill="{INK}">{text}</text>')
        if x_target is not None:  # across the bar only, never through a name
            body.append(f'<line x1="{x_target:.1f}" x2="{x_target:.1f}" y1="{bar_y - 3}" '
                        f'y2="{bar_y + bar + 3}" stroke="{TARGET}" stroke-width="2" '
                        f'stroke-dasharray="4 3"/>')
        y += row
    if x_target is not None:
        body.append(f'<text x="{x_target:.1f}" y="{top - 8}" fill="{TARGET}" '
                    f'text-anchor="middle">{escape(target_label)}</text>')
    return _svg(width, height, title, summary, body)


def grouped_bars(labels: list[str], series: list[Series], *, title: str, summary: str,
                 x_min: float = 0, x_max: float = 5, decimals: int = 2) -> Markup:
    """Horizontal bars in groups: each label (a SIPAS factor, say) written in full, under
    it one bar per series (this unit, its parent, the province), each with its value;
    the series told apart by colour, a legend and their order. A bar starts at `x_min`
    (1 on a scale of 1 to 5)."""
    bar, gap, left, right = 11, 3, 6, 44
    group = 20 + len(series) * (bar + gap) + 8
    width, top = WIDTH, 28
    height = top + group * max(1, len(labels))
    plot_w = width - left - right
    body = _legend([s.name for s in series], left, 12)
    for i, label in enumerate(labels):
        y = top + i * group
        body.append(f'<text x="{left}" y="{y + 14}" fill="{INK}">{escape(label)}</text>')
        for j, s in enumerate(series):
            v = s.values[i]
            by = y + 20 + j * (bar + gap)
            w = plot_w * max(0.0, min(v or x_min, x_max) - x_min) / (x_max - x_min)
            if v is not None:
                body.append(f'<rect x="{left}" y="{by}" width="{w:.1f}" height="{bar}" '
                            f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(label)}, '
                            f'{escape(s.name)}: {_fmt(v, decimals)}</title></rect>')
            body.append(f'<text x="{left + w + 4:.1f}" y="{by + bar - 1}" fill="{INK}" '
                        f'font-size="11">{_fmt(v, decimals)}</text>')
    return _svg(width, height, title, summary, body)


def grid_chart(rows: list[str], columns: list[str], values: list[list[int]], *, title: str,
               summary: str) -> Markup:
    """A heat grid (weekday × hour): the darker a cell, the more ratings; each cell also
    carries its number, for whoever cannot tell shades apart."""
    cell_w, cell_h, left, top = 32, 28, 34, 22
    width, height = left + cell_w * len(columns) + 4, top + cell_h * len(rows) + 4
    peak = max((v for r in values for v in r), default=0) or 1
    body = []
    for j, column in enumerate(columns):
        body.append(f'<text x="{left + j * cell_w + cell_w / 2:.1f}" y="{top - 6}" '
                    f'fill="{INK}" text-anchor="middle">{escape(column)}</text>')
    for i, label in enumerate(rows):
        y = top + i * cell_h
        body.append(f'<text x="{left - 6}" y="{y + cell_h / 2 + 4:.1f}" fill="{INK}" '
                    f'text-anchor="end">{escape(label)}</text>')
        for j, v in enumerate(values[i]):
            share = v / peak
            # from the page's pale grey to the palette's blue, by the share of the peak
            shade = _mix("#eef1f4", PALETTE[0], share)
            text = "#ffffff" if share > 0.55 else INK
            x = left + j * cell_w
            body.append(f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                        f'fill="{shade}"><title>{escape(label)} {escape(columns[j])}: {v}'
                        f'</title></rect>')
            if v:
                body.append(f'<text x="{x + (cell_w - 2) / 2:.1f}" y="{y + cell_h / 2 + 3:.1f}" '
                            f'fill="{text}" text-anchor="middle" font-size="12">{v}</text>')
    return _svg(width, height, title, summary, body)


def _mix(a: str, b: str, share: float) -> str:
    pa = [int(a[i:i + 2], 16) for i in (1, 3, 5)]
    pb = [int(b[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02x}" for x, y in zip(pa, pb, strict=True))


def _nice(value: float) -> float:
    """The round number at or above `value` that an axis would end on."""
    import math

    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude
