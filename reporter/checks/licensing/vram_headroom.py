"""LIC-003: little vRAM headroom left in a pool."""

from __future__ import annotations

import math

from ...findings import Severity
from ..base import CheckContext, CheckMeta, Outcome
from .common import LICENSES_PATH, REF_VRAM, analysis, gb, pool_evidence, pool_finding, today_high_water
from .settings import LicensingSettings

META = CheckMeta(
    id="LIC-003",
    title="vRAM pool close to its entitlement",
    family="licensing",
    severity=Severity.low,
    object_type="pool",
    description="A vSphere 5.0 vRAM pool with less free entitlement than the configured percentage "
                "(thresholds.licensing.headroom_warn_pct, default 10 %), measured on today's high-water.",
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
        if hw > ent:
            continue  # LIC-002 reports it
        pct = 100.0 * (ent - hw) / ent
        if pct >= cfg.headroom_warn_pct:
            continue
        target = hw / (1 - cfg.headroom_warn_pct / 100.0) if cfg.headroom_warn_pct < 100 else hw
        n = max(0, math.ceil(round((target - ent) / pool.per_cpu_gb, 9))) if pool.per_cpu_gb else None
        steps = []
        if n:
            steps.append(f"Adding {n} CPU license(s) of {pool.edition_title} restores {cfg.headroom_warn_pct:g} % "
                         f"headroom ({gb(ent + n * (pool.per_cpu_gb or 0))} entitled); add keys in {LICENSES_PATH}.")
        top = ", ".join(f"{v.name} ({gb(v.counted_gb)})" for v in pool.top_consumers(5))
        steps.append(f"Or reclaim memory: the largest consumers are {top}.")
        out.findings.append(pool_finding(
            META, pool,
            f"Only {gb(ent - hw)} ({pct:.1f} %) of the {gb(ent)} vRAM entitlement is free at today's high-water "
            f"of {gb(hw)} (warning below {cfg.headroom_warn_pct:g} %).",
            evidence=pool_evidence(pool, a, today_high_water_gb=hw, headroom_gb=round(ent - hw, 4),
                                   headroom_pct=round(pct, 2), threshold_pct=cfg.headroom_warn_pct),
            remediation=steps,
        ))
    return out
