"""LIC-001: a vRAM pool whose 12-month average of daily high-water marks exceeds its entitlement."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome
from reporter.checks.licensing import FAMILY
from reporter.checks.licensing.common import REF_VRAM, analysis, gb, over_remediation, pool_evidence, pool_finding, pool_history
from reporter.core.findings import Severity

META = CheckMeta(
    id="LIC-001",
    title="vRAM pool over its entitlement on the 12-month average",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="pool",
    description="A vSphere 5.0 vRAM pool whose average daily high-water mark over the last 12 months "
                "(365 UTC days) is above the pool's vRAM entitlement.",
    rationale="vSphere 5.0 compliance is measured on the 12-month rolling average of the daily high-water "
              "mark, not on one reading (docs/methodology.md#vram-compliance). An average above the entitlement is a "
              "license shortfall that an audit will find.",
    remediation=("Add CPU licenses of the pool's edition, power off or right-size the largest consumers, "
                 "or move the pool to an edition with a larger vRAM entitlement.",),
    references=(REF_VRAM,),
)


def run(ctx: CheckContext) -> Outcome:
    a = analysis(ctx)
    out = Outcome()
    if ctx.history is None and ctx.history_error:
        out.notes.append(f"vRAM history could not be read ({ctx.history_error}): the 12-month average and the other "
                         "12-month figures are not available in this report. Today's readings are unaffected.")
    elif ctx.history is None:
        out.notes.append("No vRAM history: the 12-month average is unknown (add a [history] section to the "
                         "config so every run and 'vcreport vram sample' records it, or seed it with "
                         "'vcreport history import').")
    for pool in a.vram_pools:
        if pool.entitled_gb is None:  # unlimited (vSphere Desktop)
            continue
        out.checked += 1
        ph = pool_history(ctx, pool)
        if ph is None or ph.avg_12m_gb is None:
            if ctx.history is not None:
                out.notes.append(f"{pool.id}: no history samples yet; 12-month average unknown")
            continue
        avg = ph.avg_12m_gb
        if avg <= pool.entitled_gb:
            continue
        days = ph.days_available
        span = (f"over {days} day(s) of history (fewer than 365: the average may still change a lot)"
                if days < ph.window_days else "over the full 365 days")
        msg = (f"12-month average vRAM use {gb(avg)} exceeds the entitlement of {gb(pool.entitled_gb)} "
               f"by {gb(avg - pool.entitled_gb)} ({span}).")
        out.findings.append(pool_finding(
            META, pool, msg,
            evidence=pool_evidence(pool, a, avg_12m_gb=avg, days_of_history=days, window_days=ph.window_days,
                                   missing_days=ph.missing_days, first_day=str(ph.first_day),
                                   peak_high_water_gb=ph.peak_high_water_gb,
                                   licenses_needed=pool.licenses_needed(avg)),
            remediation=over_remediation(pool, a, avg, basis="average"),
        ))
    return out
