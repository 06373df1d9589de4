"""CBT-004: disks that CBT and snapshot-based backups cannot cover (physical RDM, independent)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.cbt import FAMILY
from reporter.checks.cbt.common import KB_CBT, backup_relevant, scope_note
from reporter.checks.grouping import Risk, per_check
from reporter.checks.helpers import ps_quote, sh_quote
from reporter.core.findings import Severity
from reporter.domain.cbt import INDEPENDENT, PHYSICAL_RDM
from reporter.domain.vm_snapshots import disk_mode_words

META = CheckMeta(
    id="CBT-004",
    title="Disk that CBT-based backups cannot cover",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="vm",
    description=(
        "A VM in backup scope, or with CBT on, that has a physical-mode RDM (CBT is not available for it) or "
        "an independent disk (snapshot-based backups skip it)."
    ),
    rationale=(
        "Image-level backups work from a VM snapshot and CBT. A physical-mode RDM is neither snapshotted nor "
        "tracked, and independent disks are excluded from snapshots: the backup silently leaves these disks "
        "out (docs/methodology.md#cbt)."
    ),
    remediation=(
        "Protect physical-mode RDMs with an agent in the guest or array snapshots; if a virtual-mode RDM is "
        "acceptable for the application, convert it (virtual mode supports snapshots and CBT).",
        "Independent disks: if they must be backed up, set them to Dependent (VM powered off): "
        "Get-HardDisk -VM '<vm>' -Name '<disk>' | Set-HardDisk -Persistence Persistent.",
        "If the exclusion is intended, record a waiver so the report says so.",
    ),
    references=(KB_CBT,),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    relevant, unknown = backup_relevant(ctx)
    for view in relevant:
        out.checked += 1
        bad = [d for d in view.disks if d.state in (PHYSICAL_RDM, INDEPENDENT)]
        if not bad:
            continue
        vm = view.vm.name
        rdms = [d for d in bad if d.state == PHYSICAL_RDM]
        indep = [d for d in bad if d.state == INDEPENDENT]
        parts = []
        if rdms:
            parts.append("physical-mode RDM " + ", ".join(d.disk.label or d.disk.device_node for d in rdms)
                         + " (no snapshot, no CBT)")
        if indep:
            parts.append("independent disk " + ", ".join(
                f"{d.disk.label or d.disk.device_node} ({disk_mode_words(d.disk.disk_mode)})" for d in indep) + " (not in snapshots)")
        steps = []
        if rdms:
            steps.append("Physical-mode RDMs: back up the data with an agent in the guest or with array snapshots; "
                         "if the application allows a virtual-mode RDM, convert it (virtual mode supports snapshots "
                         "and CBT).")
        for d in indep:
            label = d.disk.label or d.disk.device_node
            steps.append(f"{label}: if it must be backed up, make it dependent with the VM powered off: "
                         f"Get-HardDisk -VM {ps_quote(vm)} -Name {ps_quote(label)} | Set-HardDisk -Persistence "
                         f"Persistent -Confirm:$false; govc: govc vm.disk.change -vm {sh_quote(vm)} -disk.key "
                         f"{d.disk.key} -mode persistent")
        steps.append(META.remediation[-1])
        ev = view.evidence(bad)
        out.findings.append(finding(
            META, view.vc, vm, object_id(view.vc, view.vm.moid),
            "Image-level backups leave out " + "; ".join(parts) + ".",
            evidence=ev, remediation=steps,
        ))
    out.notes += scope_note(unknown)
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss  # the disk is not in the image-level backup at all
group_of = per_check("Disks left out of image-level backups")
