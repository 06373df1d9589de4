"""LIC-003: a vRAM pool at risk: within its entitlement on the 12-month average, but the average
goes over within the horizon if use stays at today's level, or little headroom is left."""

from __future__ import annotations

import math

from reporter.checks.base import CheckContext, CheckMeta, Outcome
from reporter.checks.grouping import GroupKey, Risk
from reporter.checks.helpers import counted
from reporter.checks.licensing import FAMILY
from reporter.checks.licensing.common import (
    LICENSES_PATH,
    REF_VRAM,
    analysis,
    gb,
    license_counts,
    pool_evidence,
    pool_finding,
    pool_key,
    pool_verdict,
    verdicts,
)
from reporter.core.findings import Finding, Severity
from reporter.domain.licensing.verdict import PoolVerdict, Verdict

META = CheckMeta(
    id="LIC-003",
    title="vRAM pool at risk of going over its entitlement",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="pool",
    description="A vSphere 5.0 vRAM pool within its entitlement on the 12-month average whose average would go "
                "over within [thresholds.licensing] at_risk_horizon_days (default 90 days) if every day's "
                "high-water stayed at today's, or with less entitlement left on the average than "
                "[thresholds.licensing] headroom_warn_pct (default 10 %).",
    rationale="Once the 12-month average passes the entitlement the pool is out of compliance, and licenses take "
              "time to buy: the crossing date says by when to act (docs/methodology.md#vram-compliance).",
    remediation=("Buy the CPU licenses before the crossing date, or reclaim memory from idle and oversized VMs.",),
    references=(REF_VRAM,),
    applies_to="vSphere 5.0 vRAM pools with an entitlement",
)


def _message(v: PoolVerdict, horizon: int, warn_pct: float) -> str:
    text = (f"At risk: the 12-month average of {gb(v.avg_12m_gb)} is within the entitlement of {gb(v.entitled_gb)}"
            f" ({v.headroom_pct:.1f} % free)")
    if v.crossing_date is not None:
        days = v.days_to_crossing
        text += (f", but if every day's high-water stays at today's {gb(v.high_water_today_gb)} the average goes "
                 f"over on {v.crossing_date.isoformat()} (in {days} day{'s' if days != 1 else ''})")
        if v.crossing_date_trend is not None:
            text += f"; at the trend of the last {v.trend_days} days: {v.crossing_date_trend.isoformat()}"
    if v.headroom_pct is not None and v.headroom_pct < warn_pct:
        text += f"; less than {warn_pct:g} % of the entitlement is free"
    return f"{text}. {license_counts(v)}"


def run(ctx: CheckContext) -> Outcome:
    a = analysis(ctx)
    all_v = verdicts(ctx)
    out = Outcome()
    for pool in a.vram_pools:
        ent = pool.entitled_gb
        if not ent:
            continue
        out.checked += 1
        v = pool_verdict(ctx, pool)
        if v.verdict is not Verdict.at_risk:
            continue
        soon = v.crossing_date is not None and (v.days_to_crossing or 0) <= all_v.horizon_days
        steps = []
        per_cpu = pool.per_cpu_gb or 0.0
        if v.cpu_licenses_to_add_to_hold_today and v.crossing_date is not None:
            n = v.cpu_licenses_to_add_to_hold_today
            steps.append(f"Add {counted(n, 'CPU license')} of {pool.edition_title} ({gb(ent + n * per_cpu)} entitled) before "
                         f"{v.crossing_date.isoformat()}, so that today's use, if it stays, never takes the 12-month "
                         f"average over; add keys in {LICENSES_PATH}.")
        elif per_cpu and v.avg_12m_gb is not None and all_v.headroom_warn_pct < 100:
            target = v.avg_12m_gb / (1 - all_v.headroom_warn_pct / 100.0)
            n = max(0, math.ceil(round((target - ent) / per_cpu, 9)))
            if n:
                steps.append(f"Adding {counted(n, 'CPU license')} of {pool.edition_title} restores {all_v.headroom_warn_pct:g} % "
                             f"headroom on the 12-month average ({gb(ent + n * per_cpu)} entitled); add keys in "
                             f"{LICENSES_PATH}.")
        top = ", ".join(f"{x.name} ({gb(x.counted_gb)})" for x in pool.top_consumers(5))
        if top:
            steps.append(f"Or reclaim memory: the largest consumers are {top}.")
        out.findings.append(pool_finding(
            META, pool, _message(v, all_v.horizon_days, all_v.headroom_warn_pct),
            severity=Severity.medium if soon else Severity.low,
            evidence=pool_evidence(pool, a, verdict=v.verdict.value, today_high_water_gb=v.high_water_today_gb,
                                   avg_12m_gb=v.avg_12m_gb, headroom_gb=v.headroom_gb, avg_headroom_pct=v.headroom_pct,
                                   crossing_date=v.crossing_date.isoformat() if v.crossing_date else None,
                                   crossing_date_trend=(v.crossing_date_trend.isoformat()
                                                        if v.crossing_date_trend else None),
                                   horizon_days=all_v.horizon_days, threshold_pct=all_v.headroom_warn_pct,
                                   cpu_licenses_to_add_now=v.cpu_licenses_to_add_now,
                                   cpu_licenses_to_add_to_hold_today=v.cpu_licenses_to_add_to_hold_today),
            remediation=steps or None,
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene


def group_of(f: Finding) -> GroupKey:
    return GroupKey(pool_key(f), f"vRAM pool {f.object_name} close to its entitlement")
