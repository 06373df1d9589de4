"""LIC-003: little vRAM headroom left in a pool."""

from __future__ import annotations

import math

from reporter.checks.base import CheckContext, CheckMeta, Outcome
from reporter.checks.grouping import GroupKey, Risk
from reporter.checks.licensing import FAMILY
from reporter.checks.licensing.common import (
    LICENSES_PATH,
    REF_VRAM,
    analysis,
    gb,
    pool_evidence,
    pool_finding,
    pool_history,
    today_high_water,
)
from reporter.checks.licensing.settings import LicensingSettings
from reporter.core.findings import Finding, Severity

META = CheckMeta(
    id="LIC-003",
    title="vRAM pool close to its entitlement",
    family=FAMILY.id,
    severity=Severity.low,
    object_type="pool",
    description="A vSphere 5.0 vRAM pool with less free entitlement than the configured percentage "
                "(thresholds.licensing.headroom_warn_pct, default 10 %), measured on today's high-water and, "
                "with history, on the 12-month average of daily high-water marks (the compliance measure).",
    rationale="New or resized VMs will push the pool over its entitlement; licenses take time to buy.",
    remediation=("Plan the next license purchase, or reclaim memory from idle and oversized VMs.",),
    references=(REF_VRAM,),
)


def run(ctx: CheckContext) -> Outcome:
    a = analysis(ctx)
    cfg = ctx.settings.get(LicensingSettings)
    out = Outcome()
    for pool in a.vram_pools:
        ent = pool.entitled_gb
        if not ent:
            continue
        out.checked += 1
        hw, _ = today_high_water(ctx, pool)
        ph = pool_history(ctx, pool)
        avg = ph.avg_12m_gb if ph is not None else None
        # Each basis at or under the entitlement but with little room left; over it, LIC-001/002 report.
        close = [(label, value, 100.0 * (ent - value) / ent)
                 for label, value in (("on the 12-month average", avg), ("at today's high-water", hw))
                 if value is not None and value <= ent and 100.0 * (ent - value) / ent < cfg.headroom_warn_pct]
        if not close:
            continue
        worst = max(value for _, value, _ in close)
        target = worst / (1 - cfg.headroom_warn_pct / 100.0) if cfg.headroom_warn_pct < 100 else worst
        n = max(0, math.ceil(round((target - ent) / pool.per_cpu_gb, 9))) if pool.per_cpu_gb else None
        steps = []
        if n:
            steps.append(f"Adding {n} CPU license(s) of {pool.edition_title} restores {cfg.headroom_warn_pct:g} % "
                         f"headroom ({gb(ent + n * (pool.per_cpu_gb or 0))} entitled); add keys in {LICENSES_PATH}.")
        top = ", ".join(f"{v.name} ({gb(v.counted_gb)})" for v in pool.top_consumers(5))
        steps.append(f"Or reclaim memory: the largest consumers are {top}.")
        (label0, value0, pct0), *rest = close
        said = f"Only {gb(ent - value0)} ({pct0:.1f} %) of the {gb(ent)} vRAM entitlement is free {label0} of {gb(value0)}"
        said += "".join(f"; {gb(ent - v)} ({p:.1f} %) {lbl} of {gb(v)}" for lbl, v, p in rest)
        avg_note = (" The 12-month average is the compliance measure: once it passes the entitlement the pool "
                    "is out of compliance." if label0 == "on the 12-month average" else "")
        hw_pct = 100.0 * (ent - hw) / ent
        out.findings.append(pool_finding(
            META, pool,
            f"{said} (warning below {cfg.headroom_warn_pct:g} %).{avg_note}",
            evidence=pool_evidence(pool, a, today_high_water_gb=hw, headroom_gb=round(ent - hw, 4),
                                   headroom_pct=round(hw_pct, 2), avg_12m_gb=avg,
                                   avg_headroom_pct=None if avg is None else round(100.0 * (ent - avg) / ent, 2),
                                   threshold_pct=cfg.headroom_warn_pct),
            remediation=steps,
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene


def group_of(f: Finding) -> GroupKey:
    return GroupKey(f.object_name, f"vRAM pool {f.object_name} close to its entitlement")
