"""SNAP-001: snapshots kept longer than VMware's guidance (KB1025279: 24–72 hours)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import GroupKey, Risk
from reporter.checks.helpers import counted
from reporter.checks.snapshots import FAMILY
from reporter.checks.snapshots.common import KB_BEST_PRACTICES, delete_steps, vms_read, vms_with_snapshots
from reporter.checks.snapshots.settings import SnapshotSettings
from reporter.core.findings import Finding, Severity, Status

META = CheckMeta(
    id="SNAP-001",
    title="Snapshot older than the retention threshold",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="vm",
    description=(
        "A VM with a snapshot older than the warning age (default 3 days, medium) or the high age "
        "(default 7 days, high). Age is measured at collection time."
    ),
    rationale=(
        "A snapshot is not a backup: it depends on the base disk and every delta before it. Its delta "
        "grows with every write, up to the size of the base disk, until the datastore fills; every read "
        "walks the chain, so I/O slows; and the older a delta, the longer and riskier its merge "
        "(KB1025279: keep a snapshot no longer than 24–72 hours)."
    ),
    remediation=(
        "Confirm with the VM owner that the snapshot is no longer needed (it is not a backup).",
        "Check free space first: deleting merges the deltas and needs, worst case, their size free on the datastore.",
        "vSphere Client: right-click the VM > Snapshots > Manage Snapshots, select the snapshot > Delete.",
        "PowerCLI: Get-VM -Name '<vm>' | Get-Snapshot -Name '<snapshot>' | Remove-Snapshot -Confirm:$false",
        "govc: govc snapshot.remove -vm '<vm>' '<snapshot>'",
    ),
    references=(KB_BEST_PRACTICES,),
    applies_to="VMs whose snapshots could be read",
)


def run(ctx: CheckContext) -> Outcome:
    s = ctx.settings.get(SnapshotSettings)
    out = Outcome()
    undated = 0
    out.checked = vms_read(ctx)  # every VM whose snapshots were read: one without any is clean
    for view in vms_with_snapshots(ctx):
        aged = [i for i in view.infos if i.age_days is not None and i.age_days > s.age_warn_days]
        undated += sum(1 for i in view.infos if i.age_days is None)
        if not aged:
            continue
        oldest = max(aged, key=lambda i: i.age_days or 0.0)
        high = (oldest.age_days or 0.0) > s.age_high_days
        ev = view.base_evidence()
        ev.update({
            "oldest_snapshot": oldest.name,
            "oldest_age_days": round(oldest.age_days or 0.0, 1),
            "age_warn_days": s.age_warn_days,
            "age_high_days": s.age_high_days,
            "past_high_age": high,  # the tier decided on the exact age (oldest_age_days is rounded)
            "snapshots_over_threshold": [view.snapshot_evidence(i) for i in aged],
        })
        names = [i.name for i in sorted(aged, key=lambda i: -(i.age_days or 0.0))]
        tier_days = s.age_high_days if high else s.age_warn_days
        n_tier = sum(1 for i in aged if (i.age_days or 0.0) > tier_days)
        msg = (f"Snapshot '{oldest.name}' is {ev['oldest_age_days']:g} days old ({n_tier} of {counted(len(view.infos), 'snapshot')} "
               f"more than {tier_days:g} days old; VMware advises at most 72 hours).")
        out.findings.append(finding(
            META, view.vc, view.vm.name, object_id(view.vc, view.vm.moid), msg, evidence=ev,
            remediation=["Confirm with the VM owner that these snapshots are no longer needed: a snapshot is not a backup."]
            + delete_steps(view, names),
            severity=Severity.high if high else Severity.medium,
            status=Status.fail if high else Status.warn,
        ))
    if undated:
        out.notes.append(f"{counted(undated, 'snapshot')} {'has' if undated == 1 else 'have'} no creation time; "
                         "their age is unknown.")
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss  # old snapshots grow until the datastore fills; deletion gets longer and riskier


def group_of(f: Finding) -> GroupKey:
    """Past the high threshold, or only past the warning one: two urgencies, one fix.

    The tier is the one ``run`` decided on the exact age ("older than", strictly); the rounded
    ``oldest_age_days`` is only the fallback for findings that lack ``past_high_age``: a 6.97-day
    snapshot shows 7.0 days but is not older than 7 days."""
    age, high = f.evidence.get("oldest_age_days"), f.evidence.get("age_high_days")
    decided = f.evidence.get("past_high_age")
    if isinstance(decided, bool):
        past = decided
    else:
        past = isinstance(age, (int, float)) and isinstance(high, (int, float)) and age > high
    if past and isinstance(high, (int, float)):
        return GroupKey("past-high", f"Snapshots older than {high:g} days")
    return GroupKey("past-warning", "Snapshots past the warning age")
