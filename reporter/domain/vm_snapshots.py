"""Pure functions over a VM's snapshot tree and ``layoutEx``: depth, age, size on disk.

Nothing here reads vCenter or settings; the snapshot checks and tables build on it.
Facts from shared/docs/methodology.md#snapshot-space (KB1025279, KB2003638).

Size on disk (docs/methodology.md#snapshot-space)
----------------------------------
``layoutEx.file[]`` lists every file of the VM with its ``size``; ``layoutEx.disk[].chain``
lists each disk's chain of disk units (descriptor + extents), base first, running delta
last; ``layoutEx.snapshot[]`` gives, per snapshot, its data file (``.vmsn``), memory file
(``.vmem``, ``memoryKey``; -1 or absent when the snapshot has no memory) and the disk
chains as they were when it was taken. A snapshot's own space is

    its data and memory files
    + the delta files in its chains that its parent's chains do not contain
    (+ for the current snapshot: the running point's delta, the last link of disk[].chain)

which is how RVTools and PowerCLI attribute space. Two guards the literal rule needs:

* the base disk (the first link of every chain) is never snapshot space; without this a
  root snapshot, whose parent has no chains, would be charged with the whole base disk,
  and so would the snapshot taken first after a disk was added;
* the running delta goes to the *current* snapshot (``snapshot.currentSnapshot``), which
  is the newest one unless the VM was reverted: after a revert the running point hangs
  off the snapshot it was reverted to, and its delta holds the writes made since.

``size`` is used, not ``uniqueSize``: ``size`` is what the datastore browser, PowerCLI
(``Get-Snapshot`` SizeGB) and RVTools show and what a delete/consolidate has to merge;
``uniqueSize`` only subtracts blocks shared with other files (linked clones, array
snapshots), which delta files of ordinary snapshots do not have. A file whose size is not
reported makes its snapshot's size unknown rather than silently smaller.

Caveats stated in evidence, never hidden: no ``layoutEx`` (privilege, old version) =
"size unknown"; on vSAN and vVols a delta is an object, and layoutEx may show only the
descriptor or the provisioned size, so the figure is not precise. Known limit: for a linked
clone, the clone's own delta (created at clone time, not by a snapshot) is counted as
space of its first snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from reporter.core.model import VM, Datastore, LayoutDisk, LayoutEx, LayoutFile, LayoutSnapshot, Snapshot, SnapshotNode, VCenter

GB = 1024**3

SIZE_UNKNOWN_NO_LAYOUT = "size unknown: vCenter did not report the VM's file layout (no privilege or an old vCenter)"
SIZE_UNKNOWN_NOT_IN_LAYOUT = "size unknown: this snapshot is not in the VM's file layout as vCenter reports it"
SIZE_UNKNOWN_FILE = "size unknown: vCenter does not report the size of one of its files"
OBJECT_STORE_TYPES = {"vsan": "vSAN", "vvol": "vVols"}
# A virtual disk's mode (VirtualDiskMode) in the vSphere Client's words, as the reports print it.
DISK_MODES = {
    "persistent": "Dependent",
    "independent_persistent": "Independent - Persistent",
    "independent_nonpersistent": "Independent - Nonpersistent",
    "nonpersistent": "Nonpersistent",
    "undoable": "Undoable",
    "append": "Append",
}


def disk_mode_words(mode: str | None) -> str | None:
    """``independent_persistent`` -> "Independent - Persistent"; a mode this table lacks as it came."""
    return DISK_MODES.get(mode, mode) if mode else mode

# An RDM's compatibility mode (VirtualDiskRawDiskMappingVer1BackingInfo.compatibilityMode) as the
# vSphere Client shows it ("Compatibility Mode: Physical").
COMPATIBILITY_MODES = {"physicalMode": "Physical", "virtualMode": "Virtual"}


def compatibility_mode_words(mode: str | None) -> str | None:
    """``physicalMode`` -> "Physical"; a mode this table lacks as it came; None for a disk that is not an RDM."""
    return COMPATIBILITY_MODES.get(mode, mode) if mode else mode


_DATASTORE_IN_PATH = re.compile(r"^\[([^\]]+)\]")


# --------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class FlatSnapshot:
    """One node of the tree with its place in it (depth 1 = a root snapshot)."""

    node: SnapshotNode
    depth: int
    parent: str | None  # parent snapshot moid, None for a root

    @property
    def moid(self) -> str:
        return self.node.moid


def flatten_tree(vm: VM) -> list[FlatSnapshot]:
    """Every snapshot of the VM, parents before children, in tree order."""
    out: list[FlatSnapshot] = []
    stack: list[tuple[SnapshotNode, int, str | None]] = [(n, 1, None) for n in reversed(vm.snapshots)]
    while stack:
        node, depth, parent = stack.pop()
        out.append(FlatSnapshot(node, depth, parent))
        stack.extend((c, depth + 1, node.moid) for c in reversed(node.children))
    return out


def current_chain(vm: VM) -> list[FlatSnapshot]:
    """The snapshots between the base disk and the running point, root first.

    Empty without snapshots. When ``currentSnapshot`` is unset or not in the tree (it
    should not happen), the deepest branch is used so that a long chain is never
    under-reported.
    """
    flat = flatten_tree(vm)
    if not flat:
        return []
    by_moid = {f.moid: f for f in flat}
    leaf: FlatSnapshot | None = by_moid.get(vm.current_snapshot or "") or max(flat, key=lambda f: f.depth)
    chain: list[FlatSnapshot] = []
    while leaf is not None:
        chain.append(leaf)
        leaf = by_moid.get(leaf.parent) if leaf.parent else None
    return chain[::-1]


def current_chain_depth(vm: VM) -> int:
    """How many snapshots the VM's running point sits on (0 without snapshots)."""
    return len(current_chain(vm))


