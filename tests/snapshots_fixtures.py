"""Builders for small snapshot/CBT fixtures (used by tests/test_snapshots_*.py and test_cbt_*.py).

A VmBuilder lays out a VM's disks and snapshot chains the way ESXi reports them in
``layoutEx``: every disk is a chain of units (descriptor + extent), base first; taking a
snapshot freezes the current chains into the snapshot's layout and starts a new running
delta on every disk. Sizes are exact byte counts so tests can assert exact totals.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from reporter.core.model import (
    VM,
    Datastore,
    Disk,
    Host,
    LayoutDisk,
    LayoutEx,
    LayoutFile,
    LayoutSnapshot,
    Snapshot,
    SnapshotNode,
    VCenter,
)

GB = 1024**3
MB = 1024**2
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
UUID = "vc-uuid-1"


class VmBuilder:
    def __init__(self, moid: str, name: str, *, datastore: str = "ds1", memory_mb: int = 4096, **vm: Any):
        self.moid, self.name, self.datastore, self.memory_mb = moid, name, datastore, memory_mb
        self.vm_fields = vm
        self.files: list[LayoutFile] = []
        self.disks: list[Disk] = []
        self.chains: dict[int, list[list[int]]] = {}
        self.snap_layouts: list[LayoutSnapshot] = []
        self.nodes: dict[str, dict[str, Any]] = {}  # moid -> node fields (children by moid)
        self.roots: list[str] = []
        self.current: str | None = None
        self._key = 0

    def file(self, name: str, type_: str, size: int | None) -> int:
        self._key += 1
        self.files.append(LayoutFile(key=self._key, name=name, type=type_, size=size, unique_size=size))
        return self._key

    def disk(self, size_gb: float, *, unit: int | None = None, datastore: str | None = None, used: int = 10 * GB,
             controller: str = "scsi", bus: int = 0, **fields: Any) -> int:
        key = 2000 + len(self.disks)
        ds = datastore or self.datastore
        unit = len(self.disks) if unit is None else unit
        path = f"[{ds}] {self.name}/{self.name}_{key}.vmdk"
        self.disks.append(Disk(key=key, label=f"Hard disk {len(self.disks) + 1}", controller=controller, bus_number=bus,
                               unit_number=unit, capacity_bytes=int(size_gb * GB), datastore=ds, backing_file=path,
                               backing_type=fields.pop("backing_type", "flat"),
                               disk_mode=fields.pop("disk_mode", "persistent"), **fields))
        self.chains[key] = [[self.file(path, "diskDescriptor", 500), self.file(path.replace(".vmdk", "-flat.vmdk"),
                                                                                 "diskExtent", used)]]
        return key

    def delta(self, disk_key: int, size: int | None) -> None:
        """Start a new running delta on one disk (what ESXi does at snapshot time)."""
        n = len(self.chains[disk_key])
        base = self.chains[disk_key][0]
        path = self.files[base[0] - 1].name.replace(".vmdk", f"-{n:06d}.vmdk")
        self.chains[disk_key].append([self.file(path, "diskDescriptor", 300),
                                      self.file(path.replace(".vmdk", "-delta.vmdk"), "diskExtent", size)])

    def snapshot(self, moid: str, name: str, *, age_days: float, deltas: dict[int, int | None] | int,
                 memory: bool = False, parent: str | None = "current", vmsn: int = 1 * MB, quiesced: bool = False,
                 state: str | None = None, in_layout: bool = True) -> str:
        """Take a snapshot: freeze the chains, then start the given running deltas (bytes per disk)."""
        parent = self.current if parent == "current" else parent
        data = self.file(f"[{self.datastore}] {self.name}/{self.name}-Snapshot{len(self.nodes) + 1}.vmsn",
                         "snapshotData", vmsn)
        mem = self.file(f"[{self.datastore}] {self.name}/{self.name}-Snapshot{len(self.nodes) + 1}.vmem",
                        "snapshotMemory", self.memory_mb * MB) if memory else -1
        if in_layout:
            self.snap_layouts.append(LayoutSnapshot(
                moid=moid, data_key=data, memory_key=mem,
                disks=[LayoutDisk(key=k, chain=[list(u) for u in c]) for k, c in self.chains.items()]))
        self.nodes[moid] = {"moid": moid, "name": name, "create_time": NOW - timedelta(days=age_days),
                            "state": state or ("poweredOn" if memory else "poweredOff"), "quiesced": quiesced,
                            "children": []}
        if parent is None:
            self.roots.append(moid)
        else:
            self.nodes[parent]["children"].append(moid)
        sizes = deltas if isinstance(deltas, dict) else {k: deltas for k in self.chains}
        for k, size in sizes.items():
            self.delta(k, size)
        self.current = moid
        return moid

    def revert(self, moid: str, deltas: dict[int, int | None] | int) -> None:
        """Revert to a snapshot: the running point restarts from its chains with new deltas."""
        layout = next(s for s in self.snap_layouts if s.moid == moid)
        for d in layout.disks:
            self.chains[d.key] = [list(u) for u in d.chain]
        sizes = deltas if isinstance(deltas, dict) else {k: deltas for k in self.chains}
        for k, size in sizes.items():
            self.delta(k, size)
        self.current = moid

    def _node(self, moid: str) -> SnapshotNode:
        f = dict(self.nodes[moid])
        f["children"] = [self._node(c) for c in f["children"]]
        return SnapshotNode(**f)

    def build(self, *, layout: bool = True) -> VM:
        fields = {"power_state": "poweredOn", "hw_version": "vmx-13", "host": "host-1",
                  "datastores": sorted({d.datastore for d in self.disks if d.datastore}), "memory_mb": self.memory_mb}
        fields.update(self.vm_fields)
        return VM(
            moid=self.moid, name=self.name, disks=self.disks,
            snapshots=[self._node(r) for r in self.roots], current_snapshot=self.current,
            layout_ex=LayoutEx(files=self.files, disks=[LayoutDisk(key=k, chain=c) for k, c in self.chains.items()],
                               snapshots=self.snap_layouts) if layout else None,
            **fields,
        )


def datastore(moid: str, name: str, *, free_gb: float, capacity_gb: float = 1000, type_: str = "VMFS") -> Datastore:
    return Datastore(moid=moid, name=name, type=type_, capacity_bytes=int(capacity_gb * GB),
                     free_bytes=int(free_gb * GB))


def host(moid: str = "host-1", name: str = "esx01", version: str = "8.0.2", build: str = "22380479") -> Host:
    return Host(moid=moid, name=name, version=version, build=build, connection_state="connected")


def snapshot_of(vms: list[VM], datastores: list[Datastore] | None = None, hosts: list[Host] | None = None) -> Snapshot:
    vc = VCenter(name="vc01", host="vc01.example", instance_uuid=UUID,
                 vms={v.moid: v for v in vms},
                 hosts={h.moid: h for h in (hosts or [host()])},
                 datastores={d.moid: d for d in (datastores or [datastore("datastore-1", "ds1", free_gb=500)])})
    return Snapshot(collected_at=NOW, vcenters={UUID: vc})
