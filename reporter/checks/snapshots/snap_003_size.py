"""SNAP-003: snapshots holding much space, absolutely or against the datastore's free space."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_check
from reporter.checks.helpers import counted
from reporter.checks.snapshots import FAMILY
from reporter.checks.snapshots.common import KB_BEST_PRACTICES, delete_steps, vms_read, vms_with_snapshots
from reporter.checks.snapshots.settings import SnapshotSettings
from reporter.core.findings import Severity
from reporter.domain.vm_snapshots import GB

META = CheckMeta(
    id="SNAP-003",
    title="Snapshots hold too much datastore space",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="vm",
    description=(
        "A VM whose snapshots (delta and memory files, from the VM's file layout as vCenter reports it) hold more than the size threshold "
        "(default 100 GB), or whose snapshot files on a datastore reach a share of that datastore's free "
        "space (default 50 %, high from 100 %)."
    ),
    rationale=(
        "Deltas keep growing until they are deleted, up to the size of their base disk. When the "
        "datastore fills, every VM on it that needs to grow a thin disk or a delta stops; deleting the "
        "snapshots then needs free space of its own, worst case the size of the deltas being merged "
        "(KB1025279)."
    ),
    remediation=(
        "Check free space first: deleting needs, worst case, the size of the deltas being merged.",
        "vSphere Client: right-click the VM > Snapshots > Manage Snapshots > Delete All.",
        "PowerCLI: Get-VM -Name '<vm>' | Get-Snapshot | Remove-Snapshot -Confirm:$false",
        "govc: govc snapshot.remove -vm '<vm>' '*'",
    ),
    references=(KB_BEST_PRACTICES,),
    applies_to="VMs whose snapshots could be read",
)


def run(ctx: CheckContext) -> Outcome:
    s = ctx.settings.get(SnapshotSettings)
    out = Outcome()
    unknown: list[str] = []
    out.checked = vms_read(ctx)  # every VM whose snapshots were read: one without any is clean
    for view in vms_with_snapshots(ctx):
        total = view.total_bytes
        if total is None:
            unknown.append(view.vm.name)
        rows = view.space_evidence()
        # A datastore with no free space at all has no percentage (x / 0): it is past every tier.
        over_free = [r for r in rows if r.get("no_free_space")
                     or (r["pct_of_free"] is not None and r["pct_of_free"] >= s.pct_of_free_warn)]
        over_size = total is not None and total > s.size_warn_gb * GB
        if not over_size and not over_free:
            continue
        high = any(r.get("no_free_space") or r["pct_of_free"] >= s.pct_of_free_high for r in over_free)
        reasons = []
        if over_size:
            reasons.append(f"snapshots hold {total / GB:.1f} GB (threshold {s.size_warn_gb:g} GB)")  # type: ignore[operator]
        for r in over_free:
            if r.get("no_free_space"):
                reasons.append(f"{r['snapshot_gb']:g} GB on {r['datastore']}, which has no free space left "
                               "(deleting or consolidating cannot merge anything until space is freed)")
                continue
            reasons.append(f"{r['snapshot_gb']:g} GB on {r['datastore']} = {r['pct_of_free']:g} % of its "
                           f"{r['free_gb']:g} GB free space")
        caveat = view.caveat()
        msg = "Snapshot space: " + "; ".join(reasons) + "."
        if caveat:
            msg += " (On vSAN and vVols these sizes are not precise.)"
        ev = view.base_evidence()
        ev.update({
            "size_warn_gb": s.size_warn_gb,
            "pct_of_free_warn": s.pct_of_free_warn,
            "pct_of_free_high": s.pct_of_free_high,
            "snapshots": [view.snapshot_evidence(i) for i in view.infos],
        })
        if view.previous is not None:
            growths = [g for g in (view.growth(i) for i in view.infos) if g is not None]
            ev["growth_since_last_run_gb"] = round(sum(growths) / GB, 2) if growths else None
        out.findings.append(finding(
            META, view.vc, view.vm.name, object_id(view.vc, view.vm.moid), msg, evidence=ev,
            remediation=delete_steps(view), severity=Severity.high if high else Severity.medium,
        ))
    if unknown:
        out.notes.append(f"{counted(len(unknown), 'VM')} {'has' if len(unknown) == 1 else 'have'} snapshots of unknown size (vCenter did not report all of the VM's file layout): "
                         + ", ".join(sorted(unknown)[:20]) + (" …" if len(unknown) > 20 else ""))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss  # a full datastore stops every VM on it
group_of = per_check("Snapshots holding too much datastore space")
