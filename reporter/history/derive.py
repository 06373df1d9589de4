"""Daily high-water marks and the 12-month rolling average, derived with pandas.

Definitions (docs/methodology.md#vram-compliance: compliance is the 12-month rolling average of the daily
high-water mark):

- **Days are UTC days.** A sample taken at 00:30 CEST on 29 March belongs to 28 March (UTC).
  vCenter 5.0 kept its own clock; a site in one time zone may see its day boundary shifted by
  its UTC offset, and across a DST change that shift moves by an hour. UTC days never have
  23 or 25 hours, so no day is counted twice or lost at a DST change.
- **Daily high-water** = the largest capped vRAM use among that day's samples.
- **12-month average** = mean of the daily high-water marks of the 365 UTC days ending on the
  report's day (the snapshot's collection day, inclusive). Days without any sample are left
  out: not counted as zero (that would understate use) and not filled in (we do not know
  what ran). ``days_available`` says how many days the average rests on; with fewer than 365
  the report says so.
- The entitlement of a day is the one recorded with that day's last sample; the verdict
  compares the average with the pool's entitlement at the report time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

WINDOW_DAYS = 365

SAMPLE_COLUMNS = ["ts", "pool_id", "edition", "used_gb_raw", "used_gb_capped", "entitled_gb"]
DAILY_COLUMNS = ["pool_id", "day", "high_water_gb", "high_water_raw_gb", "entitled_gb", "samples"]


@dataclass(frozen=True)
class PoolHistory:
    pool_id: str
    days_available: int  # UTC days with at least one sample inside the window
    window_days: int
    first_day: date | None  # first day with a sample inside the window
    last_day: date | None
    avg_12m_gb: float | None  # mean daily high-water over days_available
    today_high_water_gb: float | None  # the report day's high-water (None: no sample that day)
    peak_high_water_gb: float | None
    missing_days: int  # days between first_day and the report day without a sample
    entitled_gb: float | None  # entitlement recorded on the last day with a sample

    @property
    def full_year(self) -> bool:
        return self.days_available >= self.window_days


def empty_samples() -> pd.DataFrame:
    return pd.DataFrame({
        "ts": pd.Series(dtype="datetime64[ns, UTC]"), "pool_id": pd.Series(dtype=str),
        "edition": pd.Series(dtype=object), "used_gb_raw": pd.Series(dtype=float),
        "used_gb_capped": pd.Series(dtype=float), "entitled_gb": pd.Series(dtype=float),
    })


def daily_high_water(samples: pd.DataFrame) -> pd.DataFrame:
    """One row per pool and UTC day: columns ``DAILY_COLUMNS``; ``day`` is a naive
    ``datetime64`` at 00:00 of the UTC day."""
    if samples.empty:
        return pd.DataFrame({
            "pool_id": pd.Series(dtype=str), "day": pd.Series(dtype="datetime64[ns]"),
            "high_water_gb": pd.Series(dtype=float), "high_water_raw_gb": pd.Series(dtype=float),
            "entitled_gb": pd.Series(dtype=float), "samples": pd.Series(dtype="int64"),
        })
    df = samples.copy()
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    df = df.sort_values(["pool_id", "ts"], kind="stable")
    df["day"] = df["ts"].dt.floor("D").dt.tz_localize(None)
    out = (
        df.groupby(["pool_id", "day"], sort=True)
        .agg(high_water_gb=("used_gb_capped", "max"), high_water_raw_gb=("used_gb_raw", "max"),
             entitled_gb=("entitled_gb", "last"), samples=("used_gb_capped", "size"))
        .reset_index()
    )
    return out[DAILY_COLUMNS]


def pool_stats(daily: pd.DataFrame, as_of: date, window_days: int = WINDOW_DAYS) -> dict[str, PoolHistory]:
    start = pd.Timestamp(as_of - timedelta(days=window_days - 1))
    end = pd.Timestamp(as_of)
    out: dict[str, PoolHistory] = {}
    for pool_id, g in daily.groupby("pool_id", sort=True):
        win = g[(g["day"] >= start) & (g["day"] <= end)]
        if win.empty:
            out[str(pool_id)] = PoolHistory(str(pool_id), 0, window_days, None, None, None, None, None, 0, None)
            continue
        first = win["day"].min().date()
        last = win["day"].max().date()
        today = win.loc[win["day"] == end, "high_water_gb"]
        ent = win.dropna(subset=["entitled_gb"])
        n = len(win)
        out[str(pool_id)] = PoolHistory(
            pool_id=str(pool_id), days_available=n, window_days=window_days, first_day=first, last_day=last,
            avg_12m_gb=round(float(win["high_water_gb"].mean()), 4),
            today_high_water_gb=round(float(today.iloc[0]), 4) if not today.empty else None,
            peak_high_water_gb=round(float(win["high_water_gb"].max()), 4),
            missing_days=(as_of - first).days + 1 - n,
            entitled_gb=float(ent["entitled_gb"].iloc[-1]) if not ent.empty else None,
        )
    return out
