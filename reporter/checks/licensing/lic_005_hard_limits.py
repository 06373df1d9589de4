"""LIC-005: hard vRAM/RAM limits exceeded (Essentials kits; the free vSphere Hypervisor)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_check
from reporter.checks.licensing import FAMILY
from reporter.checks.licensing.common import REF_VRAM, analysis, gb, pool_evidence, pool_finding
from reporter.core.findings import Severity

META = CheckMeta(
    id="LIC-005",
    title="Hard vRAM limit exceeded (Essentials kit or free Hypervisor)",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="pool",
    description="An Essentials / Essentials Plus vRAM pool above the kit's hard limit (192 GB in the revised "
                "table), or a free vSphere Hypervisor host above its per-host limit (32 GB physical RAM).",
    rationale="Unlike the other editions these limits are enforced: VMs beyond them fail to power on "
              "(docs/methodology.md#vram-pools). An HA failover that needs to restart VMs can fail for the same reason.",
    remediation=(
        "Essentials kits: upgrade to vSphere Standard or higher (per-CPU licenses, soft vRAM limit), or reduce "
        "the memory of powered-on VMs below the kit limit.",
        "Free Hypervisor: license the host with a paid edition, or remove memory beyond the limit.",
    ),
    references=(REF_VRAM,),
)


def run(ctx: CheckContext) -> Outcome:
    a = analysis(ctx)
    out = Outcome()
    for pool in a.vram_pools:
        if pool.hard_limit_gb is None:
            continue
        out.checked += 1
        if pool.used_gb <= pool.hard_limit_gb:
            continue
        victims = pool.vms_to_free(pool.used_gb - pool.hard_limit_gb)
        out.findings.append(pool_finding(
            META, pool,
            f"{pool.edition_title} kit uses {gb(pool.used_gb)} vRAM, above its hard limit of {gb(pool.hard_limit_gb)}: "
            f"further power-ons fail.",
            evidence=pool_evidence(pool, a, hard_limit_gb=pool.hard_limit_gb, source=a.rules.hard_limit_source),
            remediation=[
                f"Upgrade the kit to vSphere 5 Standard or higher ({gb(a.table.per_cpu_gb.get('standard'))} per CPU, soft limit).",
                "Or free " + gb(pool.used_gb - pool.hard_limit_gb) + " by powering off or right-sizing: "
                + ", ".join(f"{v.name} ({gb(v.counted_gb)})" for v in victims[:10]) + ".",
            ],
        ))
    for v in a.host_limit_violations:
        h = v["host"]
        vc = next(x for x in ctx.snapshot.vcenters.values() if x.instance_uuid == h.vcenter_uuid)
        out.checked += 1
        what = "physical RAM" if v["kind"] == "physical" else "vRAM of powered-on VMs"
        out.findings.append(finding(
            META, vc, h.name, object_id(vc, h.moid),
            f"Free vSphere Hypervisor host has {gb(v['value_gb'])} {what}, above the {gb(v['limit_gb'])} limit "
            f"(table {a.table.name}).",
            evidence={"host": h.name, "kind": v["kind"], "value_gb": v["value_gb"], "limit_gb": v["limit_gb"],
                      "rule": "docs/methodology.md#vram-pools"},
            object_type="host",
        ))
    if not out.checked:
        out.not_evaluated = ("No Essentials or Essentials Plus kit pool and no free vSphere Hypervisor host over its "
                             "limits in the collected inventory: no hard vRAM limit applies.")
        out.nothing_applies = True
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss  # enforced: VMs fail to power on, HA restarts fail
group_of = per_check("Hard vRAM limits exceeded")