def age_days(create_time: datetime | None, now: datetime) -> float | None:
    if create_time is None:
        return None
    return (now - create_time).total_seconds() / 86400.0


def oldest_snapshot(vm: VM) -> SnapshotNode | None:
    dated = [f.node for f in flatten_tree(vm) if f.node.create_time is not None]
    return min(dated, key=lambda n: n.create_time) if dated else None  # type: ignore[arg-type,return-value]


def has_memory(node: SnapshotNode, layout: LayoutSnapshot | None, files: dict[int, LayoutFile]) -> bool | None:
    """Memory included: whether layoutEx names a memory file, else the power state it was taken in.

    ``memoryKey`` (vSphere API 5.0+) is -1 for a snapshot without memory. Without it, a
    snapshot of a powered-on VM records state ``poweredOn`` only when memory was included;
    without memory the VM is recorded as powered off (docs/methodology.md#snapshot-space).
    """
    if layout is not None and layout.memory_key is not None:
        return layout.memory_key in files
    if node.state is None:
        return None
    return node.state == "poweredOn"


# --------------------------------------------------------------------------- sizes


def datastore_of_path(path: str) -> str | None:
    """``"[ds1] vm/vm-000001.vmdk"`` -> ``"ds1"``."""
    m = _DATASTORE_IN_PATH.match(path)
    return m.group(1) if m else None


@dataclass(frozen=True)
class SnapshotSpace:
    """The files a snapshot owns and their bytes (None = unknown, ``reason`` says why)."""

    moid: str
    file_keys: tuple[int, ...] = ()
    size_bytes: int | None = None
    disk_bytes: int | None = None  # delta files only: what a delete/consolidate merges
    memory_bytes: int | None = None  # .vmem (0 without memory)
    by_datastore: dict[str, int] = field(default_factory=dict)  # datastore name -> bytes
    delta_by_datastore: dict[str, int] = field(default_factory=dict)  # delta files only
    reason: str | None = None  # why the size is unknown


def _chain_keys(disks: Iterable[LayoutDisk]) -> set[int]:
    keys: set[int] = set()
    for d in disks:
        for link in d.chain:
            keys.update(link)
    return keys


def _base_keys(layout: LayoutEx) -> set[int]:
    base: set[int] = set()
    for d in list(layout.disks) + [d for s in layout.snapshots for d in s.disks]:
        if d.chain:
            base.update(d.chain[0])
    return base


