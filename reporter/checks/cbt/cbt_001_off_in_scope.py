"""CBT-001: CBT switched off on a VM that backups are expected to cover."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.cbt import FAMILY
from reporter.checks.cbt.common import KB_CBT, KB_ENABLE, enable_steps, scope_note, vms
from reporter.checks.grouping import GroupKey, Risk
from reporter.checks.helpers import counted
from reporter.core.findings import Finding, Severity
from reporter.domain.cbt import MIN_HW_VERSION

META = CheckMeta(
    id="CBT-001",
    title="CBT off on a VM in backup scope",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="vm",
    description=(
        "A VM in backup scope (setting; default: every powered-on VM) on which Changed Block Tracking is "
        "off. VMs below hardware version 7 are reported by CBT-005 instead."
    ),
    rationale=(
        "Without CBT an image-level backup cannot ask vSphere which blocks changed (QueryChangedDiskAreas): "
        "every run reads every disk in full, so backup windows, load on the datastore and backup traffic grow "
        "with disk size, not with change rate (KB1020128)."
    ),
    remediation=(
        "Enable CBT: PowerCLI $spec = New-Object VMware.Vim.VirtualMachineConfigSpec; $spec.ChangeTrackingEnabled = "
        "$true; (Get-VM -Name '<vm>').ExtensionData.ReconfigVM($spec) — or, powered off, set ctkEnabled and each "
        "scsiX:Y.ctkEnabled to TRUE (KB1031873).",
        "Activate it with a stun/unstun: New-Snapshot -VM '<vm>' -Name cbt-stun | Remove-Snapshot -Confirm:$false.",
    ),
    references=(KB_CBT, KB_ENABLE),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    unknown_scope = unknown_flag = 0
    for view in vms(ctx):
        if view.in_scope is None:
            unknown_scope += 1
            continue
        if not view.in_scope:
            continue
        hw = view.vm.hw_version_number
        if hw is not None and hw < MIN_HW_VERSION:
            continue  # CBT-005: CBT cannot be switched on before a hardware upgrade
        out.checked += 1
        if view.vm.change_tracking_enabled is None:
            unknown_flag += 1
            continue
        if view.vm.change_tracking_enabled:
            continue
        nodes = [d.disk.device_node for d in view.disks if d.supported]
        out.findings.append(finding(
            META, view.vc, view.vm.name, object_id(view.vc, view.vm.moid),
            "CBT is off: every backup of this VM reads all of its disks in full.",
            evidence=view.evidence(), remediation=enable_steps(view, nodes),
        ))
    out.notes += scope_note(unknown_scope)
    if unknown_flag:
        out.notes.append(f"Whether Changed Block Tracking is on was not reported for {counted(unknown_flag, 'VM')} in scope.")
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance  # every backup reads the whole VM: backup windows, not data, are at risk


def group_of(f: Finding) -> GroupKey:
    """One group per backup scope (a vCenter's scope): switching CBT on is the same job for all."""
    return GroupKey(f.vcenter, f"CBT off on VMs in the backup scope of {f.vcenter or 'the fleet'}")
