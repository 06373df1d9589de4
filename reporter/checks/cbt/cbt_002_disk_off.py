"""CBT-002: CBT on for the VM but off for some of its disks (scsiX:Y.ctkEnabled)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.cbt import FAMILY
from reporter.checks.cbt.common import KB_CBT, KB_ENABLE, stun_step, vms
from reporter.checks.grouping import Risk, per_check
from reporter.checks.helpers import ps_quote, sh_quote
from reporter.core.findings import Severity
from reporter.domain.cbt import OFF

META = CheckMeta(
    id="CBT-002",
    title="CBT on for the VM but off for a disk",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="vm",
    description=(
        "A VM with Changed Block Tracking on where a disk that could be tracked has no changeId and its "
        "scsiX:Y.ctkEnabled (sataX:Y, nvmeX:Y) is FALSE or missing."
    ),
    rationale=(
        "CBT is per disk (KB1031873): a disk without it is read in full on every backup, or — depending on the "
        "product — its incrementals fall back to slower methods. Usually a disk added later, or a manual edit."
    ),
    remediation=(
        "Set the disk's ctkEnabled to TRUE (VM powered off: Edit Settings > VM Options > Advanced > Edit "
        "Configuration; or govc vm.change -vm '<vm>' -e scsiX:Y.ctkEnabled=TRUE), then stun/unstun the VM.",
    ),
    references=(KB_ENABLE, KB_CBT),
    applies_to="VMs with CBT on",
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    for view in vms(ctx):
        if not view.vm.change_tracking_enabled:
            continue
        out.checked += 1
        off = [d for d in view.disks if d.state == OFF]
        if not off:
            continue
        vm = view.vm.name
        nodes = [d.disk.device_node for d in off]
        labels = ", ".join(f"{d.disk.label or d.disk.device_node} ({d.disk.device_node}: ctkEnabled "
                           f"{'FALSE' if d.ctk_flag is False else 'not set'})" for d in off)
        steps = [
            "Usually a disk added after CBT was switched on, or a manual edit: the backup reads it in full every time.",
            f"With the VM powered off: Edit Settings on {vm} > VM Options > Advanced > Edit Configuration: set "
            + ", ".join(f"{n}.ctkEnabled = TRUE" for n in nodes) + "; then power on.",
            f"govc (VM powered off): govc vm.change -vm {sh_quote(vm)} " + " ".join(f"-e {n}.ctkEnabled=TRUE" for n in nodes),
            f"Or with PowerCLI, re-apply the VM option (sets every disk): $spec = New-Object VMware.Vim.VirtualMachineConfigSpec; "
            f"$spec.ChangeTrackingEnabled = $true; (Get-VM -Name {ps_quote(vm)}).ExtensionData.ReconfigVM($spec)",
            stun_step(vm),
        ]
        out.findings.append(finding(
            META, view.vc, vm, object_id(view.vc, view.vm.moid),
            f"CBT is on for the VM but not for {labels}.",
            evidence=view.evidence(), remediation=steps,
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = per_check("Disks with CBT off on VMs that track the others")
