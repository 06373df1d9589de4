"""SIOC-001: SIOC off on a shared datastore that several running VMs compete on."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_check
from reporter.checks.helpers import counted
from reporter.checks.sioc import FAMILY
from reporter.checks.sioc.common import REF_GUIDE, SECTION, powered_on_vms, settings
from reporter.core.findings import Severity

META = CheckMeta(
    id="SIOC-001",
    title="Storage I/O Control disabled on a shared datastore with several running VMs",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="datastore",
    description=(
        "A datastore mounted by more than one host, used by at least [thresholds.sioc] busy_vm_count "
        "powered-on VMs, with Storage I/O Control turned off."
    ),
    rationale=(
        "Without SIOC each host only sees its own VMs: a VM on one host can fill the array queue and every "
        "VM on the other hosts waits, whatever their disk shares say. SIOC acts across all hosts when "
        "latency passes the congestion threshold and divides the queue by shares (docs/methodology.md#sioc)."
    ),
    remediation=(
        "vSphere Client: Datastore > Configure > General > Datastore Capabilities > Edit > Enable Storage I/O "
        "Control (leave the threshold at its default unless the array vendor says otherwise).",
        "PowerCLI: Get-Datastore -Name '<datastore>' | Set-Datastore -StorageIOControlEnabled $true",
        "SIOC is a vSphere Enterprise Plus feature: check the license of every host that mounts the datastore.",
    ),
    references=(REF_GUIDE,),
)


def run(ctx: CheckContext) -> Outcome:
    s = settings(ctx)
    out = Outcome()
    for vc in ctx.snapshot.vcenters.values():
        for ds in sorted(vc.datastores.values(), key=lambda d: d.name):
            out.checked += 1
            shared = ds.multiple_host_access is True or len(ds.hosts) > 1
            if not shared or ds.iorm is None or ds.iorm.enabled is not False or ds.sioc_supported is False:
                continue
            running = powered_on_vms(vc, ds)
            if len(running) < s.busy_vm_count:
                continue
            out.findings.append(finding(
                META, vc, ds.name, object_id(vc, ds.moid),
                f"SIOC is off on '{ds.name}', shared by {counted(len(ds.hosts), 'host')} and used by {len(running)} "
                f"running VMs ({len(ds.vms)} in total): one busy VM can raise latency for all of them.",
                evidence={
                    "hosts": len(ds.hosts), "vms": len(ds.vms), "powered_on_vms": len(running),
                    "busy_vm_count_setting": s.busy_vm_count, "multiple_host_access": ds.multiple_host_access,
                    "type": ds.type, "sioc_supported": ds.sioc_supported,
                    "stats_collection_enabled": ds.iorm.stats_collection_enabled, "source": SECTION,
                },
                remediation=(
                    f"Enable SIOC on '{ds.name}': vSphere Client: Datastore > Configure > General > Datastore "
                    "Capabilities > Edit > Enable Storage I/O Control.\n"
                    f"PowerCLI: Get-Datastore -Name '{ds.name}' | Set-Datastore -StorageIOControlEnabled $true\n"
                    "SIOC is a vSphere Enterprise Plus feature: check the license of every host that mounts the "
                    "datastore."
                ),
            ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = per_check("Storage I/O Control off on busy shared datastores")
