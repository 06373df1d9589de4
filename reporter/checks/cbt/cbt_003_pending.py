"""CBT-003: CBT switched on but not active yet (no changeId: needs a stun/unstun)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.cbt import FAMILY
from reporter.checks.cbt.common import KB_CBT, KB_ENABLE, stun_step, vms
from reporter.checks.grouping import Risk, per_check
from reporter.core import states
from reporter.core.findings import Severity
from reporter.domain.cbt import ACTIVE, PENDING

META = CheckMeta(
    id="CBT-003",
    title="CBT switched on but not active yet",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="vm",
    description=(
        "A VM with Changed Block Tracking on and a disk whose ctkEnabled is TRUE but whose backing has no "
        "changeId: the setting waits for a stun/unstun."
    ),
    rationale=(
        "CBT takes effect only after a stun/unstun — a power cycle, suspend/resume, or a snapshot create + "
        "delete (KB1031873). Until then no change map exists and the backup cannot use CBT."
    ),
    remediation=(
        "Stun/unstun the VM: New-Snapshot -VM '<vm>' -Name cbt-stun | Remove-Snapshot -Confirm:$false, or "
        "govc snapshot.create -vm '<vm>' -m=false cbt-stun && govc snapshot.remove -vm '<vm>' cbt-stun, or power-cycle it.",
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
        pending = [d for d in view.disks if d.state == PENDING]
        if not pending:
            continue
        vm = view.vm.name
        none_active = not any(d.state == ACTIVE for d in view.disks)
        names = ", ".join(d.disk.label or d.disk.device_node for d in pending)
        if none_active:
            msg = "CBT is switched on but not active yet: no disk has a changeId."
        else:
            msg = f"CBT is not active yet on {names}: no changeId."
        steps = []
        if view.vm.powered_on:
            steps.append(stun_step(vm))
        else:
            steps.append(f"{vm} is {states.in_sentence(states.power_state(view.vm.power_state))}: CBT becomes active at its next power-on; nothing else to do "
                         "unless it should be backed up now.")
        steps.append("After the next backup the disks report a changeId; from then on backups can be incremental.")
        out.findings.append(finding(
            META, view.vc, vm, object_id(view.vc, view.vm.moid), msg,
            evidence=view.evidence(), remediation=steps,
            severity=Severity.medium if view.vm.powered_on else Severity.low,
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene  # the next snapshot (backup) activates it
group_of = per_check("CBT switched on, waiting for the first snapshot")
