"""SIOC-004: a shared datastore with several running VMs on which SIOC is not available."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_check
from reporter.checks.helpers import counted
from reporter.checks.sioc import FAMILY
from reporter.checks.sioc.common import KB1038241, REF_GUIDE, SECTION, powered_on_vms, settings
from reporter.core.findings import Severity, Status

META = CheckMeta(
    id="SIOC-004",
    title="Storage I/O Control not supported on a busy shared datastore",
    family=FAMILY.id,
    severity=Severity.info,
    object_type="datastore",
    description=(
        "A datastore that reports no Storage I/O Control support, shared by several hosts and used by at "
        "least [thresholds.sioc] busy_vm_count running VMs."
    ),
    rationale=(
        "Shares-based protection across hosts is not available here, so the only ways to stop one VM from "
        "crowding out the others are absolute per-disk limits (KB1038241), a storage policy, or QoS on the "
        "array."
    ),
    remediation=(
        "vSAN: set 'IOPS limit for object' in the VM storage policy.",
        "Other datastores: per-disk IOPS limits on the noisy VMs (Edit Settings > Hard disk > Limit - IOPs), or QoS on the array.",
    ),
    references=(REF_GUIDE, KB1038241),
)


def run(ctx: CheckContext) -> Outcome:
    s = settings(ctx)
    out = Outcome()
    for vc in ctx.snapshot.vcenters.values():
        for ds in sorted(vc.datastores.values(), key=lambda d: d.name):
            out.checked += 1
            shared = ds.multiple_host_access is True or len(ds.hosts) > 1
            if ds.sioc_supported is not False or not shared:
                continue
            running = powered_on_vms(vc, ds)
            if len(running) < s.busy_vm_count:
                continue
            vsan = (ds.type or "").lower() == "vsan"
            fix = ("vSAN does not use SIOC: cap noisy VMs with the storage-policy rule 'IOPS limit for object' "
                   "(vSAN counts I/O in weighted 32 KB units)." if vsan else
                   "Cap noisy VMs with per-disk IOPS limits (VM > Edit Settings > Hard disk > Limit - IOPs) or use "
                   "the array's QoS.")
            out.findings.append(finding(
                META, vc, ds.name, object_id(vc, ds.moid),
                f"'{ds.name}' ({ds.type or 'unknown type'}) does not support SIOC; {len(running)} running VMs "
                f"on {counted(len(ds.hosts), 'host')} share it with no cross-host I/O arbitration.",
                evidence={"type": ds.type, "sioc_supported": False, "hosts": len(ds.hosts), "vms": len(ds.vms),
                          "powered_on_vms": len(running), "source": SECTION},
                remediation=fix, status=Status.warn,
            ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = per_check("Busy shared datastores without SIOC support")
