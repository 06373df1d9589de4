"""SNAP-004: VMs that vCenter flags "Consolidation needed" (API: runtime.consolidationNeeded)."""

from __future__ import annotations

from typing import Any

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_check
from reporter.checks.helpers import counted, ps_quote
from reporter.checks.snapshots import FAMILY
from reporter.checks.snapshots.common import KB_BEST_PRACTICES, KB_CONSOLIDATE
from reporter.core.findings import Severity
from reporter.domain.vm_snapshots import gb, leftover_delta_bytes

META = CheckMeta(
    id="SNAP-004",
    title="Virtual machine disks need consolidation",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="vm",
    description=("A VM that vCenter flags as needing consolidation (Virtual machine disks consolidation is "
                 "needed): a snapshot delete left delta files behind."),
    rationale=(
        "The VM keeps running on delta files that no snapshot in Snapshot Manager accounts for: they grow "
        "unseen, slow I/O like any snapshot chain, and make later snapshot-based backups fail or leave "
        "more deltas behind (KB2003638)."
    ),
    remediation=(
        "Check free space on the VM's datastores first: consolidation merges the leftover deltas and needs, worst case, their size free.",
        "vSphere Client: right-click the VM > Snapshots > Consolidate.",
        "PowerCLI: (Get-VM -Name '<vm>').ExtensionData.ConsolidateVMDisks_Task()",
        "govc has no consolidate command; use the vSphere Client or PowerCLI.",
        "If it fails with a locked file, a backup proxy often still has the VM's disk hot-added: remove that disk from the proxy VM (do not delete it) and consolidate again.",
    ),
    references=(KB_CONSOLIDATE, KB_BEST_PRACTICES),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    unknown = 0
    for vc in ctx.snapshot.vcenters.values():
        by_name = {d.name: d for d in vc.datastores.values()}
        for vm in vc.vms.values():
            if vm.consolidation_needed is None:
                unknown += 1
                continue
            out.checked += 1
            if not vm.consolidation_needed:
                continue
            leftover = leftover_delta_bytes(vm)
            ev: dict[str, Any] = {"consolidation_needed": True, "snapshot_count": len(vm.iter_snapshots())}
            space = "as much free space as the leftover deltas"
            if leftover is not None:
                ev["leftover_deltas"] = [
                    {"datastore": ds, "delta_gb": gb(b), "free_gb": gb(by_name[ds].free_bytes) if ds in by_name else None}
                    for ds, b in sorted(leftover.items())
                ]
                if leftover:
                    space += " (" + "; ".join(f"{gb(b):g} GB on {ds}" for ds, b in sorted(leftover.items())) + ")"
            elif vm.layout_ex is None:
                ev["size_note"] = "leftover delta size unknown: vCenter did not report the VM's file layout"
            steps = [
                f"Check free space first: consolidation merges the leftover deltas and needs, worst case, {space}.",
                f"vSphere Client: right-click {vm.name} > Snapshots > Consolidate.",
                f"PowerCLI: (Get-VM -Name {ps_quote(vm.name)}).ExtensionData.ConsolidateVMDisks_Task()",
            ] + list(META.remediation[3:])
            out.findings.append(finding(
                META, vc, vm.name, object_id(vc, vm.moid),
                "vCenter reports that this VM's disks need consolidation: it runs on delta files that no snapshot accounts for.",
                evidence=ev, remediation=steps,
            ))
    if unknown:
        out.notes.append(f"Whether consolidation is needed was not reported for {counted(unknown, 'VM')}.")
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss
group_of = per_check("VM disks that need consolidation")
