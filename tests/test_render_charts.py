"""Chart geometry: vRAM history per pool (gaps stay gaps), table chart hints, severity bars."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import report_fixtures as rf

from reporter.checks.tables import Table
from reporter.domain.licensing import Pool
from reporter.domain.licensing.verdict import LicensingVerdicts, evaluate_pool
from reporter.history import history_from_samples
from reporter.render.charts import severity_chart, table_chart, vram_charts
from reporter.render.html import render_html

AS_OF = date(2026, 11, 23)


def _history():
    rows = []
    for i in range(40):  # 40 days ending on AS_OF, with days 10..12 missing
        if 10 <= i <= 12:
            continue
        ts = datetime(2026, 11, 23, 5, 0, tzinfo=UTC) - timedelta(days=i)
        rows.append({"ts": ts, "pool_id": "vc01/enterprise_plus", "edition": "esxEnterprisePlus",
                     "used_gb_raw": 1000.0 + i, "used_gb_capped": 900.0 + i, "entitled_gb": 1536.0})
        rows.append({"ts": ts, "pool_id": "vc02/per_core", "edition": "vsphere8", "used_gb_raw": 50.0,
                     "used_gb_capped": 50.0, "entitled_gb": float("nan")})
    df = pd.DataFrame(rows)
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    return history_from_samples(df, AS_OF)


def _verdicts(history, used_today: float = 0.0):
    pool = Pool(id="vc01/enterprise_plus", scope="vc01", vcenters=["vc01"], edition="enterprise_plus",
                edition_title="vSphere Enterprise Plus", model="vsphere5", table="aug2011", vram_applies=True,
                per_cpu_gb=96.0, cpu_total=16)
    pv = evaluate_pool(pool, history, as_of=AS_OF, today_high_water_gb=used_today or None)
    return LicensingVerdicts(as_of=AS_OF, horizon_days=90, headroom_warn_pct=10.0, pools=(pv,))


def test_vram_chart_per_pool_with_entitlement_and_gaps():
    charts = vram_charts(_history(), _verdicts(_history()))
    assert [c.title for c in charts] == ["vRAM use vs entitlement — vc01 · vSphere Enterprise Plus"]  # per-core pool: no vRAM
    c = charts[0]
    used, entitled, average = c.series
    assert used.name == "Daily high-water (96 GB cap per VM applied)"
    assert len(used.segments) == 2  # the 3 missing days break the line
    assert [len(seg.split()) for seg in used.segments] == [27, 10]
    assert entitled.name == "Entitled" and entitled.dash == "6 4" and len(entitled.segments) == 2
    # 900 + (780 - 33) / 37 = 920.2 today. The rolling average moves: one point per day from the first
    # sample (40 days, gap days included: they average the days that have a sample), not a flat line.
    assert average.name == "12-month average on each day (today 920.2 GB)" and average.dash == ""
    assert [len(seg.split()) for seg in average.segments] == [40]
    ys = [float(p.split(",")[1]) for p in average.segments[0].split()]
    # The oldest day (939 GB) averages only itself; by today the average has come down to 920.2 GB.
    assert len(set(ys)) >= 10 and ys[0] < ys[-1]
    assert c.note == ("37 of 365 days with samples — less than a full year, so the 12-month average covers only "
                      "these days; 3 days without a sample (gaps in the line)")
    # The x axis spans the whole 12-month window, so a short history looks short.
    assert c.x_ticks[0].label == "Dec" and c.x_ticks[0].sub == "2025"
    assert [t.label for t in c.x_ticks if t.sub] == ["Dec", "Jan"]
    # The y axis reaches above the entitlement (1,536 GB) with round ticks.
    assert [t.label for t in c.y_ticks] == ["0", "500", "1,000", "1,500", "2,000"]


def test_vram_chart_for_paper_is_drawn_smaller_with_fewer_month_labels():
    """Two charts share a printed line: drawn 320 units wide, their 11-unit text prints at ~6 pt
    (at the screen's 640 it printed at 3-4 pt); the month labels keep ~44 units apart."""
    from reporter.render.charts import PAGED_VRAM_CHART

    [screen] = vram_charts(_history(), _verdicts(_history()))
    [paper] = vram_charts(_history(), _verdicts(_history()), size=PAGED_VRAM_CHART)
    assert (screen.width, screen.height, paper.width, paper.height) == (640, 240, 320, 140)
    assert paper.plot_width == 320 - 64 - 12 and paper.plot_height == 140 - 12 - 40
    assert len(screen.x_ticks) == 12 and len(paper.x_ticks) == 4  # 12 months: every month, every third
    gaps = [b.pos - a.pos for a, b in zip(paper.x_ticks, paper.x_ticks[1:], strict=False)]
    assert min(gaps) >= 44
    assert [t.label for t in paper.y_ticks] == [t.label for t in screen.y_ticks]
    assert [s.name for s in paper.series] == [s.name for s in screen.series]
    # Every third month: January is not labelled, so the year goes under the first label of 2026.
    assert [(t.label, t.sub) for t in paper.x_ticks] == [("Dec", "2025"), ("Mar", "2026"), ("Jun", ""), ("Sep", "")]


def test_no_history_no_chart():
    assert vram_charts(None) == []


def test_vram_chart_in_the_licensing_section():
    ctx = rf.context()
    from dataclasses import replace

    html = render_html(replace(ctx, history=_history(), licensing=_verdicts(_history())))
    licensing = html[html.index('id="family-licensing"'):html.index('id="family-snapshots"')]
    assert "<figcaption>vRAM use vs entitlement — vc01 · vSphere Enterprise Plus</figcaption>" in licensing
    assert licensing.count("<polyline") == 5  # used and entitled in two segments each, the average


def test_vram_chart_projects_the_average_to_the_crossing_date():
    # Today at 2,000 GB against 1,536 GB: the chart runs on to the crossing date, the projected
    # average dashed and today's high-water dotted from today to that day.
    v = _verdicts(_history(), used_today=2000.0)
    pv = v.pools[0]
    assert pv.crossing_date is not None
    [c] = vram_charts(_history(), v)
    names = [s.name for s in c.series]
    assert names[3:] == [f"Average projected to {pv.crossing_date.isoformat()}, when it goes over",
                         "Today's high-water 2,000 GB, assumed to stay"]
    assert [s.dash for s in c.series[3:]] == ["7 4", "2 3"]
    # The entitlement step continues to the crossing date, so the reader sees the lines meet.
    last_x = max(float(p.split(",")[0]) for seg in c.series[1].segments for p in seg.split())
    assert last_x == c.left + c.plot_width


def test_table_chart_hint_grouped_bars():
    t = Table(id="snapshot_space", family="snapshots", title="Snapshot space", columns=["Datastore", "Snap GB", "Free GB"],
              rows=[["ds-a", 10.0, 100.0], ["ds-b", 40.0, 20.0], ["ds-c", None, 5.0]],
              chart={"type": "bar", "x": "Datastore", "y": ["Snap GB", "Free GB"], "unit": "GB"})
    c = table_chart(t)
    assert c is not None and c.legend == [("Snap GB", "#1565c0"), ("Free GB", "#90a4ae")]
    # Groups sorted by the first series, largest first; absent values draw as zero.
    assert [(b.label, b.value, b.display) for b in c.bars] == [
        ("ds-b", 40.0, "40.0 GB"), ("", 20.0, "20.0 GB"), ("ds-a", 10.0, "10.0 GB"), ("", 100.0, "100.0 GB"),
        ("ds-c", 0.0, "0 GB"), ("", 5.0, "5.0 GB")]
    widest = max(b.width for b in c.bars)
    assert widest == c.width - c.label_width - 90  # the largest value fills the plot
    assert table_chart(Table(id="x", family="f", title="t", columns=["a"], rows=[], chart={"x": "a", "y": "missing"})) is None


def test_severity_chart():
    assert severity_chart([("critical", 0), ("high", 0)]) is None
    c = severity_chart([("critical", 0), ("high", 2), ("medium", 4)])
    assert [(b.label, b.value, b.colour) for b in c.bars] == [("critical", 0.0, "#6a1b9a"), ("high", 2.0, "#c62828"),
                                                              ("medium", 4.0, "#ef6c00")]
    assert c.bars[0].width == 0.0 and c.bars[2].width == 2 * c.bars[1].width
