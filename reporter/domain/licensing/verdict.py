"""One licensing verdict per pool, computed once and rendered everywhere.

``evaluate(analysis, history, as_of=..., ...)`` turns the snapshot's pools (``Analysis``) and the
vRAM history (``VramHistory``) into one frozen :class:`PoolVerdict` per pool. The report pipeline
computes it once per run and hands the same objects to the LIC checks, the tables, every
renderer (summary.json, HTML, PDF, XLSX, email) and ``vcreport plan``; nothing re-derives it
(docs/methodology.md#vram-compliance).

The rules:

- ``non_compliant``: the 12-month average of daily high-water marks exceeds the entitlement;
- ``at_risk``: within it today, but the average crosses the entitlement within the horizon
  (default 90 days) if every future day's high-water equals today's, or the headroom left on
  the average is below the headroom threshold;
- ``compliant``: otherwise;
- ``not_evaluated``: no vRAM entitlement applies, the pool is unlimited, or there is no history.

The rolling average uses the days that have a sample: with fewer than 365 days the window is the
days that exist, and a day without a sample is neither zero nor filled in. Today is day 0 of the
projection: its high-water (the larger of the recorded one and this snapshot's reading) is in the
window already.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from reporter.core import states
from reporter.domain.licensing import Analysis, Pool

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# pandas and numpy are imported where a verdict is computed, not at import: the checks import
# this module, and ``vcreport collect`` (which loads the checks for their settings) must not pay
# ~30 MB and up to a second for libraries it never calls.

WINDOW_DAYS = 365
PROJECTION_DAYS = 3 * 365  # "never crosses within 3 years" -> no crossing date
TREND_DAYS = 90  # the recent trend: least squares over the last 90 days of daily high-water
TREND_MIN_DAYS = 30  # ... when at least 30 of them have a sample
# Averages are compared at this many decimals: a rolling sum carries float noise, and a pool
# exactly at its entitlement is within it.
_PRECISION = 6


class Verdict(StrEnum):
    compliant = "compliant"
    at_risk = "at_risk"
    non_compliant = "non_compliant"
    not_evaluated = "not_evaluated"

    @property
    def label(self) -> str:
        return states.VERDICTS[self.value]


@dataclass(frozen=True)
class PoolVerdict:
    pool_id: str  # the key: history, finding object ids, ``vcreport plan --pool``
    pool_label: str  # what readers see (``Pool.label``): "vc01 · vSphere Enterprise Plus"
    vcenter: str
    edition: str
    edition_title: str
    verdict: Verdict
    why: str
    entitled_gb: float | None
    used_gb: float
    high_water_today_gb: float
    avg_12m_gb: float | None
    history_days: int
    window_days: int
    per_cpu_gb: float | None
    cpu_licenses_to_add_now: int | None
    cpu_licenses_to_add_to_hold_today: int | None
    crossing_date: date | None
    crossing_date_trend: date | None
    trend_days: int  # days the trend rests on (0: no trend)
    non_compliant_since: date | None
    as_of: date
    # For the chart: the rolling average on each past day, and its projection up to the crossing date.
    rolling_avg: tuple[tuple[date, float], ...] = ()
    projected_avg: tuple[tuple[date, float], ...] = ()

    @property
    def headroom_gb(self) -> float | None:
        """Entitlement left on the 12-month average (the compliance measure)."""
        if self.entitled_gb is None or self.avg_12m_gb is None:
            return None
        return round(self.entitled_gb - self.avg_12m_gb, 4)

    @property
    def headroom_pct(self) -> float | None:
        if not self.entitled_gb or self.avg_12m_gb is None:
            return None
        return round(100.0 * (self.entitled_gb - self.avg_12m_gb) / self.entitled_gb, 2)

    @property
    def today_over(self) -> bool:
        return self.entitled_gb is not None and self.high_water_today_gb > self.entitled_gb

    @property
    def days_to_crossing(self) -> int | None:
        return None if self.crossing_date is None else (self.crossing_date - self.as_of).days

    def to_summary(self) -> dict[str, Any]:
        """The pool entry of summary.json and ``vcreport plan --json`` (a contract: only add keys)."""
        return {
            "vcenter": self.vcenter, "pool": self.pool_id, "pool_label": self.pool_label, "edition": self.edition,
            "verdict": self.verdict.value, "why": self.why,
            "entitled_gb": _num(self.entitled_gb), "used_gb": _num(self.used_gb),
            "high_water_today_gb": _num(self.high_water_today_gb), "avg_12m_gb": _num(self.avg_12m_gb),
            "history_days": self.history_days,
            "cpu_licenses_to_add_now": self.cpu_licenses_to_add_now,
            "cpu_licenses_to_add_to_hold_today": self.cpu_licenses_to_add_to_hold_today,
            "crossing_date": _iso(self.crossing_date), "crossing_date_trend": _iso(self.crossing_date_trend),
            "non_compliant_since": _iso(self.non_compliant_since),
        }


def over_since_text(pv: PoolVerdict) -> str:
    """'over since 2026-11-13' (or 'already over' when the first day over is not known): how a
    non-compliant pool's date reads in the summary line and in ``vcreport plan``'s outcomes."""
    since = pv.non_compliant_since
    return f"over since {since.isoformat()}" if since else "already over"


def crossing_text(pv: PoolVerdict) -> str | None:
    """The crossing-date cell of the pool tables and ``vcreport plan``: the date, or why there is none
    ('over since …' when over already, 'none within 3 years'); None when not evaluated."""
    if pv.crossing_date is not None:
        return pv.crossing_date.isoformat()
    if pv.verdict is Verdict.non_compliant:
        return over_since_text(pv)
    if pv.verdict is Verdict.not_evaluated:
        return None
    return "none within 3 years"


def short_history_note(pv: PoolVerdict) -> str:
    """'the average rests on 12 days of history so far, not 365, and may still change a lot' while a
    pool's history is shorter than the window ('' without history or once it covers the window):
    said wherever the verdict is read at a glance (summary line, ``vcreport plan``)."""
    n = pv.history_days
    if not n or n >= pv.window_days:
        return ""
    days = "1 day" if n == 1 else f"{n:,} days"
    return f"the average rests on {days} of history so far, not {pv.window_days:,}, and may still change a lot"


@dataclass(frozen=True)
class LicensingVerdicts:
    as_of: date
    horizon_days: int
    headroom_warn_pct: float
    pools: tuple[PoolVerdict, ...]

    def pool(self, pool_id: str) -> PoolVerdict | None:
        return next((p for p in self.pools if p.pool_id == pool_id), None)

    def to_summary(self) -> dict[str, Any]:
        return {"pools": [p.to_summary() for p in self.pools]}


def _num(v: float | None) -> float | None:
    return None if v is None else round(float(v), 1)


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def fmt_gb(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:,.0f} GB" if float(v).is_integer() else f"{v:,.1f} GB"


def licenses_to_cover(level: float | None, entitled: float | None, per_cpu: float | None) -> int | None:
    """ceil((level - entitled) / vRAM per CPU), 0 when ``level`` is within the entitlement."""
    if level is None or entitled is None or not per_cpu:
        return None
    return max(0, math.ceil(round((level - entitled) / per_cpu, 9)))


def _daily_series(history: Any, history_id: str, as_of: date, today_hw: float) -> pd.Series:
    """Daily high-water by UTC day (DatetimeIndex, gaps as missing rows), today's set to ``today_hw``."""
    import pandas as pd
    values: dict[pd.Timestamp, float] = {}
    if history is not None and hasattr(history, "series"):
        g = history.series(history_id)
        for day, hw in zip(g["day"], g["high_water_gb"], strict=True):
            ts = pd.Timestamp(day).normalize()
            if ts.date() <= as_of and not pd.isna(hw):
                values[ts] = float(hw)
    if values:  # no history: no window to put today in
        values[pd.Timestamp(as_of)] = today_hw
    return pd.Series(values, dtype=float).sort_index()


