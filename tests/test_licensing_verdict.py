"""The per-pool licensing verdict on synthetic histories: exact crossing dates, verdict cases and
both license counts (reporter.domain.licensing.verdict)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from licensing_helpers import snapshot, vsphere5_site

from reporter.domain.licensing import Pool, analyze
from reporter.domain.licensing.verdict import PoolVerdict, Verdict, evaluate, evaluate_pool
from reporter.history import VramHistory, history_from_samples

AS_OF = date(2026, 11, 23)
POOL = "vc1/enterprise_plus"


def pool(entitled_per_cpu: float = 100.0, cpus: int = 10) -> Pool:
    """A vSphere 5 pool with ``cpus x entitled_per_cpu`` GB entitled and no powered-on VM (so today's
    high-water is the history's)."""
    return Pool(id=POOL, scope="vc1", vcenters=["vc1"], edition="enterprise_plus",
                edition_title="vSphere Enterprise Plus", model="vsphere5", table="aug2011", vram_applies=True,
                per_cpu_gb=entitled_per_cpu, cpu_total=cpus, cpu_assigned=cpus)


def history(values: dict[int, float], as_of: date = AS_OF) -> VramHistory:
    """Daily high-water by day offset from ``as_of`` (0 = today, -1 = yesterday); one sample a day at 12:00 UTC."""
    noon = datetime(as_of.year, as_of.month, as_of.day, 12, tzinfo=UTC)
    df = pd.DataFrame([{"ts": noon + timedelta(days=i), "pool_id": POOL, "edition": "enterprise_plus",
                        "used_gb_raw": v, "used_gb_capped": v, "entitled_gb": 1000.0} for i, v in values.items()])
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    return history_from_samples(df, as_of)


def verdict(values: dict[int, float], p: Pool | None = None, **kw: float) -> PoolVerdict:
    return evaluate_pool(p or pool(), history(values), as_of=AS_OF, **kw)  # type: ignore[arg-type]


def oracle_crossing(values: dict[int, float], future: float, entitled: float) -> date | None:
    """Brute force, independent of pandas: the first day t >= 1 whose 365-day window (days with a
    value only) averages above ``entitled`` when every day after today has ``future``."""
    for t in range(1, 3 * 365 + 1):
        window = [v for i, v in values.items() if t - 364 <= i <= t] + [future] * t
        if sum(window) / len(window) > entitled:
            return AS_OF + timedelta(days=t)
    return None


def test_constant_level_then_a_step_crosses_on_the_exact_day():
    # The documented example: 364 days at L = 900 GB, today H = 1,100 GB, E = 1,000 GB.
    # First k (counting today) with ((365 - k) * 900 + k * 1100) / 365 > 1000: 200k > 36500, k = 183,
    # so the crossing is 182 days after today.
    values = {i: 900.0 for i in range(-364, 0)} | {0: 1100.0}
    v = verdict(values)
    assert v.crossing_date == AS_OF + timedelta(days=182) == date(2027, 5, 24)
    assert v.crossing_date == oracle_crossing(values, 1100.0, 1000.0)
    # Beyond the 90-day horizon and 9.7 % free: at risk on headroom only (< 10 %).
    assert v.avg_12m_gb == pytest.approx(900.5479, abs=1e-4) and v.history_days == 365
    assert v.verdict is Verdict.at_risk
    assert (v.cpu_licenses_to_add_now, v.cpu_licenses_to_add_to_hold_today) == (0, 1)
    # The day before the crossing is still within: the projection stops at the crossing date.
    assert v.projected_avg[0][0] == AS_OF and v.projected_avg[-1][0] == v.crossing_date
    assert v.projected_avg[-2][1] <= 1000.0 < v.projected_avg[-1][1]
    assert evaluate_pool(pool(), history(values), as_of=AS_OF, headroom_warn_pct=5).verdict is Verdict.compliant


def test_step_within_the_horizon_is_at_risk_with_its_date():
    # 364 days at 560, today 700, E = 576 (6 x 96): 140k > 5840 -> k = 42, 41 days after today.
    values = {i: 560.0 for i in range(-364, 0)} | {0: 700.0}
    v = verdict(values, pool(96.0, 6))
    assert v.crossing_date == date(2027, 1, 3) == oracle_crossing(values, 700.0, 576.0)
    assert v.days_to_crossing == 41 and v.verdict is Verdict.at_risk
    assert (v.cpu_licenses_to_add_now, v.cpu_licenses_to_add_to_hold_today) == (0, 2)  # ceil(124 / 96)
    # A 30-day horizon and no headroom rule: the same pool is compliant, its crossing date unchanged.
    later = verdict(values, pool(96.0, 6), horizon_days=30, headroom_warn_pct=0)
    assert later.verdict is Verdict.compliant and later.crossing_date == date(2027, 1, 3)


def test_linear_ramp_has_no_steady_crossing_but_a_trend_date():
    # High-water rising 0.5 GB a day to 982 GB today, E = 1,000: at today's level the average
    # approaches 982 and never crosses; on the trend line v(i) = 982 + 0.5 i the window mean at day t
    # is v(t - 182) = 891 + 0.5 t, above 1,000 first at t = 219.
    values = {i: 982.0 + 0.5 * i for i in range(-364, 1)}
    v = verdict(values)
    assert v.avg_12m_gb == pytest.approx(891.0)
    assert v.crossing_date is None
    assert v.crossing_date_trend == AS_OF + timedelta(days=219) == date(2027, 6, 30)
    assert v.trend_days == 90
    assert v.verdict is Verdict.compliant  # 10.9 % free, no crossing at today's level
    assert "does not go over within 3 years" in v.why


def test_gaps_are_left_out_not_counted_as_zero():
    # Samples on every other day only (182 days at 500), today 600, E = 576. With n_h history days
    # left in the window the mean is (500 n_h + 600 (t + 1)) / (n_h + t + 1): first above 576 at
    # t = 223 (n_h = 70: 169,400 / 294 = 576.19; t = 222, n_h = 71: 169,300 / 294 = 575.85).
    values = {i: 500.0 for i in range(-364, 0, 2)} | {0: 600.0}
    v = verdict(values, pool(96.0, 6))
    assert v.history_days == 183
    assert v.avg_12m_gb == pytest.approx(91600 / 183, abs=1e-4)
    assert v.crossing_date == AS_OF + timedelta(days=223) == oracle_crossing(values, 600.0, 576.0)
    # The rolling average exists on gap days too (it averages the days that have a sample).
    assert len(v.rolling_avg) == 365


def test_fewer_than_365_days_the_window_is_the_days_that_exist():
    # 100 days at 500 + today 600, E = 576. All of the history stays in the window until t = 264; after
    # that the oldest days leave: (500 (364 - t) + 600 (t + 1)) / 365 > 576 first at t = 277.
    values = {i: 500.0 for i in range(-100, 0)} | {0: 600.0}
    v = verdict(values, pool(96.0, 6))
    assert v.history_days == 101
    assert v.avg_12m_gb == pytest.approx(50600 / 101, abs=1e-4)
    assert v.crossing_date == AS_OF + timedelta(days=277) == oracle_crossing(values, 600.0, 576.0)
    assert "(101 of 365 days of history: the average covers the days that exist)" in v.why


def test_non_compliant_since_the_first_day_over_and_no_crossing_date():
    # 200 days at 500 then 165 days at 700 (today included), E = 576: the running mean
    # (100,000 + 700 (d + 165)) / (365 + d) first exceeds 576 at d = -42.
    values = {i: 500.0 for i in range(-364, -164)} | {i: 700.0 for i in range(-164, 1)}
    v = verdict(values, pool(96.0, 6))
    assert v.verdict is Verdict.non_compliant
    assert v.non_compliant_since == AS_OF - timedelta(days=42) == date(2026, 10, 12)
    assert v.crossing_date is None and v.crossing_date_trend is None
    avg = (200 * 500 + 165 * 700) / 365  # 590.41
    assert v.avg_12m_gb == pytest.approx(avg, abs=1e-4)
    assert (v.cpu_licenses_to_add_now, v.cpu_licenses_to_add_to_hold_today) == (1, 2)
    assert v.why == ("The 12-month average of 590.4 GB exceeds the entitlement of 576 GB by 14.4 GB, over since "
                     "2026-10-12.")
    # Over on every day of the history: since the first day.
    flat = verdict({i: 600.0 for i in range(-99, 1)}, pool(96.0, 6))
    assert flat.non_compliant_since == AS_OF - timedelta(days=99)


def test_exactly_at_the_entitlement_is_within_and_licenses_are_zero_not_none():
    v = verdict({i: 576.0 for i in range(-364, 1)}, pool(96.0, 6), headroom_warn_pct=0)
    assert v.verdict is Verdict.compliant and v.crossing_date is None
    assert (v.cpu_licenses_to_add_now, v.cpu_licenses_to_add_to_hold_today) == (0, 0)
    assert v.to_summary()["cpu_licenses_to_add_now"] == 0


def test_headroom_below_threshold_is_at_risk_without_a_date():
    v = verdict({i: 530.0 for i in range(-364, 1)}, pool(96.0, 6))
    assert v.verdict is Verdict.at_risk and v.crossing_date is None
    assert v.headroom_pct == pytest.approx(7.99, abs=0.01)


def test_not_evaluated_pools_say_why_and_keep_the_snapshot_figures():
    snap = snapshot(vsphere5_site())
    a = analyze(snap)
    # No history: filled from the snapshot, no average, no verdict.
    v = evaluate(a, None, as_of=AS_OF)
    ep = v.pool("vc1/enterprise_plus")
    assert ep is not None and ep.verdict is Verdict.not_evaluated
    assert ep.to_summary() == {
        "vcenter": "vc1", "pool": "vc1/enterprise_plus", "pool_label": "vc1 · vSphere Enterprise Plus",
        "edition": "enterprise_plus", "verdict": "not_evaluated",
        "why": "No vRAM history: the 12-month average is unknown, so no verdict (record samples with a [history] "
               "section or import past readings).",
        "entitled_gb": 576.0, "used_gb": 192.0, "high_water_today_gb": 192.0, "avg_12m_gb": None, "history_days": 0,
        "cpu_licenses_to_add_now": None, "cpu_licenses_to_add_to_hold_today": 0, "crossing_date": None,
        "crossing_date_trend": None, "non_compliant_since": None,
    }
    # Every pool is listed, vRAM or not.
    assert [p.pool_id for p in v.pools] == [p.id for p in a.pools]
    v51 = evaluate(analyze(snapshot(vsphere5_site(version="5.1.0"))), None, as_of=AS_OF)
    assert {p.verdict for p in v51.pools} == {Verdict.not_evaluated}
    assert all(p.why.startswith("No vRAM verdict: ") and p.entitled_gb is None for p in v51.pools)


def test_todays_snapshot_reading_counts_when_higher_than_the_recorded_high_water():
    # History recorded 100 GB today; the snapshot's pool uses 192 GB: today's high-water is 192.
    snap = snapshot(vsphere5_site())
    ep = next(p for p in analyze(snap).pools if p.id == "vc1/enterprise_plus")
    v = evaluate_pool(ep, history({i: 100.0 for i in range(-9, 1)}), as_of=AS_OF)
    assert v.high_water_today_gb == 192.0
    assert v.avg_12m_gb == pytest.approx((9 * 100 + 192) / 10)


def test_summary_line_and_email_subject_render_the_verdict_as_computed():
    from reporter.domain.licensing.verdict import LicensingVerdicts
    from reporter.render.licensing_view import line_for, subject_part

    values = {i: 560.0 for i in range(-364, 0)} | {0: 700.0}
    v = verdict(values, pool(96.0, 6))
    line = line_for(v)
    assert (line.label, line.bg) == ("at risk", "#f9a825")
    assert line.use == "12-month average 560.4 GB of 576 GB entitled (today's high-water 700 GB — over the entitlement)"
    assert line.when == "goes over on 2027-01-03 if use stays at today's level (2027-08-29 at the recent trend)"
    assert line.buy == "CPU licenses to add: 0 now, 2 to hold today's use"
    over = verdict({i: 600.0 for i in range(-99, 1)}, pool(96.0, 6))
    assert line_for(over).when == "over since 2026-08-16"

    class Ctx:
        licensing = LicensingVerdicts(as_of=AS_OF, horizon_days=90, headroom_warn_pct=10.0, pools=(v, over))

    assert subject_part(Ctx()) == "licensing: 1 non-compliant, 1 at risk"


def test_summary_line_says_when_the_average_rests_on_less_than_a_year():
    """At a glance a few days' average must not read as a year's: the line says on how many days it rests."""
    from reporter.render.licensing_view import line_for

    one_day = line_for(verdict({0: 700.0}, pool(96.0, 6)))
    assert one_day.label == "non-compliant"
    assert one_day.use == ("12-month average 700 GB of 576 GB entitled (today's high-water 700 GB — over the "
                           "entitlement); the average rests on 1 day of history so far, not 365, and may still "
                           "change a lot")
    ten = line_for(verdict({i: 500.0 for i in range(-9, 1)}, pool(96.0, 6)))
    assert ten.use.endswith("; the average rests on 10 days of history so far, not 365, and may still change a lot")
    # A full window, and a pool without history (not evaluated, its own reason), say nothing of it.
    year = line_for(verdict({i: 500.0 for i in range(-364, 1)}, pool(96.0, 6)))
    assert "rests on" not in year.use
    none = line_for(evaluate_pool(pool(96.0, 6), None, as_of=AS_OF))
    assert none.label == "not evaluated" and "rests on" not in none.use
