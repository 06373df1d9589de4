"""LIC-004: vCenter's own vRAM figures differ from the figures computed from the inventory."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome
from reporter.checks.grouping import Risk, per_check
from reporter.checks.licensing import FAMILY
from reporter.checks.licensing.common import REF_VRAM, analysis, gb, pool_evidence, pool_finding
from reporter.checks.licensing.settings import LicensingSettings
from reporter.core.findings import Severity

META = CheckMeta(
    id="LIC-004",
    title="vCenter-reported vRAM differs from the computed figure",
    family=FAMILY.id,
    severity=Severity.low,
    object_type="pool",
    description="The vRAM use or entitlement vCenter reports in its license data differs from what this "
                "report computes from the inventory (powered-on VMs, 96 GB cap, CPU licenses).",
    rationale="vCenter 5.0's licensing reporting could differ from a plain sum, e.g. builds released "
              "before the 96 GB cap was implemented (docs/methodology.md#vram-pools). An audit uses VMware's figure; "
              "know which one you are planning with.",
    remediation=(
        "Compare the pool in the vSphere Client licensing report with the per-VM list in this report.",
        "If vCenter counts uncapped memory, update vCenter 5.0 to a build that implements the 96 GB cap.",
    ),
    references=(REF_VRAM,),
)


def run(ctx: CheckContext) -> Outcome:
    a = analysis(ctx)
    tol = ctx.settings.get(LicensingSettings).mismatch_tolerance_gb
    out = Outcome()
    for pool in a.pools:
        rep = pool.reported
        if rep is None:
            continue
        out.checked += 1
        problems = []
        ev = pool_evidence(pool, a, vcenter_reported_raw=rep.raw, vcenter_reported_used_gb=rep.used_gb,
                           vcenter_reported_entitled_gb=rep.entitled_gb)
        if rep.used_gb is not None and abs(rep.used_gb - pool.used_gb) > tol:
            hint = ""
            if pool.cap_effect_gb and abs(rep.used_gb - pool.used_raw_gb) <= tol:
                hint = " vCenter's figure equals the uncapped sum: it does not apply the 96 GB per-VM cap."
            problems.append(f"vCenter reports {gb(rep.used_gb)} vRAM used, computed {gb(pool.used_gb)}.{hint}")
        if rep.entitled_gb is not None and pool.entitled_gb is not None and abs(rep.entitled_gb - pool.entitled_gb) > tol:
            problems.append(f"vCenter reports {gb(rep.entitled_gb)} vRAM entitled, computed {gb(pool.entitled_gb)} "
                            f"({pool.cpu_total} CPU licenses x {gb(pool.per_cpu_gb)}, table {a.table.name}).")
        if rep.used_gb is None and rep.entitled_gb is None:
            out.notes.append(f"{pool.label}: vCenter license properties mention vRAM ({', '.join(sorted({k for d in rep.raw.values() for k in d}))}) "
                             "but not in a form this report can compare; shown raw in the pool table")
            continue
        if problems:
            out.findings.append(pool_finding(META, pool, " ".join(problems), evidence=ev))
    if not out.checked:
        n = len(a.vram_pools)
        out.not_evaluated = (f"vCenter's license data gives no vRAM use or entitlement of its own for the {n} vRAM "
                             f"pool{'s' if n != 1 else ''}: there is nothing to compare the computed figures with." if n else
                             "No vSphere 5.0 vRAM pool in the collected inventory.")
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene
group_of = per_check("vRAM figures that differ from vCenter's")
