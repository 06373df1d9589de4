"""LIC-002: today's vRAM high-water mark above the pool's entitlement (the direction of travel,
shown beside the pool's verdict, never a second verdict)."""

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
    today_high_water,
)
from reporter.core.findings import Finding, Severity

META = CheckMeta(
    id="LIC-002",
    title="vRAM pool over its entitlement today",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="pool",
    description="A vSphere 5.0 vRAM pool whose high-water mark today (UTC day of the snapshot) is above "
                "its vRAM entitlement.",
    rationale="One day over is allowed (the limit is soft and compliance is the 12-month average, "
              "docs/methodology.md#vram-compliance), but every such day pulls the average up; a pool that stays over "
              "becomes non-compliant.",
    remediation=("Add CPU licenses of the pool's edition, power off or right-size the largest consumers, "
                 "or move the pool to an edition with a larger vRAM entitlement.",),
    references=(REF_VRAM,),
    applies_to="vSphere 5.0 vRAM pools with an entitlement",
)


def _verdict_text(verdict: str, avg: float | None, crossing: str | None) -> str:
    if avg is None:
        return "the 12-month average is unknown (no history), so the pool has no verdict"
    text = f"the pool's verdict, on the 12-month average of {gb(avg)}, is {verdict}"
    if crossing:
        text += f"; if use stays at today's level the average goes over on {crossing}"
    return text


def run(ctx: CheckContext) -> Outcome:
    a = analysis(ctx)
    out = Outcome()
    for pool in a.vram_pools:
        if pool.entitled_gb is None:
            continue
        out.checked += 1
        v = pool_verdict(ctx, pool)
        hw = v.high_water_today_gb
        if not v.today_over:
            continue
        _, source = today_high_water(ctx, pool)
        cap = (f"; the {gb(pool.cap_gb)} per-VM cap already saves {gb(pool.cap_effect_gb)}"
               if pool.cap_gb and pool.cap_effect_gb > 0 else "")
        crossing = v.crossing_date.isoformat() if v.crossing_date else None
        msg = (f"Today's vRAM high-water {gb(hw)} exceeds the entitlement of {gb(pool.entitled_gb)} by "
               f"{gb(hw - pool.entitled_gb)} ({len(pool.vms)} powered-on VMs{cap}). This is the direction of travel: "
               f"{_verdict_text(v.verdict.label, v.avg_12m_gb, crossing)}. {license_counts(v)}")
        out.findings.append(pool_finding(
            META, pool, msg,
            evidence=pool_evidence(pool, a, verdict=v.verdict.value, today_high_water_gb=hw, high_water_from=source,
                                   crossing_date=crossing,
                                   cpu_licenses_to_add_now=v.cpu_licenses_to_add_now,
                                   cpu_licenses_to_add_to_hold_today=v.cpu_licenses_to_add_to_hold_today,
                                   top_consumers=[{"vm": x.name, "counted_gb": x.counted_gb, "configured_gb": x.memory_gb}
                                                  for x in pool.top_consumers(5)]),
            remediation=over_remediation(pool, a, hw, basis="today", licenses=v.cpu_licenses_to_add_to_hold_today),
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss  # licence non-compliance if it lasts


def group_of(f: Finding) -> GroupKey:
    return GroupKey(pool_key(f), f"vRAM pool {f.object_name} over its entitlement today")
