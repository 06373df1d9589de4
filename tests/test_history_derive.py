"""Daily high-water and the 12-month average (docs/methodology.md (section 2 topics)) from synthetic history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from reporter.history import history_from_samples

P = "vc1/enterprise_plus"


def frame(rows):
    df = pd.DataFrame([{"pool_id": P, "edition": "enterprise_plus", "entitled_gb": 576.0, **r} for r in rows])
    df["used_gb_raw"] = df.get("used_gb_raw", df["used_gb_capped"])
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    return df


def test_daily_high_water_is_the_max_of_the_day():
    d = datetime(2026, 6, 1, tzinfo=UTC)
    h = history_from_samples(frame([
        {"ts": d + timedelta(hours=1), "used_gb_capped": 100.0},
        {"ts": d + timedelta(hours=13), "used_gb_capped": 180.0},
        {"ts": d + timedelta(hours=23, minutes=59), "used_gb_capped": 120.0},
        {"ts": d + timedelta(days=1, hours=2), "used_gb_capped": 50.0},
    ]), date(2026, 6, 2))
    assert h.daily["high_water_gb"].tolist() == [180.0, 50.0]
    assert h.daily["samples"].tolist() == [3, 1]
    ph = h.pool(P)
    assert (ph.avg_12m_gb, ph.today_high_water_gb, ph.days_available, ph.peak_high_water_gb) == (115.0, 50.0, 2, 180.0)


def test_average_over_a_full_year_window_ignores_older_days():
    as_of = date(2026, 11, 23)
    end = datetime(2026, 11, 23, 12, tzinfo=UTC)
    # 400 days: the oldest 35 at 1000 GB fall outside the 365-day window; inside, 365 days at 500 GB
    rows = [{"ts": end - timedelta(days=i), "used_gb_capped": 500.0 if i < 365 else 1000.0} for i in range(400)]
    ph = history_from_samples(frame(rows), as_of).pool(P)
    assert ph.days_available == 365 and ph.full_year
    assert ph.avg_12m_gb == 500.0
    assert ph.first_day == date(2025, 11, 24)
    assert ph.missing_days == 0


def test_gaps_are_left_out_not_counted_as_zero():
    as_of = date(2026, 11, 23)
    end = datetime(2026, 11, 23, 12, tzinfo=UTC)
    # 100 days of 400 GB, then 30 days without samples, then 10 days of 700 GB ending today
    rows = [{"ts": end - timedelta(days=i), "used_gb_capped": 700.0} for i in range(10)]
    rows += [{"ts": end - timedelta(days=i), "used_gb_capped": 400.0} for i in range(40, 140)]
    ph = history_from_samples(frame(rows), as_of).pool(P)
    assert ph.days_available == 110
    assert ph.avg_12m_gb == round((10 * 700 + 100 * 400) / 110, 4)
    assert ph.missing_days == 30
    assert not ph.full_year


def test_fewer_than_365_days_and_no_sample_today():
    as_of = date(2026, 11, 23)
    rows = [{"ts": datetime(2026, 11, 20, 8, tzinfo=UTC), "used_gb_capped": 300.0}]
    ph = history_from_samples(frame(rows), as_of).pool(P)
    assert (ph.days_available, ph.today_high_water_gb, ph.missing_days) == (1, None, 3)


def test_days_are_utc_days_across_dst_changes():
    berlin = ZoneInfo("Europe/Berlin")
    # 00:30 local on 29 March 2026 (CET, +01:00, before the switch) is 23:30 UTC on 28 March
    a = datetime(2026, 3, 29, 0, 30, tzinfo=berlin)
    # 01:30 local on 30 March (CEST, +02:00) is 23:30 UTC on 29 March
    b = datetime(2026, 3, 30, 1, 30, tzinfo=berlin)
    # 00:30 CEST on 25 October 2026 is 22:30 UTC on the 24th; 02:30 CET on the 25th (after the switch back)
    # is 01:30 UTC on the 25th
    c = datetime(2026, 10, 25, 0, 30, tzinfo=berlin)
    d = datetime(2026, 10, 25, 2, 30, tzinfo=berlin).replace(fold=1)
    h = history_from_samples(frame([
        {"ts": a, "used_gb_capped": 10.0}, {"ts": b, "used_gb_capped": 20.0},
        {"ts": c, "used_gb_capped": 30.0}, {"ts": d, "used_gb_capped": 40.0},
    ]), date(2026, 10, 25))
    days = [x.date().isoformat() for x in h.daily["day"]]
    assert days == ["2026-03-28", "2026-03-29", "2026-10-24", "2026-10-25"]
    assert h.pool(P).today_high_water_gb == 40.0


def test_entitlement_of_a_day_is_its_last_sample():
    d = datetime(2026, 6, 1, tzinfo=UTC)
    df = frame([{"ts": d + timedelta(hours=1), "used_gb_capped": 1.0}, {"ts": d + timedelta(hours=5), "used_gb_capped": 1.0}])
    df.loc[1, "entitled_gb"] = 672.0  # a license added during the day
    h = history_from_samples(df, date(2026, 6, 1))
    assert h.daily["entitled_gb"].tolist() == [672.0]
    assert h.pool(P).entitled_gb == 672.0
