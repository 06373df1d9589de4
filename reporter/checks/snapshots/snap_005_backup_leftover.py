"""SNAP-005: snapshots that backup software took and did not remove (docs/methodology.md#snapshot-hygiene)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_check
from reporter.checks.snapshots import FAMILY
from reporter.checks.snapshots.common import KB_BEST_PRACTICES, delete_steps, vms_read, vms_with_snapshots
from reporter.checks.snapshots.settings import SnapshotSettings
from reporter.core.findings import Severity

META = CheckMeta(
    id="SNAP-005",
    title="Backup snapshot left behind",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="vm",
    description=(
        "A snapshot whose name matches a backup product's naming ([thresholds.snapshots] backup_snapshot_patterns) and "
        "that is older than the grace period (default 24 h), so no job is still using it."
    ),
    rationale=(
        "Backup products take a snapshot per job and delete it at the end; a job that fails midway leaves "
        "it behind. The delta then grows unnoticed, the next jobs may stack more snapshots or fail, and "
        "backups of the VM may be silently missing."
    ),
    remediation=(
        "Confirm in the backup product that no job is running for this VM.",
        "Delete the snapshot (Snapshot Manager, Remove-Snapshot or govc snapshot.remove), after checking free space.",
        "Look at the failed job's log; if the backup proxy still has this VM's disks hot-added, remove them from the proxy first.",
    ),
    references=(KB_BEST_PRACTICES,),
    applies_to="VMs whose snapshots could be read",
)


def matching_pattern(name: str, patterns: list[str]) -> str | None:
    low = name.casefold()
    return next((p for p in patterns if p and p.casefold() in low), None)


def run(ctx: CheckContext) -> Outcome:
    s = ctx.settings.get(SnapshotSettings)
    grace_days = s.backup_snapshot_grace_hours / 24.0
    out = Outcome()
    out.checked = vms_read(ctx)  # every VM whose snapshots were read: one without any is clean
    for view in vms_with_snapshots(ctx):
        hits = []
        for info in view.infos:
            pattern = matching_pattern(info.name, s.backup_snapshot_patterns)
            if pattern is None:
                continue
            if info.age_days is not None and info.age_days < grace_days:
                continue  # may belong to a job that is still running
            ev = view.snapshot_evidence(info)
            ev["pattern"] = pattern
            hits.append((info, ev))
        if not hits:
            continue
        names = [i.name for i, _ in hits]
        ev = view.base_evidence()
        ev.update({"backup_snapshots": [e for _, e in hits], "grace_hours": s.backup_snapshot_grace_hours})
        first = hits[0][0]
        age = "of unknown age" if first.age_days is None else f"{first.age_days:.1f} days old"
        msg = (f"Backup snapshot '{first.name}' ({age}) was left behind"
               + (f", and {len(hits) - 1} more" if len(hits) > 1 else "") + ".")
        steps = ["Confirm in the backup product that no job is running for this VM (a running job owns its snapshot)."]
        steps += delete_steps(view, names)
        steps.append("Find out why the job did not remove it (job log); if the backup proxy still has this VM's disks "
                     "hot-added, remove them from the proxy VM first (do not delete the files).")
        out.findings.append(finding(META, view.vc, view.vm.name, object_id(view.vc, view.vm.moid), msg,
                                    evidence=ev, remediation=steps))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss  # abandoned backup snapshots grow and block the next backup
group_of = per_check("Backup snapshots left behind")