def _rolling(daily: pd.Series, future: np.ndarray, as_of: date) -> pd.Series:
    """Rolling 365-day mean over history + ``future`` (day 1 .. n after ``as_of``), one value per
    calendar day; days without a sample are skipped (``min_periods=1`` on NaN), not zero."""
    import pandas as pd
    start = min(daily.index.min(), pd.Timestamp(as_of - timedelta(days=WINDOW_DAYS - 1)))
    days = pd.date_range(start, pd.Timestamp(as_of) + pd.Timedelta(days=len(future)), freq="D")
    dense = daily.reindex(days)
    if len(future):
        dense.iloc[-len(future):] = future
    return dense.rolling(WINDOW_DAYS, min_periods=1).mean().round(_PRECISION)


def _day(ts: Any) -> date:
    import pandas as pd
    return pd.Timestamp(ts).date()


def _first_over(rolling: pd.Series, entitled: float, after: date) -> date | None:
    import pandas as pd
    over = rolling[(rolling.index > pd.Timestamp(after)) & (rolling > entitled)]
    return None if over.empty else _day(over.index[0])


def _trend_future(daily: pd.Series, as_of: date) -> tuple[np.ndarray | None, int]:
    """Future daily high-water on the least-squares line through the last 90 days (None: too few)."""
    import numpy as np
    import pandas as pd
    recent = daily[daily.index > pd.Timestamp(as_of - timedelta(days=TREND_DAYS))]
    if len(recent) < TREND_MIN_DAYS:
        return None, len(recent)
    x = np.array([(d.date() - as_of).days for d in recent.index], dtype=float)
    slope, intercept = np.polyfit(x, recent.to_numpy(dtype=float), 1)
    t = np.arange(1, PROJECTION_DAYS + 1, dtype=float)
    return np.clip(intercept + slope * t, 0.0, None), len(recent)


