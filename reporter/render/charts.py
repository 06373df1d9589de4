"""Chart geometry for the inline SVG charts (drawn by ``templates/_charts.html.j2``).

Plain SVG — rects, polylines and text, no script — so the same markup works in a
browser and in WeasyPrint. This module only computes coordinates; labels are
escaped by the template like every other value.

A family asks for a chart on one of its tables with ``Table.chart``::

    Table(..., chart={"kind": "bar", "label": "Datastore", "value": "Snapshot space (GB)",
                      "unit": "GB", "title": "Snapshot space per datastore"})

``label`` and ``value`` name columns of the table (``x``/``y`` are accepted as
aliases); ``kind`` defaults to ``bar`` (horizontal bars, largest first, at most
``limit`` bars, default 20).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from reporter.checks.tables import Table
from reporter.core.states import counted
from reporter.domain.licensing.verdict import LicensingVerdicts
from reporter.render.text_width import fit_text

if TYPE_CHECKING:  # pandas and SQLAlchemy load only when there is history to read
    from reporter.history import VramHistory

SEVERITY_COLOURS = {
    "critical": "#6a1b9a",
    "high": "#c62828",
    "medium": "#ef6c00",
    "low": "#f9a825",
    "info": "#546e7a",
}
BAR_COLOUR = "#1565c0"
SERIES_COLOURS = ["#1565c0", "#90a4ae", "#ef6c00", "#2e7d32"]
USED_COLOUR = "#1565c0"
AVERAGE_COLOUR = "#2e7d32"
ENTITLED_COLOUR = "#c62828"


@dataclass
class Bar:
    label: str  # shown left of the bar ("" for the 2nd.. bar of a group)
    full_label: str
    value: float
    display: str
    y: float
    width: float
    colour: str


@dataclass
class BarChart:
    title: str
    bars: list[Bar]
    width: int
    height: int
    label_width: int
    bar_height: int
    omitted: int = 0  # groups left out beyond the limit
    legend: list[tuple[str, str]] | None = None  # (series name, colour) when there are several
    kind: str = "bar"
    font_size: int = 12  # of the labels and values (SVG units); _short cuts the labels for it


@dataclass
class Series:
    name: str
    colour: str
    segments: list[str]  # SVG polyline points, one string per unbroken run of days
    dash: str = ""  # SVG stroke-dasharray ("" = solid)


@dataclass
class Tick:
    pos: float
    label: str
    sub: str = ""  # second line under the label (the year, on January and the first tick)


@dataclass
class LineChart:
    title: str
    series: list[Series]
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    unit: str
    note: str = ""
    kind: str = "line"


Chart = BarChart | LineChart


LABEL_GAP = 6  # SVG units between a bar label's end and its bar (the x of its <text> in _charts.html.j2)
LABEL_INSET = 2  # left free at the drawing's left edge: the glyphs' own side bearings, kerning's rounding


def _short(label: str, label_width: int, font_size: int) -> str:
    """The label cut with "…" to the room left of the bars, as measured in the charts' font: an
    SVG text does not wrap, and a longer one would start outside the drawing (in the PDF, in the
    page's margin). The whole name is the bar's tooltip (<title>) and in the table beside it."""
    return fit_text(label, label_width - LABEL_GAP - LABEL_INSET, font_size)


def bar_chart(title: str, items: list[tuple[str, float, str]], *, colours: list[str] | None = None,
              limit: int = 20, width: int = 640, sort: bool = True) -> BarChart | None:
    """items: (label, value, display text). Largest first when ``sort``."""
    if not items:
        return None
    groups = [(label, [(value, display)]) for label, value, display in items]
    chart = grouped_bar_chart(title, groups, series=None, limit=limit, width=width, sort=sort)
    if chart and colours:
        for bar, colour in zip(chart.bars, colours, strict=False):
            bar.colour = colour
    return chart


def grouped_bar_chart(title: str, groups: list[tuple[str, list[tuple[float, str]]]], *,
                      series: list[str] | None, limit: int = 20, width: int = 640, sort: bool = True) -> BarChart | None:
    """Horizontal bars, one group per label and one bar per series in the group (same scale)."""
    if not groups:
        return None
    ordered = sorted(groups, key=lambda g: -g[1][0][0]) if sort else list(groups)
    shown, omitted = ordered[:limit], max(0, len(ordered) - limit)
    label_width, value_width, bar_h, gap, group_gap = 190, 90, 16, 2, 8
    font_size = BarChart.font_size
    plot = width - label_width - value_width
    top = max((v for _, vals in shown for v, _ in vals), default=0) or 1
    bars: list[Bar] = []
    y = 2.0
    for label, vals in shown:
        for i, (value, display) in enumerate(vals):
            w = 0.0 if value <= 0 else max(1.0, plot * value / top)
            colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
            name = f"{label} — {series[i]}" if series and len(series) > 1 else label
            bars.append(Bar(_short(label, label_width, font_size) if i == 0 else "", name, value, display, y,
                            round(w, 1), colour))
            y += bar_h + gap
        y += group_gap - gap
    legend = [(n, SERIES_COLOURS[i % len(SERIES_COLOURS)]) for i, n in enumerate(series)] if series and len(series) > 1 else None
    return BarChart(title, bars, width, int(y) + 2, label_width, bar_h, omitted, legend)


def severity_chart(counts: list[tuple[str, int]]) -> BarChart | None:
    if not any(n for _, n in counts):
        return None
    items = [(sev, float(n), f"{n:,}") for sev, n in counts]
    return bar_chart("Open findings by severity", items, colours=[SEVERITY_COLOURS[s] for s, _ in counts], sort=False)


def table_chart(t: Table) -> BarChart | None:
    """The chart a table asks for with its ``chart`` hint (see the module docstring)."""
    hint = t.chart
    if not hint:
        return None
    kind = hint.get("kind", hint.get("type", "bar"))
    label_col = hint.get("label", hint.get("x"))
    values = hint.get("value", hint.get("y"))
    value_cols = [values] if isinstance(values, str) else list(values or [])
    if kind != "bar" or label_col not in t.columns or not value_cols or any(c not in t.columns for c in value_cols):
        return None
    li = t.columns.index(label_col)
    vis = [t.columns.index(c) for c in value_cols]
    unit = hint.get("unit", "")
    groups = []
    for row in t.rows:
        vals = []
        for vi in vis:
            v = row[vi]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                v = 0
            text = f"{v:,.1f}" if isinstance(v, float) else f"{v:,}"
            vals.append((float(v), f"{text} {unit}".strip()))
        groups.append((str(row[li]), vals))
    return grouped_bar_chart(hint.get("title", t.title), groups, series=value_cols, limit=int(hint.get("limit", 20)))


def _nice_step(span: float, target_ticks: int = 5) -> float:
    raw = span / target_ticks
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def line_chart(title: str, start: date, end: date, series: list[tuple[str, str, list[tuple[date, float | None]], str]],
               *, unit: str = "GB", width: int = 640, height: int = 240, note: str = "") -> LineChart | None:
    """Daily series over [start, end].

    series: (name, colour, [(day, value)], style) with style ``line`` (a day without a value, or a
    missing day, breaks the line: gaps stay gaps), ``dash`` / ``dot`` (a line drawn dashed or
    dotted: a projection), ``step`` (the value holds for the whole day, dashed) or ``hline`` (one
    value drawn across the whole range, dotted).
    """
    if end < start:
        return None
    left, right, top, bottom = 64, 12, 12, 40
    pw, ph = width - left - right, height - top - bottom
    span_days = max((end - start).days + 1, 1)
    vmax = max((v for _, _, pts, _ in series for _, v in pts if v is not None), default=0.0)
    padded = vmax * 1.1 if vmax > 0 else 1.0
    step = _nice_step(padded)
    ymax = step * math.ceil(padded / step)

    def x(d: date) -> float:
        return round(left + pw * (d - start).days / span_days, 1)

    def y(v: float) -> float:
        return round(top + ph * (1 - v / ymax), 1)

    out_series = []
    for name, colour, pts, style in series:
        segments: list[list[str]] = []
        if style == "hline":
            v = next((v for _, v in pts if v is not None), None)
            if v is not None:
                segments.append([f"{x(start)},{y(v)}", f"{x(end + timedelta(days=1))},{y(v)}"])
        else:
            run: list[str] = []
            prev: date | None = None
            for d, v in sorted(pts, key=lambda p: p[0]):
                if v is None or (prev is not None and (d - prev).days > 1):
                    if run:
                        segments.append(run)
                    run = []
                if v is not None:
                    if style == "step":
                        run += [f"{x(d)},{y(v)}", f"{x(d + timedelta(days=1))},{y(v)}"]
                    else:
                        run.append(f"{x(d)},{y(v)}")
                prev = d
            if run:
                segments.append(run)
            for seg in segments:  # a lone day: a short flat mark so it is visible
                if len(seg) == 1:
                    px, py = seg[0].split(",")
                    seg[:] = [f"{float(px) - 2},{py}", f"{float(px) + 2},{py}"]
        if segments:
            dash = {"line": "", "step": "6 4", "hline": "2 3", "dash": "7 4", "dot": "2 3"}.get(style, "")
            out_series.append(Series(name, colour, [" ".join(seg) for seg in segments], dash))
    y_ticks = [Tick(y(i * step), f"{i * step:,.0f}") for i in range(round(ymax / step) + 1)]
    months = []
    d = date(start.year, start.month, 1)
    if d < start:
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    while d <= end:
        months.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    every = max(1, math.ceil(len(months) / max(4, min(12, pw // 44))))  # month labels ~44 units apart at least
    # The year under the first label and under each label in a new year: with a label every few
    # months January may not be labelled ("Dec Mar Jun Sep Dec" read as one year).
    shown = [m for i, m in enumerate(months) if i % every == 0]
    x_ticks = [Tick(x(m), m.strftime("%b"), str(m.year) if (i == 0 or m.year != shown[i - 1].year) else "")
               for i, m in enumerate(shown)]
    return LineChart(title, out_series, width, height, left, top, pw, ph, x_ticks, y_ticks, unit, note)


# -- vRAM history (shape documented in reporter/history/__init__.py: VramHistory) ---------------

PROJECTION_COLOUR = "#2e7d32"
TODAY_COLOUR = "#6a1b9a"


# The paged editions print two vRAM charts side by side, ~95 mm each: drawn 320 units wide, their
# axis labels print at ~5.8 pt (at 400 units 5.2 pt, at the screen's 640 about 3-4 pt;
# tests/test_pdf_layout.py fails on any PDF text under 5.5 pt).
PAGED_VRAM_CHART = (320, 140)
SCREEN_VRAM_CHART = (640, 240)


def vram_charts(history: VramHistory | None, licensing: LicensingVerdicts | None = None, *,
                size: tuple[int, int] = SCREEN_VRAM_CHART) -> list[LineChart]:
    """Per vRAM pool: daily high-water, entitlement (step), the rolling 12-month average as it was on
    each day, and, from the pool's verdict, the average projected to the crossing date (dashed) at
    today's high-water (dotted). ``size``: the drawing's width and height in SVG units."""
    daily = getattr(history, "daily", None)
    pools = getattr(history, "pools", None)
    as_of = getattr(history, "as_of", None)
    if daily is None or pools is None or as_of is None or len(daily) == 0:
        return []
    window = int(getattr(history, "window_days", 365))
    start = as_of - timedelta(days=window - 1)
    charts: list[LineChart] = []
    for pool_id, g in daily.groupby("pool_id", sort=True):
        days = [_as_date(v) for v in g["day"]]
        used = [(d, _num(v)) for d, v in zip(days, g["high_water_gb"], strict=False)]
        ent = [(d, _num(v)) for d, v in zip(days, g["entitled_gb"], strict=False)] if "entitled_gb" in g else []
        if not any(v is not None for _, v in ent):
            continue  # no vRAM entitlement applies to this pool (vSphere 6+ or per-core): nothing to chart
        pv = licensing.pool(str(pool_id)) if licensing is not None else None
        end = as_of
        series: list[tuple[str, str, list[tuple[date, float | None]], str]] = [
            ("Daily high-water (96 GB cap per VM applied)", USED_COLOUR, used, "line")]
        series.append(("Entitled", ENTITLED_COLOUR, ent, "step"))
        if pv is not None and pv.rolling_avg:
            rolling: list[tuple[date, float | None]] = [(d, v) for d, v in pv.rolling_avg]
            series.append((f"12-month average on each day (today {pv.avg_12m_gb:,.1f} GB)", AVERAGE_COLOUR,
                           rolling, "line"))
            if pv.projected_avg:
                end = pv.projected_avg[-1][0]
                series.append((f"Average projected to {end.isoformat()}, when it goes over", PROJECTION_COLOUR,
                               [(d, v) for d, v in pv.projected_avg], "dash"))
                series.append((f"Today's high-water {pv.high_water_today_gb:,.0f} GB, assumed to stay",
                               TODAY_COLOUR, [(as_of, pv.high_water_today_gb), (end, pv.high_water_today_gb)], "dot"))
                ent_now = pv.entitled_gb
                if ent_now is not None:
                    series[1] = ("Entitled", ENTITLED_COLOUR,
                                 ent + [(as_of + timedelta(days=i), ent_now) for i in range(1, (end - as_of).days + 1)],
                                 "step")
        ph = pools.get(pool_id)
        n = getattr(ph, "days_available", len(days))
        note = f"{n} of {window} days with samples"
        if n < window:
            note += " — less than a full year, so the 12-month average covers only these days"
        missing = getattr(ph, "missing_days", 0)
        if missing:
            note += f"; {counted(missing, 'day')} without a sample (gaps in the line)"
        name = pv.pool_label if pv is not None else str(pool_id)  # a pool no longer in the snapshot: its id
        chart = line_chart(f"vRAM use vs entitlement — {name}", start, end, series, note=note,
                           width=size[0], height=size[1])
        if chart:
            charts.append(chart)
    return charts


def _as_date(v: Any) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if hasattr(v, "date"):  # numpy datetime64 via pandas
        day: date = v.date()
        return day
    return date.fromisoformat(str(v)[:10])


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


__all__ = ["PAGED_VRAM_CHART", "SCREEN_VRAM_CHART", "Bar", "BarChart", "Chart", "LineChart", "Series", "Tick",
           "bar_chart", "line_chart", "severity_chart", "table_chart", "vram_charts"]
