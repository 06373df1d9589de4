"""LIC-001: a vRAM pool whose 12-month average of daily high-water marks exceeds its entitlement
(the pool's verdict is non-compliant)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome
from reporter.checks.grouping import GroupKey, Risk
from reporter.checks.licensing import FAMILY
from reporter.checks.licensing.common import (
    REF_VRAM,
    analysis,
    gb,
    license_counts,
    over_remediation,
    pool_evidence,
    pool_finding,
    pool_key,
    pool_verdict,
)
from reporter.core.findings import Finding, Severity
from reporter.domain.licensing.verdict import Verdict

META = CheckMeta(
    id="LIC-001",
    title="vRAM pool over its entitlement on the 12-month average",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="pool",
    description="A vSphere 5.0 vRAM pool whose average daily high-water mark over the last 12 months "
                "(365 UTC days) is above the pool's vRAM entitlement: the pool's verdict is non-compliant.",
    rationale="vSphere 5.0 compliance is measured on the 12-month rolling average of the daily high-water "
              "mark, not on one reading (docs/methodology.md#vram-compliance). An average above the entitlement is a "
              "license shortfall that an audit will find.",
    remediation=("Add CPU licenses of the pool's edition, power off or right-size the largest consumers, "
                 "or move the pool to an edition with a larger vRAM entitlement.",),
    references=(REF_VRAM,),
    applies_to="vSphere 5.0 vRAM pools with an entitlement",
)


def run(ctx: CheckContext) -> Outcome:
    a = analysis(ctx)
    out = Outcome()
    averaged = 0  # pools with a 12-month average
    if ctx.history is None and ctx.history_error:
        out.not_evaluated = (f"vRAM history could not be read ({ctx.history_error}): the 12-month average and the "
                             "other 12-month figures are not available in this report. Today's readings are unaffected.")
    elif ctx.history is None:
        # Compliance is the 12-month average: without history it cannot be judged at all.
        out.not_evaluated = ("No vRAM history: set [history] in the config and run `vcreport vram sample` on a "
                             "schedule (or load past readings with `vcreport history import`).")
    for pool in a.vram_pools:
        if pool.entitled_gb is None:  # unlimited (vSphere Desktop)
            continue
        out.checked += 1
        v = pool_verdict(ctx, pool)
        if v.avg_12m_gb is None:
            if ctx.history is not None:
                out.notes.append(f"{pool.label}: no history samples yet; 12-month average unknown")
            continue
        averaged += 1
        if v.verdict is not Verdict.non_compliant:
            continue
        days = v.history_days
        span = (f"over {days} {'day' if days == 1 else 'days'} of history (fewer than 365: the average covers the days that exist "
                "and may still change a lot)" if days < v.window_days else "over the full 365 days")
        since = f", over since {v.non_compliant_since.isoformat()}" if v.non_compliant_since else ""
        msg = (f"Non-compliant: the 12-month average vRAM use {gb(v.avg_12m_gb)} exceeds the entitlement of "
               f"{gb(v.entitled_gb)} by {gb(v.avg_12m_gb - pool.entitled_gb)} ({span}{since}). {license_counts(v)}")
        ph = ctx.history.pool(pool.id) if ctx.history is not None else None
        out.findings.append(pool_finding(
            META, pool, msg,
            evidence=pool_evidence(pool, a, verdict=v.verdict.value, avg_12m_gb=v.avg_12m_gb, days_of_history=days,
                                   window_days=v.window_days,
                                   missing_days=ph.missing_days if ph is not None else None,
                                   first_day=str(ph.first_day) if ph is not None else None,
                                   peak_high_water_gb=ph.peak_high_water_gb if ph is not None else None,
                                   non_compliant_since=str(v.non_compliant_since) if v.non_compliant_since else None,
                                   cpu_licenses_to_add_now=v.cpu_licenses_to_add_now,
                                   cpu_licenses_to_add_to_hold_today=v.cpu_licenses_to_add_to_hold_today),
            remediation=over_remediation(pool, a, v.avg_12m_gb, basis="average", licenses=v.cpu_licenses_to_add_now),
        ))
    if ctx.history is not None and out.checked and not averaged:
        out.not_evaluated = ("No vRAM history samples yet for any pool: run `vcreport vram sample` on a schedule "
                             "(or load past readings with `vcreport history import`).")
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss  # licence non-compliance


def group_of(f: Finding) -> GroupKey:
    return GroupKey(pool_key(f), f"vRAM pool {f.object_name} over its entitlement on the 12-month average")