def _non_compliant_since(past: pd.Series, entitled: float, first_day: date) -> date | None:
    """First day of the run of days, ending today, on which the average was over (within history)."""
    import pandas as pd
    within = past[(past <= entitled) & (past.index >= pd.Timestamp(first_day))]
    if within.empty:
        return first_day
    return _day(within.index[-1]) + timedelta(days=1)


def _today_high_water(pool: Pool, ph: Any) -> float:
    recorded = getattr(ph, "today_high_water_gb", None) if ph is not None else None
    return pool.used_gb if recorded is None else max(float(recorded), pool.used_gb)


NO_HISTORY = ("No vRAM history: the 12-month average is unknown, so no verdict "
              "(record samples with a [history] section or import past readings).")


def unreadable_history(error: str) -> str:
    """The pool's reason when a configured history could not be read: not "no history" (which
    would send the reader to configure one), but what failed."""
    return f"vRAM history could not be read ({error}): the 12-month average is unknown, so no verdict."


def evaluate_pool(pool: Pool, history: Any, *, as_of: date, horizon_days: int = 90,
                  headroom_warn_pct: float = 10.0, history_id: str | None = None,
                  today_high_water_gb: float | None = None, history_error: str | None = None) -> PoolVerdict:
    """The verdict of one pool. ``history_id`` reads another pool's history (a plan that switches
    the pool's edition keeps its past); ``today_high_water_gb`` overrides today's high-water (a
    plan scenario: the changed use from today on); ``history_error``: why the configured history
    could not be read (``history`` is then None)."""
    hid = history_id or pool.id
    ph = history.pool(hid) if history is not None and hasattr(history, "pool") else None
    hw = round(_today_high_water(pool, ph) if today_high_water_gb is None else today_high_water_gb, 4)
    ent = pool.entitled_gb
    base: dict[str, Any] = dict(
        pool_id=pool.id, pool_label=pool.label, vcenter=",".join(pool.vcenters), edition=pool.edition, edition_title=pool.edition_title,
        entitled_gb=ent, used_gb=pool.used_gb, high_water_today_gb=hw, window_days=WINDOW_DAYS,
        per_cpu_gb=pool.per_cpu_gb, as_of=as_of, cpu_licenses_to_add_to_hold_today=licenses_to_cover(hw, ent, pool.per_cpu_gb),
    )
    empty: dict[str, Any] = dict(avg_12m_gb=None, history_days=0, cpu_licenses_to_add_now=None, crossing_date=None,
                                 crossing_date_trend=None, trend_days=0, non_compliant_since=None)
    if not pool.vram_applies:
        return PoolVerdict(verdict=Verdict.not_evaluated, why=f"No vRAM verdict: {pool.reason}.",
                           **{**base, **empty, "cpu_licenses_to_add_to_hold_today": None})
    if ent is None:
        return PoolVerdict(verdict=Verdict.not_evaluated, why="Unlimited vRAM (vSphere Desktop): no vRAM limit to check.",
                           **{**base, **empty, "cpu_licenses_to_add_to_hold_today": None})
    if history is None or not hasattr(history, "series"):  # no history: said without loading pandas (~0.6 s)
        why = unreadable_history(history_error) if history is None and history_error else NO_HISTORY
        return PoolVerdict(verdict=Verdict.not_evaluated, **base, **empty, why=why)
    import numpy as np
    import pandas as pd
    daily = _daily_series(history, hid, as_of, hw)
    if daily.empty:
        return PoolVerdict(verdict=Verdict.not_evaluated, **base, **empty, why=NO_HISTORY)
    steady = _rolling(daily, np.full(PROJECTION_DAYS, hw), as_of)
    window = daily[daily.index > pd.Timestamp(as_of - timedelta(days=WINDOW_DAYS))]
    avg = round(float(window.mean()), 4)
    n = len(window)
    first_day = window.index[0].date()
    past = steady[steady.index <= pd.Timestamp(as_of)]
    past = past[past.index >= pd.Timestamp(first_day)]
    trend_future, trend_days = _trend_future(daily, as_of)
    over_now = round(avg, _PRECISION) > ent
    crossing = None if over_now else _first_over(steady, ent, as_of)
    crossing_trend = None
    if not over_now and trend_future is not None:
        crossing_trend = _first_over(_rolling(daily, trend_future, as_of), ent, as_of)
    headroom_pct = 100.0 * (ent - avg) / ent if ent else -math.inf
    span = "" if n >= WINDOW_DAYS else f" ({n} of {WINDOW_DAYS} days of history: the average covers the days that exist)"
    since = _non_compliant_since(past, ent, first_day) if over_now else None
    if over_now:
        verdict = Verdict.non_compliant
        why = (f"The 12-month average of {fmt_gb(avg)} exceeds the entitlement of {fmt_gb(ent)} by "
               f"{fmt_gb(round(avg - ent, 4))}" + (f", over since {since.isoformat()}" if since else "") + f"{span}.")
    else:
        soon = crossing is not None and (crossing - as_of).days <= horizon_days
        low = headroom_pct < headroom_warn_pct
        verdict = Verdict.at_risk if (soon or low) else Verdict.compliant
        why = f"The 12-month average of {fmt_gb(avg)} is within the entitlement of {fmt_gb(ent)}{span}"
        if crossing is not None:
            why += (f"; if every day's high-water stays at today's {fmt_gb(hw)}, it goes over on "
                    f"{crossing.isoformat()}" + (f" (within {horizon_days} days)" if soon else ""))
        else:
            why += f"; at today's high-water of {fmt_gb(hw)} it does not go over within 3 years"
        if low:
            why += f"; only {headroom_pct:.1f} % of the entitlement is free (below {headroom_warn_pct:g} %)"
        why += "."
    projected: tuple[tuple[date, float], ...] = ()
    if crossing is not None:
        proj = steady[(steady.index >= pd.Timestamp(as_of)) & (steady.index <= pd.Timestamp(crossing))]
        projected = tuple((_day(d), float(v)) for d, v in proj.items())
    return PoolVerdict(
        **base, verdict=verdict, why=why, avg_12m_gb=avg, history_days=n,
        cpu_licenses_to_add_now=licenses_to_cover(avg, ent, pool.per_cpu_gb),
        crossing_date=crossing, crossing_date_trend=crossing_trend, trend_days=trend_days if trend_future is not None else 0,
        non_compliant_since=since, rolling_avg=tuple((_day(d), float(v)) for d, v in past.items()),
        projected_avg=projected,
    )


def evaluate(analysis: Analysis, history: Any, *, as_of: date, horizon_days: int = 90,
             headroom_warn_pct: float = 10.0, history_error: str | None = None) -> LicensingVerdicts:
    """Every pool of ``analysis`` (vRAM or not), in the analysis' order."""
    return LicensingVerdicts(
        as_of=as_of, horizon_days=horizon_days, headroom_warn_pct=headroom_warn_pct,
        pools=tuple(evaluate_pool(p, history, as_of=as_of, horizon_days=horizon_days,
                                  headroom_warn_pct=headroom_warn_pct, history_error=history_error)
                    for p in analysis.pools),
    )


__all__ = ["LicensingVerdicts", "PoolVerdict", "Verdict", "evaluate", "evaluate_pool", "fmt_gb", "licenses_to_cover"]