def snapshot_spaces(vm: VM) -> dict[str, SnapshotSpace]:
    """Own space of every snapshot in the VM's tree, keyed by snapshot moid."""
    flat = flatten_tree(vm)
    layout = vm.layout_ex
    if layout is None:
        return {f.moid: SnapshotSpace(f.moid, reason=SIZE_UNKNOWN_NO_LAYOUT) for f in flat}
    files = {f.key: f for f in layout.files}
    by_moid = {s.moid: s for s in layout.snapshots}
    base = _base_keys(layout)
    in_any_snapshot = _chain_keys(d for s in layout.snapshots for d in s.disks)

    current = vm.current_snapshot if any(f.moid == vm.current_snapshot for f in flat) else None
    if current is None and flat:
        # No currentSnapshot (should not happen): give the running delta to the newest one.
        dated = [f for f in flat if f.node.create_time is not None]
        current = max(dated, key=lambda f: f.node.create_time).moid if dated else flat[-1].moid  # type: ignore[arg-type,return-value]
    running: set[int] = set()
    for d in layout.disks:
        if len(d.chain) > 1:
            running.update(k for k in d.chain[-1] if k not in base and k not in in_any_snapshot)

    out: dict[str, SnapshotSpace] = {}
    for f in flat:
        snap_layout = by_moid.get(f.moid)
        if snap_layout is None:
            out[f.moid] = SnapshotSpace(f.moid, reason=SIZE_UNKNOWN_NOT_IN_LAYOUT)
            continue
        parent_layout = by_moid.get(f.parent) if f.parent else None
        parent_keys = _chain_keys(parent_layout.disks) if parent_layout is not None else set()
        delta = _chain_keys(snap_layout.disks) - parent_keys - base
        if f.moid == current:
            delta |= running
        meta = [k for k in (snap_layout.data_key, snap_layout.memory_key) if k is not None and k in files]
        out[f.moid] = _space(f.moid, files, delta, meta, snap_layout.memory_key)
    return out


def _space(moid: str, files: dict[int, LayoutFile], delta: set[int], meta: list[int],
           memory_key: int | None) -> SnapshotSpace:
    keys = sorted(delta) + [k for k in meta if k not in delta]
    raw = {k: files[k].size for k in keys if k in files}
    if any(v is None for v in raw.values()):
        return SnapshotSpace(moid, tuple(keys), reason=SIZE_UNKNOWN_FILE)
    sizes: dict[int, int] = {k: v for k, v in raw.items() if v is not None}
    by_ds: dict[str, int] = {}
    delta_by_ds: dict[str, int] = {}
    for k, size in sizes.items():
        ds = datastore_of_path(files[k].name) or "?"
        by_ds[ds] = by_ds.get(ds, 0) + size
        if k in delta:
            delta_by_ds[ds] = delta_by_ds.get(ds, 0) + size
    disk = sum(sizes[k] for k in delta if k in sizes)
    memory = sizes.get(memory_key, 0) if memory_key is not None else 0
    return SnapshotSpace(moid, tuple(keys), sum(sizes.values()), disk, memory, by_ds, delta_by_ds)


def leftover_delta_bytes(vm: VM) -> dict[str, int] | None:
    """Delta files a VM without snapshots still runs on (what a consolidation merges).

    Per datastore name; None when it cannot be told (no layoutEx, the VM still has
    snapshots, or a size is missing). An empty dict = no delta left.
    """
    layout = vm.layout_ex
    if layout is None or vm.snapshots:
        return None
    files = {f.key: f for f in layout.files}
    out: dict[str, int] = {}
    for d in layout.disks:
        for link in d.chain[1:]:
            for k in link:
                f = files.get(k)
                if f is None or f.size is None:
                    return None
                ds = datastore_of_path(f.name) or "?"
                out[ds] = out.get(ds, 0) + f.size
    return out


def object_store_caveat(vm: VM, vc: VCenter, datastore_names: Iterable[str] = ()) -> str | None:
    """Evidence text when the VM's snapshot files live on vSAN or vVols (sizes not precise)."""
    by_name = {d.name: d for d in vc.datastores.values()}
    stores: list[Datastore] = [vc.datastores[m] for m in vm.datastores if m in vc.datastores]
    stores += [by_name[n] for n in datastore_names if n in by_name]
    kinds = sorted({OBJECT_STORE_TYPES[(d.type or "").lower()] for d in stores
                    if (d.type or "").lower() in OBJECT_STORE_TYPES})
    if not kinds:
        return None
    # Short enough to print whole in a table cell (a group's "Size note" column).
    return (f"On {' and '.join(kinds)} this size is not precise: a delta disk is an object there, and vCenter may "
            "report only its descriptor or its provisioned size (docs/methodology.md#snapshot-space).")


# --------------------------------------------------------------------------- per-VM view


@dataclass(frozen=True)
class SnapshotInfo:
    """What reports show for one snapshot."""

    moid: str
    name: str
    description: str | None
    create_time: datetime | None
    age_days: float | None
    depth: int
    parent: str | None
    is_current: bool
    quiesced: bool | None
    memory: bool | None
    space: SnapshotSpace

    @property
    def size_bytes(self) -> int | None:
        return self.space.size_bytes


