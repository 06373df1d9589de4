"""SNAP-002: a VM running on a long snapshot chain (KB1025279: 2–3 recommended, 32 maximum)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_check
from reporter.checks.snapshots import FAMILY
from reporter.checks.snapshots.common import KB_BEST_PRACTICES, delete_steps, vms_read, vms_with_snapshots
from reporter.checks.snapshots.settings import MAX_SUPPORTED_CHAIN, SnapshotSettings
from reporter.core.findings import Severity
from reporter.domain.vm_snapshots import current_chain

META = CheckMeta(
    id="SNAP-002",
    title="Snapshot chain deeper than recommended",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="vm",
    description=(
        "A VM whose running point sits on more snapshots than the threshold (default 3): the depth of "
        "the current snapshot in the tree. High severity at the supported maximum of 32."
    ),
    rationale=(
        "Every read that misses the newest delta walks down the chain, so each level costs I/O; VMware "
        "recommends 2–3 snapshots in a chain (KB1025279). At 32 no further snapshot can be taken, so "
        "snapshot-based backups of the VM fail."
    ),
    remediation=(
        "Delete the snapshots that are no longer needed, oldest first, after checking free space.",
        "vSphere Client: right-click the VM > Snapshots > Manage Snapshots > Delete (or Delete All).",
        "PowerCLI: Get-VM -Name '<vm>' | Get-Snapshot | Remove-Snapshot -Confirm:$false",
        "govc: govc snapshot.remove -vm '<vm>' '*'",
    ),
    references=(KB_BEST_PRACTICES,),
    applies_to="VMs whose snapshots could be read",
)


def run(ctx: CheckContext) -> Outcome:
    s = ctx.settings.get(SnapshotSettings)
    out = Outcome()
    out.checked = vms_read(ctx)  # every VM whose snapshots were read: one without any is clean
    for view in vms_with_snapshots(ctx):
        by_moid = {i.moid: i for i in view.infos}
        chain = [by_moid[f.moid] for f in current_chain(view.vm)]
        depth = len(chain)
        if depth <= s.max_chain_depth:
            continue
        at_max = depth >= MAX_SUPPORTED_CHAIN
        ev = view.base_evidence()
        ev.update({
            "chain_depth": depth,
            "max_chain_depth": s.max_chain_depth,
            "supported_maximum": MAX_SUPPORTED_CHAIN,
            "chain": [view.snapshot_evidence(i) for i in chain],
        })
        msg = (f"The VM runs on a chain of {depth} snapshots (recommended: at most {s.max_chain_depth}"
               + (f"; {MAX_SUPPORTED_CHAIN} is the supported maximum, no further snapshot can be taken)." if at_max else ")."))
        out.findings.append(finding(
            META, view.vc, view.vm.name, object_id(view.vc, view.vm.moid), msg, evidence=ev,
            remediation=delete_steps(view), severity=Severity.high if at_max else Severity.medium,
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss
group_of = per_check("Snapshot chains deeper than recommended")
