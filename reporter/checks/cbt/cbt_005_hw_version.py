"""CBT-005: VMs in backup scope below virtual hardware version 7 (CBT needs 7 or later)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.cbt import FAMILY
from reporter.checks.cbt.common import KB_CBT, backup_relevant, scope_note
from reporter.checks.grouping import Risk, by_evidence
from reporter.checks.helpers import sh_quote
from reporter.core.findings import Severity
from reporter.domain.cbt import MIN_HW_VERSION

META = CheckMeta(
    id="CBT-005",
    title="Hardware version too old for CBT",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="vm",
    description="A VM in backup scope, or flagged for CBT, with virtual hardware older than version 7 (vmx-07).",
    rationale=(
        "CBT needs virtual hardware version 7 or later (KB1020128): on older hardware every backup reads the "
        "whole VM, and switching CBT on has no effect."
    ),
    remediation=(
        "Take a backup, power the VM off, then upgrade: vSphere Client: right-click the VM > Compatibility > "
        "Upgrade VM Compatibility; govc: govc vm.upgrade -version=<n> -vm '<vm>'. Upgrade VMware Tools first. "
        "Pick a version every host in the cluster supports.",
        "Then switch CBT on (CBT-001).",
    ),
    references=(KB_CBT,),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    relevant, unknown = backup_relevant(ctx)
    for view in relevant:
        out.checked += 1
        hw = view.vm.hw_version_number
        if hw is None or hw >= MIN_HW_VERSION:
            continue
        vm = view.vm.name
        steps = [
            "Upgrade VMware Tools first and take a backup: a hardware upgrade changes the virtual devices the guest sees.",
            f"Power {vm} off, then in the vSphere Client: right-click {vm} > Compatibility > Upgrade VM Compatibility, "
            "choosing a version every host the VM may run on supports.",
            f"govc: govc vm.upgrade -version={MIN_HW_VERSION} -vm {sh_quote(vm)} (or a later version all hosts support)",
            "Then switch CBT on and stun/unstun (see CBT-001).",
        ]
        out.findings.append(finding(
            META, view.vc, vm, object_id(view.vc, view.vm.moid),
            f"Hardware version {view.vm.hw_version} is older than vmx-07: CBT is not available.",
            evidence=view.evidence(), remediation=steps,
        ))
    out.notes += scope_note(unknown)
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = by_evidence("hw_version", lambda hw: f"Hardware version {hw}: too old for CBT")
