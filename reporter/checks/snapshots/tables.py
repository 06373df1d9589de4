"""Detail tables of the snapshots family: every snapshot, and space per datastore."""

from __future__ import annotations

from reporter.checks.base import CheckContext
from reporter.checks.snapshots import FAMILY
from reporter.checks.snapshots.common import vms_with_snapshots
from reporter.checks.tables import Scalar, Table, register_tables
from reporter.domain.vm_snapshots import datastore_totals, gb

SUMMARY_ROW_LIMIT = 200  # more rows than this go to XLSX/CSV only


@register_tables(FAMILY.id)
def snapshot_tables(ctx: CheckContext) -> list[Table]:
    return [snapshot_list(ctx), datastore_space(ctx)]


def snapshot_list(ctx: CheckContext) -> Table:
    with_history = ctx.previous is not None
    rows: list[list[Scalar]] = []
    for view in vms_with_snapshots(ctx):
        note = view.caveat()
        for info in view.infos:
            growth = view.growth(info)
            rows.append([
                view.vc.name, view.vm.name, info.name,
                info.create_time.isoformat(timespec="minutes") if info.create_time else None,
                None if info.age_days is None else round(info.age_days, 1),
                gb(info.space.size_bytes), info.depth, info.is_current, info.quiesced, info.memory,
                gb(growth) if with_history else None,
                info.space.reason or note,
            ])
    rows.sort(key=lambda r: (str(r[0]), str(r[1]), str(r[6]), str(r[3])))
    return Table(
        id="snapshots",
        family=FAMILY.id,
        title="Snapshots",
        columns=["vCenter", "VM", "Snapshot", "Created (UTC)", "Age (days)", "Size (GB)", "Depth", "Current",
                 "Quiesced", "Memory", "Growth since last run (GB)", "Note"],
        rows=rows,
        note=(
            "Size = the snapshot's own delta and memory files, from the VM's file layout as vCenter reports it; the running delta counts toward the "
            "current snapshot (docs/methodology.md#snapshot-space). Age at collection time. "
            + ("Growth compares with the previous run's snapshot file."
               if with_history else "Growth needs a previous run (history); empty on the first run.")
        ),
        in_summary=len(rows) <= SUMMARY_ROW_LIMIT,
    )


def datastore_space(ctx: CheckContext) -> Table:
    rows: list[list[Scalar]] = []
    for t in datastore_totals(ctx.snapshot):
        rows.append([
            t.vcenter, t.datastore, t.type, gb(t.snapshot_bytes), gb(t.free_bytes), gb(t.capacity_bytes),
            t.pct_of_free, len(t.vms),
            ", ".join(sorted(t.unknown_vms)) or None,
        ])
    return Table(
        id="snapshot_space",
        family=FAMILY.id,
        title="Space held by snapshots per datastore",
        columns=["vCenter", "Datastore", "Type", "Snapshot GB", "Free GB", "Capacity GB", "Snapshot % of free",
                 "VMs", "VMs of unknown snapshot size"],
        rows=rows,
        note=("Deleting snapshots needs free space, worst case the size of the deltas being merged (KB1025279). "
              "On vSAN and vVols these sizes are not precise (a delta disk is an object there)."),
        chart={"type": "bar", "x": "Datastore", "y": ["Snapshot GB", "Free GB"]},
    )
