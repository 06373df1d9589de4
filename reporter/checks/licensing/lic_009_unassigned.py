"""LIC-009: license capacity bought but not assigned."""

from __future__ import annotations

from typing import Any

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, per_check
from reporter.checks.licensing import FAMILY
from reporter.checks.licensing.common import LICENSES_PATH, analysis
from reporter.core import states
from reporter.core.findings import Severity
from reporter.core.masking import mask_text

META = CheckMeta(
    id="LIC-009",
    title="License capacity not assigned",
    family=FAMILY.id,
    severity=Severity.low,
    object_type="license",
    description="A license key with capacity left over (total > used): bought, and usually under support, "
                "but licensing nothing.",
    rationale="Unassigned capacity is money spent without use (and support renewals keep costing). For "
              "vSphere 5.0 it still adds to the vRAM pool (docs/methodology.md#vram-pools), so before removing it check "
              "the pool's headroom.",
    remediation=(
        f"Assign the spare capacity to unlicensed or evaluation hosts ({LICENSES_PATH} > Assets), or drop it "
        "from the next support renewal.",
    ),
    applies_to="purchased license keys with a capacity",
)


def run(ctx: CheckContext) -> Outcome:
    a = analysis(ctx)
    out = Outcome()
    pools_by_key = {k: p for p in a.pools for k in p.license_keys}
    for row in a.licenses:
        if row.evaluation or not row.total:
            continue
        out.checked += 1
        if not row.unassigned or row.unassigned <= 0:
            continue
        vc = next(v for v in ctx.snapshot.vcenters.values() if v.instance_uuid == row.vcenter_uuid)
        msg = f"{row.unassigned:,} of {states.cost_units(row.cost_unit, row.total)} unassigned."
        pool = pools_by_key.get(row.key)
        ev: dict[str, Any] = {"license_key": row.key, "edition_key": row.edition_key, "total": row.total, "used": row.used,
              "unassigned": row.unassigned, "cost_unit": row.cost_unit}
        if pool is not None and pool.vram_applies and pool.per_cpu_gb and row.cost_unit == "cpuPackage":
            vram = row.unassigned * pool.per_cpu_gb
            msg += f" They add {vram:,.0f} GB to the vRAM pool {pool.label}."
            ev["vram_pool"] = pool.label
            ev["vram_pool_id"] = pool.id
            ev["vram_gb_from_unassigned"] = vram
        out.findings.append(finding(
            META, vc, mask_text(row.key) + f" ({row.name or row.edition_key})", f"{row.vcenter_uuid}/license/{row.key}",
            msg, evidence=ev,
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene
group_of = per_check("License capacity not assigned")