def snapshot_infos(vm: VM, now: datetime) -> list[SnapshotInfo]:
    spaces = snapshot_spaces(vm)
    layout = vm.layout_ex
    files: dict[int, LayoutFile] = {f.key: f for f in layout.files} if layout else {}
    by_moid = {s.moid: s for s in layout.snapshots} if layout else {}
    return [
        SnapshotInfo(
            moid=f.moid, name=f.node.name, description=f.node.description, create_time=f.node.create_time,
            age_days=age_days(f.node.create_time, now), depth=f.depth, parent=f.parent,
            is_current=f.moid == vm.current_snapshot, quiesced=f.node.quiesced,
            memory=has_memory(f.node, by_moid.get(f.moid), files), space=spaces[f.moid],
        )
        for f in flatten_tree(vm)
    ]


def total_size(infos: Iterable[SnapshotInfo]) -> int | None:
    """Sum of the snapshots' own sizes; None when any of them is unknown."""
    total = 0
    for i in infos:
        if i.space.size_bytes is None:
            return None
        total += i.space.size_bytes
    return total


def sum_by_datastore(infos: Iterable[SnapshotInfo], *, delta_only: bool = False) -> dict[str, int]:
    """Known bytes per datastore name (snapshots of unknown size contribute nothing)."""
    out: dict[str, int] = {}
    for i in infos:
        part = i.space.delta_by_datastore if delta_only else i.space.by_datastore
        for ds, b in part.items():
            out[ds] = out.get(ds, 0) + b
    return out


def previous_sizes(previous: Snapshot | None, vcenter_uuid: str, vm_moid: str) -> dict[str, int | None] | None:
    """Snapshot moid -> own size in the previous run's snapshot file.

    None when there is no previous run or it did not cover this vCenter (no history to
    compare with); an empty dict when the VM did not exist then (all its snapshots are new).
    """
    if previous is None:
        return None
    vc = previous.vcenters.get(vcenter_uuid)
    if vc is None:
        return None
    vm = vc.vms.get(vm_moid)
    if vm is None:
        return {}
    return {m: s.size_bytes for m, s in snapshot_spaces(vm).items()}


def growth_bytes(info: SnapshotInfo, previous: dict[str, int | None] | None) -> int | None:
    """Growth since the previous run; None without history, for a new snapshot or unknown size."""
    if previous is None or info.moid not in previous:
        return None
    before = previous[info.moid]
    if before is None or info.space.size_bytes is None:
        return None
    return info.space.size_bytes - before


def gb(value: int | None, digits: int = 2) -> float | None:
    return None if value is None else round(value / GB, digits)


# --------------------------------------------------------------------------- fleet


@dataclass
class DatastoreSnapshotTotal:
    vcenter: str
    datastore: str  # name
    moid: str | None
    type: str | None
    capacity_bytes: int | None
    free_bytes: int | None
    snapshot_bytes: int = 0
    vms: set[str] = field(default_factory=set)  # VM names holding snapshot space here
    unknown_vms: set[str] = field(default_factory=set)  # VMs with snapshots of unknown size

    @property
    def pct_of_free(self) -> float | None:
        if not self.free_bytes:
            return None
        return round(100.0 * self.snapshot_bytes / self.free_bytes, 1)


def datastore_totals(snapshot: Snapshot) -> list[DatastoreSnapshotTotal]:
    """Space held by snapshots per datastore, next to its free space."""
    out: dict[tuple[str, str], DatastoreSnapshotTotal] = {}
    for vc in snapshot.vcenters.values():
        by_name = {d.name: d for d in vc.datastores.values()}

        def entry(name: str, vc: VCenter = vc, by_name: dict[str, Datastore] = by_name) -> DatastoreSnapshotTotal:
            key = (vc.name, name)
            if key not in out:
                d = by_name.get(name)
                out[key] = DatastoreSnapshotTotal(
                    vcenter=vc.name, datastore=name, moid=d.moid if d else None, type=d.type if d else None,
                    capacity_bytes=d.capacity_bytes if d else None, free_bytes=d.free_bytes if d else None)
            return out[key]

        for vm in vc.vms.values():
            if not vm.snapshots:
                continue
            for info in snapshot_infos(vm, snapshot.collected_at):
                if info.space.size_bytes is None:
                    for m in vm.datastores:
                        if m in vc.datastores:
                            entry(vc.datastores[m].name).unknown_vms.add(vm.name)
                    continue
                for ds, b in info.space.by_datastore.items():
                    e = entry(ds)
                    e.snapshot_bytes += b
                    if b:
                        e.vms.add(vm.name)
    return sorted(out.values(), key=lambda t: (t.vcenter, -t.snapshot_bytes, t.datastore))
