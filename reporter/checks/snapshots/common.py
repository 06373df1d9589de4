"""What the snapshot checks share: the per-VM view, evidence, commands, references."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reporter.checks.base import CheckContext
from reporter.checks.helpers import kb, ps_quote, sh_quote
from reporter.core.model import VM, VCenter
from reporter.domain.vm_snapshots import (
    SnapshotInfo,
    gb,
    growth_bytes,
    object_store_caveat,
    previous_sizes,
    snapshot_infos,
    sum_by_datastore,
    total_size,
)

KB_BEST_PRACTICES = kb("1025279", "Best practices for using snapshots in the vSphere environment")
KB_CONSOLIDATE = kb("2003638", "Consolidating snapshots in vSphere 5.x/6.x")


@dataclass(frozen=True)
class VmSnapshots:
    """One VM's snapshots as the checks see them (now = the collection time)."""

    vc: VCenter
    vm: VM
    infos: list[SnapshotInfo]
    previous: dict[str, int | None] | None  # snapshot moid -> size in the previous run

    @property
    def total_bytes(self) -> int | None:
        return total_size(self.infos)

    def growth(self, info: SnapshotInfo) -> int | None:
        return growth_bytes(info, self.previous)

    def free_bytes(self, datastore_name: str) -> int | None:
        for d in self.vc.datastores.values():
            if d.name == datastore_name:
                return d.free_bytes
        return None

    def caveat(self) -> str | None:
        names = {ds for i in self.infos for ds in i.space.by_datastore}
        return object_store_caveat(self.vm, self.vc, names)

    def size_note(self) -> str | None:
        """Why the total is unknown (first reason), else the vSAN/vVols caveat, else None."""
        for i in self.infos:
            if i.space.reason:
                return i.space.reason
        return self.caveat()

    def snapshot_evidence(self, info: SnapshotInfo) -> dict[str, Any]:
        ev: dict[str, Any] = {
            "name": info.name,
            "created": info.create_time.isoformat() if info.create_time else None,
            "age_days": None if info.age_days is None else round(info.age_days, 1),
            "size_gb": gb(info.space.size_bytes),
            "depth": info.depth,
            "current": info.is_current,
            "quiesced": info.quiesced,
            "memory": info.memory,
        }
        if info.space.reason:
            ev["size_note"] = info.space.reason
        if self.previous is not None:
            ev["growth_since_last_run_gb"] = gb(self.growth(info))
            if info.moid not in self.previous:
                ev["new_since_last_run"] = True
        return ev

    def space_evidence(self) -> list[dict[str, Any]]:
        """Per datastore: what deleting all snapshots has to merge (worst case) against free space."""
        delta = sum_by_datastore(self.infos, delta_only=True)
        held = sum_by_datastore(self.infos)
        out = []
        for ds in sorted(held):
            free = self.free_bytes(ds)
            row: dict[str, Any] = {
                "datastore": ds,
                "snapshot_gb": gb(held[ds]),
                "merge_worst_case_gb": gb(delta.get(ds, 0)),
                "free_gb": gb(free),
                "pct_of_free": None if not free else round(100.0 * held[ds] / free, 1),
            }
            if free == 0 and held[ds] > 0:
                # A full datastore: no percentage exists, and it is the worst case, not an unknown one.
                row["no_free_space"] = True
            out.append(row)
        return out

    def base_evidence(self) -> dict[str, Any]:
        ev: dict[str, Any] = {
            "snapshot_count": len(self.infos),
            "total_size_gb": gb(self.total_bytes),
            "datastores": self.space_evidence(),
        }
        note = self.size_note()
        if note:
            ev["size_note"] = note
        return ev


def vms_with_snapshots(ctx: CheckContext) -> Iterator[VmSnapshots]:
    # Six checks and the tables walk the same views: built once per check run.
    return iter(ctx.memo("snapshots.vms", lambda: list(_views(ctx))))


def vms_read(ctx: CheckContext) -> int:
    """How many VMs the snapshot checks looked at: every VM whose snapshot tree was read (a VM without
    snapshots is checked and clean), not only those with snapshots; a VM whose tree could not be read
    is not counted (the check's notes say so)."""
    return ctx.memo("snapshots.read", lambda: sum(
        1 for vc in ctx.snapshot.vcenters.values() for vm in vc.vms.values() if "snapshot" not in vm.unreadable))


def _views(ctx: CheckContext) -> Iterator[VmSnapshots]:
    for vc in ctx.snapshot.vcenters.values():
        # Ages at the time this vCenter was read: in a report merged from separate collection jobs
        # the snapshot's own time is the oldest job's, hours or days before the others'.
        now = vc.collected_at or ctx.snapshot.collected_at
        for vm in vc.vms.values():
            if not vm.snapshots:
                continue
            yield VmSnapshots(vc, vm, snapshot_infos(vm, now), previous_sizes(ctx.previous, vc.instance_uuid, vm.moid))


def free_space_step(view: VmSnapshots) -> str:
    """Remediation step 1: the space a delete needs, with this VM's numbers."""
    parts = []
    for row in view.space_evidence():
        free = "unknown" if row["free_gb"] is None else f"{row['free_gb']:g} GB free"
        parts.append(f"{row['datastore']}: up to {row['merge_worst_case_gb']:g} GB to merge, {free}")
    where = "; ".join(parts) if parts else "sizes unknown (vCenter did not report the VM's file layout): check the VM folder in the datastore browser"
    return (
        "Check free space first: deleting snapshots merges their deltas into the parent disk and needs, "
        f"worst case, as much free space as the deltas being merged ({where}). If it does not fit, free "
        "space or Storage vMotion other VMs away first."
    )


def delete_steps(view: VmSnapshots, names: list[str] | None = None) -> list[str]:
    """Concrete delete commands for this VM: the named snapshots, or all of them."""
    vm = view.vm.name
    steps = [free_space_step(view)]
    if names:
        listed = ", ".join(f"'{n}'" for n in names)
        steps.append(
            f"vSphere Client: right-click {vm} > Snapshots > Manage Snapshots, select {listed} and click Delete "
            "(one at a time; the VM is stunned briefly while each merge finishes).")
        steps += [f"PowerCLI: Get-VM -Name {ps_quote(vm)} | Get-Snapshot -Name {ps_quote(n)} | Remove-Snapshot -Confirm:$false"
                  for n in names]
        steps += [f"govc: govc snapshot.remove -vm {sh_quote(vm)} {sh_quote(n)}" for n in names]
    else:
        steps += [
            f"vSphere Client: right-click {vm} > Snapshots > Manage Snapshots > Delete All.",
            f"PowerCLI: Get-VM -Name {ps_quote(vm)} | Get-Snapshot | Remove-Snapshot -Confirm:$false",
            f"govc: govc snapshot.remove -vm {sh_quote(vm)} '*'",
        ]
    steps.append("Run it outside peak hours: a large or old delta takes long to merge and slows the VM meanwhile "
                 "(KB1025279). Afterwards check the VM no longer shows 'Consolidation needed'.")
    return steps


