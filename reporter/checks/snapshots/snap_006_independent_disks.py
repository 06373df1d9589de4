"""SNAP-006: snapshots of a VM with independent disks, which snapshots do not capture (§4)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_check
from reporter.checks.helpers import counted, ps_quote, sh_quote
from reporter.checks.snapshots import FAMILY
from reporter.checks.snapshots.common import KB_BEST_PRACTICES, vms_read, vms_with_snapshots
from reporter.core.findings import Severity
from reporter.domain.vm_snapshots import disk_mode_words, gb

META = CheckMeta(
    id="SNAP-006",
    title="Snapshot of a VM with independent disks",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="vm",
    description=(
        "A VM that has snapshots and at least one disk in an independent mode (Independent - Persistent or "
        "Independent - Nonpersistent)."
    ),
    rationale=(
        "Independent disks are not part of any snapshot: reverting the snapshot leaves them as they are "
        "now (persistent) or discards their changes at power-off (nonpersistent), and snapshot-based "
        "backups skip them. The snapshot gives a false sense of safety for the data on those disks."
    ),
    remediation=(
        "If the disk's data must be covered by snapshots and backups, make it dependent: power the VM off, "
        "Edit Settings > the disk > Disk Mode = Dependent.",
        "PowerCLI: Get-HardDisk -VM '<vm>' -Name '<disk>' | Set-HardDisk -Persistence Persistent -Confirm:$false",
        "govc: govc vm.disk.change -vm '<vm>' -disk.key <key> -mode persistent",
        "If independent is intended (e.g. scratch or log disks), record a waiver so the report says so.",
    ),
    references=(KB_BEST_PRACTICES,),
    applies_to="VMs whose snapshots could be read",
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    out.checked = vms_read(ctx)  # every VM whose snapshots were read: one without any is clean
    for view in vms_with_snapshots(ctx):
        vm = view.vm
        independent = [d for d in vm.disks if d.independent]
        if not independent:
            continue
        disks = [{"label": d.label, "node": d.device_node, "key": d.key, "mode": disk_mode_words(d.disk_mode),
                  "capacity_gb": gb(d.capacity_bytes), "file": d.backing_file} for d in independent]
        names = ", ".join(f"{d.label or d.device_node} ({disk_mode_words(d.disk_mode)})" for d in independent)
        steps = [
            "If the data on these disks must be covered by snapshots and backups, make them dependent: power the "
            f"VM off, then Edit Settings on {vm.name} > the disk > Disk Mode = Dependent.",
        ]
        for d in independent:
            label = d.label or d.device_node
            steps.append(f"PowerCLI: Get-HardDisk -VM {ps_quote(vm.name)} -Name {ps_quote(label)} | "
                         "Set-HardDisk -Persistence Persistent -Confirm:$false")
            steps.append(f"govc: govc vm.disk.change -vm {sh_quote(vm.name)} -disk.key {d.key} -mode persistent")
        steps.append(META.remediation[-1])
        out.findings.append(finding(
            META, view.vc, vm.name, object_id(view.vc, vm.moid),
            f"{counted(len(view.infos), 'snapshot')} {'does' if len(view.infos) == 1 else 'do'} not capture the independent "
            f"{'disk' if len(independent) == 1 else 'disks'} {names}.",
            evidence={"snapshot_count": len(view.infos), "independent_disks": disks,
                      "snapshots": [i.name for i in view.infos]},
            remediation=steps,
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss  # reverting the snapshot does not bring these disks back
group_of = per_check("Snapshots that miss independent disks")
